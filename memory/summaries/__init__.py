"""Offline task-aware summaries.

What a summary may state, and how summaries are generated, stored and kept fresh.
"""

"""Recommendation: catalog, interactions, multi-interest and collaborative ranking, feedback."""

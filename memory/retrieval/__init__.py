"""Retrieval: candidates from the vector index and full text, ranked and fused, per user."""

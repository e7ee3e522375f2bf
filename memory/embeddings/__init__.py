"""Embedders: the text model behind dense retrieval, and the optional image model."""

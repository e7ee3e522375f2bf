"""Vector indexes behind dense retrieval.

The ``VectorIndex`` protocol, the embedded index, and search inside PostgreSQL with pgvector.
"""

"""Personal memory: records, stores, vector index, embedders, extraction."""

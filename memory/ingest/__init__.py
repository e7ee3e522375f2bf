"""What goes into the memory.

The raw turn log, retrievable turns and episodes, documents, and the facts learned from a turn.
"""

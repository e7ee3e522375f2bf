"""Tools the graph calls (F in the personalization pipeline)."""

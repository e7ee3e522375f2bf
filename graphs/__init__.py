"""The agent graph: state, nodes and the builder."""

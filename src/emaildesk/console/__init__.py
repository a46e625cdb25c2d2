"""The agent web console."""

"""Sharing: shared records, sharing groups, restrict(), guarded writes, the contract tests."""

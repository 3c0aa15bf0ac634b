"""Accountable AI: provenance of AI output."""

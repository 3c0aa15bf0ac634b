"""Audit: the hash-chained log and the receivers that write it."""

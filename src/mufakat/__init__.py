"""Mufakat: open platform for ASEAN defence cooperation."""

"""Accounts: log-in with throttling, second factor, password hashing, API tokens."""

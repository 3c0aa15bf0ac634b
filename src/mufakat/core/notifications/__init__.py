"""Notifications: in-app alerts, e-mail and signed webhooks."""

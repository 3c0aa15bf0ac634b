"""The core's events for modules to listen to (Django signals); connect in AppConfig.ready()."""

from __future__ import annotations

from django.dispatch import Signal

# Sent by services.set_sharing inside its transaction, after a record's audience changed:
# sender = the model, instance = the record, actor = the user who changed it. A module uses it
# to alert whoever the record now reaches (notifications.notify(..., once=True)).
record_shared = Signal()

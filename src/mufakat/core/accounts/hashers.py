"""Password hashing sized for the modest servers this platform runs on.

Django's Argon2 defaults (102400 KiB, 2 passes, 8 lanes) took 0.65 s per log-in on a 2-core
server; under ASGI, each worker runs sync views one at a time, so a burst of log-ins stalled
every other page for seconds (benchmarks/README.md). These are the argon2id parameters of the
OWASP Password Storage Cheat Sheet (19 MiB, 2 passes, 1 lane): about 30 ms. Stored hashes with
other parameters still verify and are upgraded at the next successful log-in.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class ServerArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1

"""ASGI entry point: Django's WSGI handler on a fixed pool of threads, bridged by a2wsgi.

Every Mufakat view and middleware is synchronous. Django's own ASGI handler runs such code in a
fresh thread per request, hands each sync-only middleware back and forth between that thread
and the event loop, and (without a pool) opens a new database connection per request. Measured
with `mufakat serve` on this application's request mix, that cost about 24 ms of server CPU per
request against about 15 ms through this bridge (benchmarks/README.md). The bridge runs the whole
request, middleware included, in one of REQUEST_THREADS long-lived threads, each with its own
persistent database connection (SQLite) or a pooled one (PostgreSQL); uvicorn still owns the
sockets, HTTP parsing and slow clients.
"""

import os

from a2wsgi import WSGIMiddleware
from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from mufakat.config import REQUEST_THREADS

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mufakat.settings")

# django-stubs types the handler as returning HttpResponseBase, which is an iterable of bytes.
application = WSGIMiddleware(get_wsgi_application(), workers=REQUEST_THREADS)  # type: ignore[arg-type]

# Django imports the URLconf (every module's views and the API schema) on the first request,
# about 1.4 s here: the first requests of a fresh worker all waited for it, which made the
# log-in burst of the load benchmark. Importing it now moves that wait before the worker
# accepts connections (benchmarks/README.md).
get_resolver().url_patterns  # noqa: B018 - the import is the point

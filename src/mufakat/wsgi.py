import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mufakat.settings")
application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 - import every URL before serving, see mufakat/asgi.py

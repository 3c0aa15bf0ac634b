"""Django settings. Instance values come from mufakat.config; nothing here is per-deployment."""

from __future__ import annotations

from pathlib import Path

from django.utils.csp import CSP  # type: ignore[import-untyped,unused-ignore]
from django.utils.translation import gettext_lazy as _

from mufakat import config

CONFIG = config.load()
BASE_DIR = Path(__file__).resolve().parent
CONFIG.data_dir.mkdir(parents=True, exist_ok=True)

SECRET_KEY = CONFIG.secret_key
DEBUG = CONFIG.debug
ALLOWED_HOSTS = CONFIG.allowed_hosts
CSRF_TRUSTED_ORIGINS = CONFIG.csrf_trusted_origins

# Feature modules: one Django app each. The UI shell and the API discover them from here.
MUFAKAT_MODULES: list[str] = [
    "mufakat.cui",
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",  # Swagger UI from local static files (no CDN: the CSP and offline sites forbid it)
    "django_htmx",
    "django_tasks_db",
    "mufakat.core",
    *MUFAKAT_MODULES,
]

MIDDLEWARE = [
    "mufakat.core.ops.middleware.RequestContextMiddleware",
    "mufakat.core.ops.inputguard.RejectNulMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mufakat.core.ops.middleware.SessionSecurityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "mufakat.core.ops.busy.BusyDatabaseMiddleware",
]

ROOT_URLCONF = "mufakat.urls"
WSGI_APPLICATION = "mufakat.wsgi.application"
ASGI_APPLICATION = "mufakat.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mufakat.core.context_processors.shell",
            ],
        },
    }
]

DATABASES = CONFIG.databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "auth.User"
PASSWORD_HASHERS = [
    "mufakat.core.accounts.hashers.ServerArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["mufakat.core.accounts.auth.ThrottledModelBackend"]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:login"

SESSION_COOKIE_AGE = CONFIG.session_seconds
# Idle expiry: SessionSecurityMiddleware pushes the deadline forward every few minutes of use.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CONFIG.secure_cookies
CSRF_COOKIE_SECURE = CONFIG.secure_cookies
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-free meta tag; kept default
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if CONFIG.env == "production":
    SECURE_SSL_REDIRECT = CONFIG.secure_cookies
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Everything is served from this origin: no CDN, no inline script.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],  # Leaflet sets inline styles on map panes
    "img-src": [CSP.SELF, "data:", "blob:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

DATA_UPLOAD_MAX_MEMORY_SIZE = CONFIG.max_upload_mb * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
MUFAKAT_MAX_UPLOAD_BYTES = CONFIG.max_upload_mb * 1024 * 1024
MEDIA_ROOT = CONFIG.data_dir / "media"
# Absolute links in e-mail and webhook alerts (relative links mean nothing in a mail client).
MUFAKAT_SITE_URL = CONFIG.site_url
MEDIA_URL = "/media/"

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("id", _("Bahasa Indonesia")),
    ("vi", _("Tiếng Việt")),
    ("ms", _("Bahasa Melayu")),
    ("th", _("ภาษาไทย")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = CONFIG.data_dir / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # filled by `collectstatic`; WhiteNoise warns when it is absent
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "mufakat.core.ops.staticfinders.VendorFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Straight from packages only until `collectstatic` (run by `mufakat serve`/`demo`, or by a
# deployment) has filled STATIC_ROOT: finders would shadow its gzip/Brotli copies.
WHITENOISE_USE_FINDERS = not any(STATIC_ROOT.iterdir())

TASKS: dict[str, dict[str, object]] = {
    "default": (
        {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}
        if CONFIG.redis_url
        else {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    ),
    # Runs a task in the calling thread: the CLI and tests run jobs eagerly through it.
    "immediate": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"},
}
# The TASKS alias that core.jobs.start() queues jobs on.
MUFAKAT_JOBS_BACKEND = "default"
if CONFIG.redis_url:
    # django_rq runs the workers; django_tasks_rq bridges django.tasks to RQ (its Job class must
    # be given to the worker, see mufakat.cli.worker_command).
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {"default": {"URL": CONFIG.redis_url, "DEFAULT_TIMEOUT": 600}}
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CONFIG.redis_url,
        }
    }
elif CONFIG.postgresql:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "mufakat_cache",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Django 6.1 mailer configuration (EMAIL_BACKEND/EMAIL_FILE_PATH are deprecated). Without a
# configured backend, mail is written as files to the data folder: nothing leaves the machine.
MAILERS = {
    "default": (
        {"BACKEND": CONFIG.email_backend}
        if CONFIG.email_backend
        else {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(CONFIG.data_dir / "mail")},
        }
    )
}
DEFAULT_FROM_EMAIL = "Mufakat <no-reply@mufakat.invalid>"

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 500
NINJA_PAGINATION_CLASS = "mufakat.pagination.BoundedLimitOffsetPagination"

# The accountable-AI runtime (core.ai); an empty base URL means no LLM: callers fall back.
MUFAKAT_LLM_BASE_URL = CONFIG.llm_base_url
MUFAKAT_LLM_MODEL = CONFIG.llm_model
MUFAKAT_LLM_API_KEY = CONFIG.llm_api_key
MUFAKAT_LLM_TIMEOUT_SECONDS = CONFIG.llm_timeout_seconds

# Login throttling (core.auth): failures per account and per client address in the window.
MUFAKAT_LOGIN_MAX_FAILURES = 5
MUFAKAT_LOGIN_WINDOW_SECONDS = 900

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "mufakat.core.ops.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "mufakat.core.ops.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if CONFIG.log_json else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": CONFIG.log_level},
    "loggers": {
        # Replaces Django's default DEBUG-only console handler, which would print every line twice.
        "django": {"handlers": ["console"], "level": CONFIG.log_level, "propagate": False},
        "django.db.backends": {"level": "INFO"},
    },
}

"""Typed instance configuration, read once from the environment.

Every knob an operator can turn lives here with its default and meaning, so settings.py holds no
instance values and the docs can list them from one place.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

# A secret that a careless deployment could ship with; refused outside development.
DEV_SECRET = "mufakat-development-only-secret-not-for-production-use-0000000000"  # noqa: S105
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", DEV_SECRET})


@dataclass(frozen=True)
class Setting:
    """One documented environment variable."""

    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("MUFAKAT_ENV", "development", "development, test or production"),
    Setting(
        "MUFAKAT_SECRET_KEY",
        "",
        "Django secret key; required and non-placeholder outside development",
    ),
    Setting("MUFAKAT_DATA_DIR", "./var", "folder for the SQLite database, uploads and backups"),
    Setting(
        "DATABASE_URL",
        "",
        "postgresql://user:pass@host:port/db, or sqlite:////absolute/file.sqlite3; "
        "empty means SQLite in the data folder",
    ),
    Setting(
        "REDIS_URL", "", "redis://host:port/db; when set, background tasks run on a Redis queue"
    ),
    Setting(
        "MUFAKAT_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]", "comma-separated host names served"
    ),
    Setting("MUFAKAT_CSRF_TRUSTED_ORIGINS", "", "comma-separated origins behind a TLS proxy"),
    Setting("MUFAKAT_SECURE_COOKIES", "", "1 to mark cookies Secure (default on in production)"),
    Setting("MUFAKAT_SESSION_SECONDS", "28800", "idle session lifetime in seconds"),
    Setting("MUFAKAT_MAX_UPLOAD_MB", "20", "largest accepted upload in MiB"),
    Setting(
        "MUFAKAT_EMAIL_BACKEND",
        "",
        "Django e-mail backend path; default writes mail to the data folder",
    ),
    Setting(
        "MUFAKAT_SITE_URL",
        "http://localhost:8000",
        "address users reach the site at (scheme://host[:port]); links in e-mail and webhooks use it",
    ),
    Setting("MUFAKAT_LOG_LEVEL", "INFO", "root log level"),
    Setting("MUFAKAT_LOG_JSON", "", "1 for one JSON object per log line"),
    Setting(
        "MUFAKAT_LLM_BASE_URL",
        "",
        "OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1; empty means no AI features",
    ),
    Setting("MUFAKAT_LLM_MODEL", "", "model name sent to the LLM server"),
    Setting("MUFAKAT_LLM_API_KEY", "", "bearer key for the LLM server, if it wants one"),
    Setting("MUFAKAT_LLM_TIMEOUT_SECONDS", "60", "seconds to wait for one LLM answer"),
)

ENVIRONMENTS = ("development", "test", "production")


def _env(name: str) -> str:
    for s in SETTINGS:
        if s.name == name:
            return os.environ.get(name, s.default)
    raise KeyError(name)


# Threads per server process that run requests (mufakat.asgi); each keeps one database
# connection, so the PostgreSQL pool holds as many.
REQUEST_THREADS = 8


def sqlite_database(path: Path) -> dict[str, object]:
    """Django DATABASES entry for a SQLite file, tuned for several processes sharing it."""
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        # Requests run on a fixed set of threads (mufakat.asgi), so a connection per thread is
        # kept instead of being opened, set up (PRAGMAs, functions) and closed per request.
        "CONN_MAX_AGE": None,
        "OPTIONS": {
            # Writers queue for the lock instead of failing with "database is locked".
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
            ),
        },
        "TEST": {"NAME": path.with_name("test-" + path.name)},
    }


def database_from_url(url: str) -> dict[str, object]:
    """Django DATABASES entry for a PostgreSQL URL or a sqlite:////absolute/path URL."""
    u = urlsplit(url)
    if u.scheme == "sqlite":
        path = unquote(u.path)
        if u.netloc or not path.startswith("/") or path == "/":
            raise ImproperlyConfigured(
                "DATABASE_URL: write a SQLite file as sqlite:////absolute/path.sqlite3"
            )
        return sqlite_database(Path(path))
    if u.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL: unsupported scheme {u.scheme!r} (use postgresql:// or sqlite:///)"
        )
    name = unquote(u.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured("DATABASE_URL: no database name after the host")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(u.username or ""),
        "PASSWORD": unquote(u.password or ""),
        "HOST": u.hostname or "",
        "PORT": str(u.port or ""),
        # Under Django's own ASGI handler each request ran in a fresh thread, so per-thread
        # persistent connections (CONN_MAX_AGE) leaked one connection per request until
        # PostgreSQL refused clients ("too many clients already"). A per-process pool reuses a
        # few connections, whatever thread model serves the request.
        "CONN_MAX_AGE": 0,
        "OPTIONS": {"pool": {"min_size": 1, "max_size": REQUEST_THREADS, "timeout": 20}},
        "TEST": {"NAME": f"test_{name}"},
    }


@dataclass(frozen=True)
class Config:
    """The validated instance configuration."""

    env: str
    secret_key: str
    data_dir: Path
    database_url: str
    redis_url: str
    allowed_hosts: list[str]
    csrf_trusted_origins: list[str]
    secure_cookies: bool
    session_seconds: int
    max_upload_mb: int
    email_backend: str
    site_url: str
    log_level: str
    log_json: bool
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    llm_timeout_seconds: float = 60.0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def debug(self) -> bool:
        return self.env == "development"

    def databases(self) -> dict[str, dict[str, object]]:
        if self.database_url:
            return {"default": database_from_url(self.database_url)}
        return {"default": sqlite_database(self.data_dir / "mufakat.sqlite3")}

    @property
    def postgresql(self) -> bool:
        return urlsplit(self.database_url).scheme in {"postgres", "postgresql"}


def _int(name: str) -> int:
    raw = _env(name)
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None


def _csv(name: str) -> list[str]:
    return [p.strip() for p in _env(name).split(",") if p.strip()]


def _site_url() -> str:
    raw = _env("MUFAKAT_SITE_URL").strip().rstrip("/")
    u = urlsplit(raw)
    if u.scheme not in {"http", "https"} or not u.hostname or u.path or u.query or u.fragment:
        raise ImproperlyConfigured(
            f"MUFAKAT_SITE_URL must be scheme://host[:port] with no path, got {raw!r}"
        )
    return raw


def load() -> Config:
    """Read and validate the environment; raise ImproperlyConfigured naming the bad key."""
    env = _env("MUFAKAT_ENV")
    if env not in ENVIRONMENTS:
        raise ImproperlyConfigured(
            f"MUFAKAT_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}"
        )
    secret = _env("MUFAKAT_SECRET_KEY")
    if env == "production":
        if secret in PLACEHOLDER_SECRETS or len(secret) < 50:
            raise ImproperlyConfigured(
                "MUFAKAT_SECRET_KEY is missing, a placeholder or shorter than 50 characters; "
                "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(64))'"
            )
    elif not secret:
        secret = DEV_SECRET
    data_dir = Path(_env("MUFAKAT_DATA_DIR")).expanduser().resolve()
    secure = _env("MUFAKAT_SECURE_COOKIES")
    return Config(
        env=env,
        secret_key=secret,
        data_dir=data_dir,
        database_url=_env("DATABASE_URL"),
        redis_url=_env("REDIS_URL"),
        allowed_hosts=_csv("MUFAKAT_ALLOWED_HOSTS"),
        csrf_trusted_origins=_csv("MUFAKAT_CSRF_TRUSTED_ORIGINS"),
        secure_cookies=(secure == "1") if secure else env == "production",
        session_seconds=_int("MUFAKAT_SESSION_SECONDS"),
        max_upload_mb=_int("MUFAKAT_MAX_UPLOAD_MB"),
        email_backend=_env("MUFAKAT_EMAIL_BACKEND"),
        site_url=_site_url(),
        log_level=_env("MUFAKAT_LOG_LEVEL").upper(),
        log_json=_env("MUFAKAT_LOG_JSON") == "1",
        llm_base_url=_llm_base_url(),
        llm_model=_env("MUFAKAT_LLM_MODEL").strip(),
        llm_api_key=_env("MUFAKAT_LLM_API_KEY"),
        llm_timeout_seconds=_positive_float("MUFAKAT_LLM_TIMEOUT_SECONDS"),
    )


def _llm_base_url() -> str:
    url = _env("MUFAKAT_LLM_BASE_URL").strip().rstrip("/")
    if url and (urlsplit(url).scheme not in {"http", "https"} or not urlsplit(url).hostname):
        raise ImproperlyConfigured(
            f"MUFAKAT_LLM_BASE_URL must be an http(s) URL such as http://127.0.0.1:8080/v1, got {url!r}"
        )
    return url


def _positive_float(name: str) -> float:
    raw = _env(name)
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not (value > 0 and math.isfinite(value)):
        raise ImproperlyConfigured(f"{name} must be a positive number of seconds, got {raw!r}")
    return value

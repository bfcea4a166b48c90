"""Django settings for Ballast, all read from the environment (README lists the variables).

With nothing set Ballast runs self-contained: SQLite in WAL mode under var/, and the embedded
Redis that `manage.py up` starts on var/redis.sock. DATABASE_URL and REDIS_URL switch to real
servers; that is all it takes to run several Daphne and worker processes on several machines.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_number, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("BALLAST_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _local_secret(name: str) -> str:
    """A random secret kept under var/, for runs that set none in the environment."""
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY") or _local_secret("secret_key")
# API keys of exchange accounts are encrypted with this; losing it means entering them again.
CREDENTIALS_KEY = env_str("CREDENTIALS_KEY") or SECRET_KEY
ALLOWED_HOSTS = [h.strip() for h in env_str("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in env_str("CSRF_TRUSTED_ORIGINS").split(",") if o.strip()
]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "bots",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
ASGI_APPLICATION = "dashboard.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database(url: str) -> dict:
    if not url or url.startswith("sqlite://"):
        return {
            "ENGINE": "django.db.backends.sqlite3",
            # sqlite:////absolute/path.sqlite3 names another file (the tests' processes use it).
            "NAME": urlsplit(url).path if url else VAR_DIR / "ballast.sqlite3",
            # Several processes write: WAL lets readers run beside the writer, IMMEDIATE takes
            # the write lock up front instead of failing on an upgrade, and writers wait 20 s.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")},
        }
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name:
        raise ImproperlyConfigured(f"DATABASE_URL names no database: {url!r}")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(name),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


DATABASES = {"default": _database(env_url("DATABASE_URL", ("postgres", "postgresql", "sqlite")))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One Redis carries the Celery broker, the channel layer and the per-market tick locks.
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis.sock"
REDIS_URL = env_url("REDIS_URL", ("redis", "rediss", "unix")) or f"unix://{EMBEDDED_REDIS_SOCKET}"


def _celery_broker(url: str) -> str:
    # kombu spells a unix socket redis+socket:///path; redis-py and channels_redis say unix://.
    return "redis+socket://" + url.removeprefix("unix://") if url.startswith("unix://") else url


CHANNEL_LAYERS = {
    "default": {
        # The pub/sub layer holds two Redis connections however many pages are open.
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [{"address": REDIS_URL}]},
    }
}

CELERY_BROKER_URL = _celery_broker(REDIS_URL)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
TICK_SECONDS = env_number("BALLAST_TICK_SECONDS", 1.0, 0.2, 60.0)
CELERY_BEAT_SCHEDULE = {
    "market-making ticks": {"task": "bots.tasks.tick_all_markets", "schedule": TICK_SECONDS},
    "outside market": {"task": "bots.tasks.move_outside_markets", "schedule": 1.0},
    "simulated users": {"task": "bots.tasks.simulate_users", "schedule": 1.0},
    "hedge sweeper": {"task": "bots.tasks.sweep_hedges", "schedule": 10.0},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns at every start when it is missing

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # collectstatic writes .gz beside each file; whitenoise serves those to browsers that take gzip.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

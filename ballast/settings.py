"""Django settings for Ballast, all read from the environment (docs/operations.md lists them).

With nothing set Ballast runs self-contained: SQLite in WAL mode under var/, and the embedded
Redis that `manage.py up` starts on var/redis.sock. DATABASE_URL and REDIS_URL switch to real
servers; that is all it takes to run several Daphne and worker processes on several machines.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from ballast import var_folder
from ballast.env import env_bool, env_choice, env_networks, env_number, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
# The folder is 0700 and what Ballast creates in it 0600 (ballast/var_folder.py).
VAR_DIR = var_folder.prepare(
    Path(env_str("BALLAST_VAR_DIR", str(BASE_DIR / "var"))), tighten="BALLAST_VAR_DIR" not in os.environ
)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY") or var_folder.local_secret(VAR_DIR, "secret_key")
# API keys of exchange accounts are encrypted with this; losing it means entering them again.
CREDENTIALS_KEY = env_str("CREDENTIALS_KEY") or SECRET_KEY
ALLOWED_HOSTS = [h.strip() for h in env_str("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in env_str("CSRF_TRUSTED_ORIGINS").split(",") if o.strip()
]

INSTALLED_APPS = [
    "daphne",
    "dashboard.apps.BallastAdminConfig",  # Django's admin, for the admin role only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "bots",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "ballast.content_security_policy.content_security_policy",  # CONTENT_SECURITY_POLICY below
    "ballast.static_files.CollectedFirstWhiteNoiseMiddleware",  # whitenoise, .gz after collectstatic
    "ballast.nul_guard.refuse_nul",  # a NUL in any field: 400 before any view reaches the database
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "dashboard.desk.two_factor_views.require_two_factor",  # operators and admins: a code first
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "ballast.urls"
ASGI_APPLICATION = "ballast.asgi.application"

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
                "dashboard.context_processors.desk",
            ],
        },
    },
]


def _database(url: str) -> dict:
    if not url or url.startswith("sqlite://"):
        return {
            "ENGINE": "django.db.backends.sqlite3",
            # sqlite:////absolute/path.sqlite3 names another file (the tests' processes use it).
            "NAME": urlsplit(url).path if url else var_folder.private_file(VAR_DIR / "ballast.sqlite3"),
            # Several processes write: WAL lets readers run beside the writer, IMMEDIATE takes
            # the write lock up front instead of failing on an upgrade, and writers wait 20 s.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")},
        }
    # dj-database-url keeps the query string as OPTIONS (?sslmode=require, connect_timeout, ...).
    config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if not config["NAME"]:
        raise ImproperlyConfigured(f"DATABASE_URL names no database: {url!r}")
    return config


DATABASES = {"default": _database(env_url("DATABASE_URL", ("postgres", "postgresql", "sqlite")))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One Redis carries the Celery broker, the channel layer and the per-market tick locks.
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis.sock"
REDIS_URL = env_url("REDIS_URL", ("redis", "rediss", "unix")) or f"unix://{EMBEDDED_REDIS_SOCKET}"


def _celery_broker(url: str) -> str:
    # kombu spells a unix socket redis+socket:///path?virtual_host=N; redis-py and channels_redis
    # say unix:///path?db=N (kombu would take db= and still use database 0).
    if not url.startswith("unix://"):
        return url
    parts = urlsplit(url)
    query = "&".join(
        "virtual_host=" + item.removeprefix("db=") if item.startswith("db=") else item
        for item in parts.query.split("&") if item
    )
    return "redis+socket://" + parts.path + (f"?{query}" if query else "")


CHANNEL_LAYERS = {
    "default": {
        # The pub/sub layer holds two Redis connections however many pages are open.
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [{"address": REDIS_URL}]},
    }
}

# Django's cache, in the same Redis: the public simulation (/demo) keeps each visitor's run there.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "ballast",
    }
}

CELERY_BROKER_URL = _celery_broker(REDIS_URL)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# Celery's Django fixup otherwise closes the database connection before and after every task,
# so each hedge would pay a new connection (on PostgreSQL a TCP connect and log-in): reuse it,
# closing it every 1,000 tasks. A connection that died fails one task and is closed after it
# (ballast/celery.py), so the next task connects afresh.
CELERY_DB_REUSE_MAX = 1000
# kombu keeps each message a worker takes in a Redis hash until its ack, to hand it out again an
# hour (the visibility timeout) after a worker dies holding it: a Redis transaction before every
# task starts and another after it ends. The hedging worker runs without it
# (BALLAST_BROKER_ACK_EMULATION=0, set by `manage.py up`; docs/operations.md): its work survives
# a killed worker through the outbox instead (a captured fill's hedge intent is committed with it;
# the sweeper queues again, within seconds, any intent left unfinished; the next tick captures a
# fill whose capture task was lost), and that transaction was a fifth of the broker hop. So does
# the ticks worker: a tick lost with its worker is replaced by the next beat or move (the lock's
# expiry frees the market; an order it left "sending" is looked up by the next tick). A worker
# stopped gently still puts back what it held. Every other worker keeps it (on by default).
CELERY_BROKER_TRANSPORT_OPTIONS = {"ack_emulation": env_bool("BALLAST_BROKER_ACK_EMULATION", True)}
# Fill capture and hedges have a queue of their own, so that a worker given only that queue
# (`celery worker -Q hedging`) never makes a hedge wait behind a page refresh; so have market
# ticks (`-Q ticks`), so that a move's tick never waits behind a balance read, a page push or a
# sizing run. A worker started without -Q consumes every one of these queues, so neither is
# ever left without a worker.
TICKS_QUEUE = "ticks"
CELERY_TASK_QUEUES = {"celery": {}, "hedging": {}, TICKS_QUEUE: {}}
# The public demo's steps (/demo) go to a queue of their own that is NOT in CELERY_TASK_QUEUES,
# so a worker started without -Q never takes one: only the demo's own worker (`-Q demo`, started
# by `manage.py up` at a lower priority) runs them, and anonymous visitors cannot slow the desk.
DEMO_QUEUE = "demo"
CELERY_TASK_ROUTES = {
    "bots.tasks.hedge_fill": {"queue": "hedging"},
    "bots.tasks.capture_market_fills": {"queue": "hedging"},
    "bots.tasks.mm_tick": {"queue": TICKS_QUEUE},
    "dashboard.tasks.demo_request": {"queue": DEMO_QUEUE},
}
# How long a /demo request waits for the demo's worker before answering 503 (a step not started
# by then is dropped), and how many anonymous requests one client address may make a minute:
# runs started (a page with a link, a reset) and steps (an action, a page view). 0: no limit.
DEMO_TIMEOUT_SECONDS = env_number("BALLAST_DEMO_TIMEOUT_SECONDS", 10.0, 1.0, 120.0)
DEMO_RUNS_PER_MINUTE = int(env_number("BALLAST_DEMO_RUNS_PER_MINUTE", 10, 0, 100000))
DEMO_STEPS_PER_MINUTE = int(env_number("BALLAST_DEMO_STEPS_PER_MINUTE", 240, 0, 100000))
TICK_SECONDS = env_number("BALLAST_TICK_SECONDS", 1.0, 0.2, 60.0)
# The dead man's switch (bots.market_making.dead_man): a market whose ticks stop this long has its quotes
# pulled, by the `deadman` process and by the venue itself where it can (cancelAllOrdersAfter).
# Unset, 10 s or three ticks, whichever is longer.
DEADMAN_SECONDS = env_number("BALLAST_DEADMAN_SECONDS", max(10.0, 3 * TICK_SECONDS), 3.0, 600.0)
if DEADMAN_SECONDS < 3 * TICK_SECONDS:
    raise ImproperlyConfigured(
        f"BALLAST_DEADMAN_SECONDS ({DEADMAN_SECONDS:g}) must be at least 3 times BALLAST_TICK_SECONDS "
        f"({TICK_SECONDS:g}), or every market's quotes would be pulled between two ticks"
    )
CELERY_BEAT_SCHEDULE = {
    "market-making ticks": {"task": "bots.tasks.tick_all_markets", "schedule": TICK_SECONDS},
    "outside market": {"task": "bots.tasks.move_outside_markets", "schedule": 1.0},
    "simulated users": {"task": "bots.tasks.simulate_users", "schedule": 1.0},
}
# Every request to a ccxt exchange takes from a budget per exchange host shared by all processes
# through Redis (bots.venues.limiter): this share of the exchange's limit a minute; of its ten
# seconds' burst, this share only hedges and stop commands may use; a request waits at most this
# long for room before it fails as rate limited (transient: retried later).
REQUEST_BUDGET_SHARE = env_number("BALLAST_REQUEST_BUDGET_SHARE", 0.8, 0.05, 1.0)
HEDGE_RESERVE_SHARE = env_number("BALLAST_HEDGE_RESERVE_SHARE", 0.25, 0.0, 0.9)
REQUEST_WAIT_SECONDS = env_number("BALLAST_REQUEST_WAIT_SECONDS", 2.0, 0.0, 60.0)
# The stream process (manage.py stream, bots/streams): a streamed hedge book older than this, by
# the venue's own time, is not used; ticks and hedges fetch the book by REST instead (a tick
# also holds to its market's own stale limit, whichever is shorter).
STREAM_BOOK_STALE_SECONDS = env_number("BALLAST_STREAM_BOOK_STALE_SECONDS", 5.0, 0.5, 300.0)
# Hosts a venue's URL override may point at (bots/venues/venue_options.py): the local stubs and,
# when listed, an exchange's testnet. Keys go wherever these URLs say, so nothing else is allowed.
VENUE_URL_HOSTS = frozenset(
    h.strip() for h in env_str("BALLAST_VENUE_URL_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()
)
# An account's balance is read once for every market and process (bots/venues/stream_state.py):
# while its balance stream is live, the streamed one serves for at most this long without news;
# read by REST, it serves this long (one tick by default). Either only if read after the desk's
# last order or cancel on the account.
STREAM_BALANCE_STALE_SECONDS = env_number("BALLAST_STREAM_BALANCE_STALE_SECONDS", 60.0, 1.0, 3600.0)
BALANCE_SHARE_SECONDS = env_number("BALLAST_BALANCE_SHARE_SECONDS", TICK_SECONDS, 0.0, 60.0)
# The stream process reads each streamed market's trades by REST this often, from a little before
# the last such read: a trade none of whose messages came is captured then (0: never).
STREAM_FILL_AUDIT_SECONDS = env_number("BALLAST_STREAM_FILL_AUDIT_SECONDS", 60.0, 0.0, 3600.0)
# A market's tick queued by a streamed reference move at most this often (milliseconds).
STREAM_TICK_MIN_MS = int(env_number("BALLAST_STREAM_TICK_MIN_MS", 100.0, 0.0, 10000.0))
# How many of an account's order requests (places, cancels) a tick has in flight at once on a
# real exchange (bots/venues/at_once.py); 1 sends them one after another.
VENUE_REQUESTS_AT_ONCE = int(env_number("BALLAST_VENUE_REQUESTS_AT_ONCE", 4, 1, 16))
# Hedge intents untouched this long and not final are queued again (bots.hedging.reconcile.due_for_sweep).
HEDGE_SWEEP_SECONDS = env_number("BALLAST_HEDGE_SWEEP_SECONDS", 10.0, 1.0, 3600.0)
CELERY_BEAT_SCHEDULE |= {
    "hedge sweeper": {"task": "bots.tasks.sweep_hedges", "schedule": max(1.0, HEDGE_SWEEP_SECONDS / 2)},
    "hedge reconciliation": {"task": "bots.tasks.reconcile_hedges", "schedule": 60.0},
}

# Liquidity health: every market's book sampled and graded against its targets (bots.desk.health).
HEALTH_SAMPLE_SECONDS = env_number("BALLAST_HEALTH_SECONDS", 5.0, 1.0, 300.0)
REFERENCE_STALE_SECONDS = env_number("BALLAST_REFERENCE_STALE_SECONDS", 120.0, 5.0, 3600.0)
# A spread or depth breach raises its alert only once this many samples in a row saw it: a fill
# takes a quote level out for a few seconds, and one sample catching that is no incident.
LIQUIDITY_ALERT_SAMPLES = int(env_number("BALLAST_LIQUIDITY_ALERT_SAMPLES", 3, 1, 100))
HEARTBEAT_SECONDS = 10.0
WORKER_SILENT_SECONDS = env_number("BALLAST_WORKER_SILENT_SECONDS", 60.0, 30.0, 3600.0)
CELERY_BEAT_SCHEDULE |= {
    "market health": {"task": "bots.tasks.sample_health", "schedule": HEALTH_SAMPLE_SECONDS},
    "worker heartbeat": {"task": "bots.tasks.heartbeat", "schedule": HEARTBEAT_SECONDS},
    "prune health samples": {"task": "bots.tasks.prune_health_samples", "schedule": 3600.0},
    "clear expired sessions": {"task": "bots.tasks.clear_expired_sessions", "schedule": 3600.0},
}

# Beat, two or more of them with one active (issue 15; ballast/beat.py): celery-redbeat keeps the
# schedule and a lock in Redis. A dead beat's lock expires after BALLAST_BEAT_LOCK_SECONDS and a
# standby takes over; each tick extends it, and ticks come at least every second. The `watchdog`
# process raises "beat silent" once no beat has ticked for BALLAST_BEAT_SILENT_SECONDS.
CELERY_BEAT_SCHEDULER = "ballast.beat.Scheduler"
CELERY_BEAT_MAX_LOOP_INTERVAL = 1
CELERY_REDBEAT_REDIS_URL = REDIS_URL  # redis-py's spelling: unix:// for the embedded Redis
BEAT_LOCK_SECONDS = env_number("BALLAST_BEAT_LOCK_SECONDS", 10.0, 3.0, 300.0)
CELERY_REDBEAT_LOCK_TIMEOUT = BEAT_LOCK_SECONDS
BEAT_SILENT_SECONDS = env_number("BALLAST_BEAT_SILENT_SECONDS", 30.0, 6.0, 3600.0)
if BEAT_SILENT_SECONDS < 2 * BEAT_LOCK_SECONDS:
    raise ImproperlyConfigured(
        f"BALLAST_BEAT_SILENT_SECONDS ({BEAT_SILENT_SECONDS:g}) must be at least twice "
        f"BALLAST_BEAT_LOCK_SECONDS ({BEAT_LOCK_SECONDS:g}), or a standby taking over would be "
        "reported as beat silent"
    )

# Alerts go to the NotificationChannel rows admins set up; these say how to reach them.
BALLAST_SITE_URL = env_url("BALLAST_SITE_URL", ("http", "https")) or "http://127.0.0.1:8000"
ALERT_WEBHOOK_TIMEOUT = env_number("ALERT_WEBHOOK_TIMEOUT", 5.0, 0.5, 60.0)
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = int(env_number("EMAIL_PORT", 587, 1, 65535))
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true: set EMAIL_USE_TLS=false")
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ballast@localhost")

# Failed log-ins, counted in Redis, before the form refuses a username from one address (or the
# address) a while.
LOGIN_FAILURES_PER_USER = int(env_number("LOGIN_FAILURES_PER_USER", 5, 1, 1000))
LOGIN_FAILURES_PER_ADDRESS = int(env_number("LOGIN_FAILURES_PER_ADDRESS", 20, 1, 10000))
LOGIN_LOCKOUT_MINUTES = env_number("LOGIN_LOCKOUT_MINUTES", 15.0, 1.0, 1440.0)

# Rebalancing (bots.treasury.rebalancing): how often the planner runs, how often transfers on their way
# are checked for arrival, and how long a newly whitelisted address waits before automatic
# withdrawals may use it.
REBALANCE_PLAN_SECONDS = env_number("BALLAST_REBALANCE_PLAN_SECONDS", 60.0, 10.0, 3600.0)
TRANSFER_WATCH_SECONDS = env_number("BALLAST_TRANSFER_WATCH_SECONDS", 10.0, 2.0, 600.0)
WHITELIST_COOLING_HOURS = env_number("BALLAST_WHITELIST_COOLING_HOURS", 24.0, 0.0, 720.0)
CELERY_BEAT_SCHEDULE |= {
    "rebalance planner": {"task": "bots.tasks.plan_rebalance", "schedule": REBALANCE_PLAN_SECONDS},
    "transfer watch": {"task": "bots.tasks.watch_transfers", "schedule": TRANSFER_WATCH_SECONDS},
}
# Price-action interventions (bots.interventions): how often each market's detectors run; the
# sweeper queues a slice a lost task left overdue.
INTERVENTION_DETECT_SECONDS = env_number("BALLAST_INTERVENTION_DETECT_SECONDS", 60.0, 5.0, 3600.0)
CELERY_BEAT_SCHEDULE |= {
    "intervention detectors": {
        "task": "bots.tasks.detect_interventions", "schedule": INTERVENTION_DETECT_SECONDS,
    },
    "intervention sweeper": {"task": "bots.tasks.sweep_interventions", "schedule": 5.0},
}
# Withdrawal networks, fees and minimums read from the exchanges (bots.treasury.network_facts):
# how often; what differs waits for an admin before the planner uses it.
NETWORK_TERMS_HOURS = env_number("BALLAST_NETWORK_TERMS_HOURS", 24.0, 1.0, 168.0)
CELERY_BEAT_SCHEDULE |= {
    "withdrawal network terms": {
        "task": "bots.tasks.refresh_network_terms", "schedule": NETWORK_TERMS_HOURS * 3600,
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "dashboard.admin_site.AdminRoleBackend",  # the admin role may use every page of Django's admin
]
LOGIN_URL = "login"
# Two-factor log-in (TOTP, with recovery codes) for operators and admins (docs/treasury.md).
# Off only for development, by saying so.
TWO_FACTOR = env_bool("BALLAST_TWO_FACTOR", True)
OTP_TOTP_ISSUER = "Ballast"
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

# --- Hardened defaults (issue 15) -------------------------------------------------------------
# docs/operations.md#production-settings says what to set. Production mode is DEBUG off with a
# host that is not loopback; the demo (nothing set) is neither.
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
PRODUCTION = not DEBUG and any(
    h not in _LOOPBACK_HOSTS and not h.startswith("127.") and not h.endswith(".localhost")
    for h in ALLOWED_HOSTS
)
if PRODUCTION and (not env_str("CREDENTIALS_KEY") or CREDENTIALS_KEY == SECRET_KEY):
    raise ImproperlyConfigured(
        "CREDENTIALS_KEY must be set, and differ from SECRET_KEY, when DEBUG is false and "
        f"ALLOWED_HOSTS names a host that is not loopback ({', '.join(ALLOWED_HOSTS)}): it encrypts "
        "the exchange API keys, and a leaked SECRET_KEY should not also reveal them. Make one with "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'` and keep it apart."
    )

# Log-in limits count per (client address, username) pair and per address (dashboard/desk/
# login_limit.py). Behind reverse proxies, the header they set with the client's address (e.g.
# X-Forwarded-For) and how many proxies there are; unset, the header is never read.
TRUSTED_PROXY_HEADER = env_str("BALLAST_TRUSTED_PROXY_HEADER").strip()
if TRUSTED_PROXY_HEADER and not re.fullmatch(r"[A-Za-z0-9-]+", TRUSTED_PROXY_HEADER):
    raise ImproperlyConfigured(
        f"BALLAST_TRUSTED_PROXY_HEADER must be a header name such as X-Forwarded-For, "
        f"not {TRUSTED_PROXY_HEADER!r}"
    )
TRUSTED_PROXIES = int(env_number("BALLAST_TRUSTED_PROXIES", 1, 1, 10))

# Behind TLS (BALLAST_TLS, or SECURE_PROXY_SSL_HEADER naming the header a proxy that ends TLS
# sets, e.g. X-Forwarded-Proto): cookies only over https, HSTS, and the policy upgrades requests.
_proxy_ssl_header = env_str("SECURE_PROXY_SSL_HEADER").strip()
if _proxy_ssl_header:
    if not re.fullmatch(r"[A-Za-z0-9-]+", _proxy_ssl_header):
        raise ImproperlyConfigured(
            "SECURE_PROXY_SSL_HEADER must be the name of the header a proxy sets to https, such "
            f"as X-Forwarded-Proto, not {_proxy_ssl_header!r}"
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
TLS = env_bool("BALLAST_TLS", False) or bool(_proxy_ssl_header)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = TLS
SECURE_HSTS_SECONDS = int(env_number("BALLAST_HSTS_SECONDS", 31_536_000, 0, 63_072_000)) if TLS else 0
# Every page of the desk passes this (tests/desk/test_pages_pass_the_content_security_policy.py).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        *(["upgrade-insecure-requests"] if TLS else []),
    ]
)
# A session left idle this long is logged out: each request moves its expiry on.
SESSION_COOKIE_AGE = round(env_number("BALLAST_SESSION_IDLE_HOURS", 8.0, 0.25, 720.0) * 3600)
SESSION_SAVE_EVERY_REQUEST = True

# --- Observability: /health/, /metrics and the log format (docs/operations.md) ------------------
# One block, so that the other settings' edits and this one stay apart.
INSTALLED_APPS += ["ballast.observability"]  # its ready() connects the metrics to domain events
# Daphne and every worker write their counters to files here and /metrics sums them
# (prometheus-client's multiprocess mode). prometheus-client reads the variable when it is first
# imported, which is after settings: so the environment is set here, for this process and the
# processes `manage.py up` starts. `up` empties the folder at start (counters restart at zero).
PROMETHEUS_MULTIPROC_DIR = Path(env_str("PROMETHEUS_MULTIPROC_DIR", str(VAR_DIR / "metrics")))
PROMETHEUS_MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(PROMETHEUS_MULTIPROC_DIR)
# /metrics answers a request with `Authorization: Bearer <token>`, or from an allowed address
# (IPs or networks, comma-separated); with neither set it answers nobody.
METRICS_TOKEN = env_str("BALLAST_METRICS_TOKEN")
METRICS_ALLOWED_ADDRESSES = env_networks("BALLAST_METRICS_ALLOWED_ADDRESSES")
# How long /health/ waits for each part (database, Redis, the workers' answers) before it names
# that part as failing: it answers within about this, whatever is down.
HEALTH_CHECK_TIMEOUT = env_number("BALLAST_HEALTH_CHECK_TIMEOUT", 2.0, 0.5, 30.0)
LOG_FORMAT = env_choice("LOG_FORMAT", ("plain", "json"), "plain")
if LOG_FORMAT == "json":
    LOGGING["formatters"]["json"] = {"()": "ballast.observability.json_logs.JsonFormatter"}
    LOGGING["handlers"]["console"]["formatter"] = "json"
# ccxt logs every request and answer, headers included (API keys), at DEBUG; urllib3 and aiohttp
# log URLs with signed query strings. Pinned at WARNING whatever LOG_LEVEL says.
LOGGING["loggers"] |= {
    name: {"level": "WARNING"} for name in ("ccxt", "urllib3", "requests", "aiohttp")
}

"""Linli settings: everything comes from the environment (django-environ).

Two footings run the same code (DESIGN.md principle 7):
- embedded (nothing configured): SQLite, in-memory channel layer, in-memory Celery broker;
- services: DATABASE_URL (PostgreSQL) and REDIS_URL (channel layer, Celery broker, cache).
"""

from pathlib import Path
from typing import Any

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from backend.secret_key import local_secret_key

# Admin classes are written ModelAdmin[Model] for mypy; Django's own classes only accept the
# subscript at run time once django-stubs-ext has made them generic.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)

_LOCAL_HOSTS = ["127.0.0.1", "localhost", "testserver", "[::1]"]
# Without SECRET_KEY, development servers sign with a random key of their own, kept in the
# state directory (backend/secret_key.py, after DATABASES); no published key signs anything.
SECRET_KEY = env.str("SECRET_KEY", default="")
if DEBUG:
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=_LOCAL_HOSTS[:3])
    if "DEBUG" not in env and any(h not in _LOCAL_HOSTS for h in ALLOWED_HOSTS):
        # Public hosts with DEBUG left at its development default (debug pages, development
        # defaults): say DEBUG=0, or DEBUG=1 on purpose.
        raise ImproperlyConfigured("ALLOWED_HOSTS names public hosts but DEBUG is unset (on): set DEBUG=0 and SECRET_KEY.")
else:
    # Production-like: refuse to start without real secrets and hosts (every host and
    # process must share one key, which a file made on one machine cannot promise).
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "corsheaders",
    "graphene_django",
    "graphql_jwt.refresh_token.apps.RefreshTokenConfig",
    "treebeard",
    "phonenumber_field",
    "backend",
    "privacy",
    "notifications",
    "community",
    "volunteers",
    "resources",
    "emergency",
    "console",
]

MIDDLEWARE = [
    # Realtime events a request causes wait until its response has been sent (REALTIME_PUBLISH_IN_BACKGROUND).
    "notifications.realtime.PublishAfterResponseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every HTML page (backend/csp.py); CORS answers before anything
    # else can (django-cors-headers: before WhiteNoise and CommonMiddleware).
    "backend.csp.ContentSecurityPolicyMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Static files (the admin's) from the app server itself, dev and production alike.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "backend.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "backend.urls"
ASGI_APPLICATION = "backend.asgi.application"
AUTH_USER_MODEL = "community.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database -----------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the in-process worker and readers share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE", "timeout": 20}
    )
    DATABASES["default"]["TEST"] = {"NAME": env.str("SQLITE_TEST_NAME", default="")} if env.str(
        "SQLITE_TEST_NAME", default=""
    ) else {}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- State kept by the server itself (the generated secret key) ------------------------------
# Beside the SQLite database by default; a directory only the server's user can read.
_SQLITE_NAME = str(DATABASES["default"].get("NAME") or "") if DATABASES["default"]["ENGINE"].endswith("sqlite3") else ""
LINLI_STATE_DIR = Path(env.str("LINLI_STATE_DIR", default=str(Path(_SQLITE_NAME).parent if "/" in _SQLITE_NAME else BASE_DIR)))
if not SECRET_KEY:
    SECRET_KEY = local_secret_key(LINLI_STATE_DIR)
USING_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
if USING_POSTGRES and env.bool("DB_POOL", default=True):
    # Under ASGI every request runs in a thread of its own, so per-thread persistent
    # connections pile up until PostgreSQL refuses clients ("too many clients already",
    # found by bench/checkin_surge.py). A pool per process bounds them: processes x max_size
    # must stay under the server's max_connections.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=16),
        "timeout": env.float("DB_POOL_TIMEOUT", default=5.0),
    }

# --- Redis: channel layer, Celery broker, cache --------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CHANNEL_LAYER_URL = env.str("CHANNEL_LAYER_URL", default=REDIS_URL)
CACHE_URL = env.str("CACHE_URL", default=REDIS_URL)

if CHANNEL_LAYER_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "backend.channel_layer.ResilientRedisChannelLayer",
            "CONFIG": {
                # Fail fast when Redis is down (pushes are hints); socket_timeout stays above
                # the layer's 5 s blocking receive.
                "hosts": [{"address": CHANNEL_LAYER_URL, "socket_connect_timeout": 2, "socket_timeout": 10}],
                "prefix": env.str("CHANNEL_LAYER_PREFIX", default="linli"),
                # A subscriber that falls behind loses pushes, never data: clients resync
                # from GraphQL queries. Capacity is raised deliberately above the default 100.
                "capacity": env.int("CHANNEL_LAYER_CAPACITY", default=1000),
                "expiry": 60,
                "group_expiry": 86400,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "backend.channel_layer.ThreadSafeInMemoryChannelLayer"}}

if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": env.str("CACHE_PREFIX", default="linli"),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://localhost/")  # a host silences kombu's "No hostname" warning
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, float] = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
if CELERY_BROKER_URL.startswith("memory://"):
    # The in-memory broker polls; its default (1 s) would delay every task — a life-safety
    # drainer too — by up to a second on the embedded footing. Redis needs no polling.
    CELERY_BROKER_TRANSPORT_OPTIONS["polling_interval"] = 0.05
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Shanghai"
# Periodic sweeps re-drive overdue work from the database (principle 1). Apps add entries.
CELERY_BEAT_SCHEDULE: dict = {
    # "name": {"task": "app.tasks.sweep_x", "schedule": 30.0},  one entry per periodic sweep
    "community-geocode-sweep": {"task": "community.tasks.sweep_geocoding", "schedule": 300.0},
    # notifications: recover SMS stuck in "sending", restart draining a forgotten backlog.
    "notifications-sweep-outbox": {"task": "notifications.tasks.sweep_outbox", "schedule": 30.0},
    # notifications: receipts and replies from providers with pull APIs (Tencent).
    "notifications-pull-sms": {"task": "notifications.tasks.pull_sms_reports",
                               "schedule": env.float("SMS_PULL_SECONDS", default=10.0)},
    # volunteers: tidy expired on-duty switches and temporary locations; auto check-out.
    "volunteers-expired-availability": {"task": "volunteers.tasks.sweep_expired_availability", "schedule": 60.0},
    "volunteers-forgotten-checkouts": {"task": "volunteers.tasks.sweep_forgotten_checkouts", "schedule": 900.0},
    # dispatch: expire unanswered offers, send the next wave, recover tasks a lost message left.
    "volunteers-dispatch-sweep": {"task": "volunteers.tasks.sweep_dispatch", "schedule": 15.0},
    # emergency: re-drive fan-outs whose worker died; welfare checks for the silent.
    "emergency-sweep": {"task": "community.tasks.sweep_emergency", "schedule": 15.0},
    "emergency-welfare-sweep": {"task": "community.tasks.sweep_welfare_checks", "schedule": 60.0},
    # warnings in: poll CAP feeds that are due (each has its own interval), expire proposals.
    "emergency-warning-feeds": {"task": "emergency.tasks.poll_warning_feeds", "schedule": 30.0},
    # push and voice: recover rows a dead worker left, re-drive forgotten backlogs, expire devices.
    "notifications-sweep-pushes": {"task": "notifications.tasks.sweep_pushes", "schedule": 30.0},
    # the escalation ladder: SMS for unacknowledged pushes, calls for the silent (emergency/escalation.py).
    "emergency-escalation-sweep": {"task": "emergency.tasks.sweep_escalation", "schedule": 15.0},
    # privacy: delete or anonymise what has outlived its retention period (once a day).
    "privacy-retention": {"task": "privacy.tasks.apply_retention", "schedule": 24 * 3600.0},
}
# Background work in lanes: life-safety fan-outs and life-safety SMS run on the "life_safety"
# queue, consumed by workers of their own (Procfile: life_safety), so a bulk job or a long
# import never holds them up. A worker started without -Q consumes both queues.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (Queue("celery"), Queue("life_safety"))
_LIFE_SAFETY = {"queue": "life_safety"}
CELERY_TASK_ROUTES = {
    "notifications.tasks.send_life_safety_sms": _LIFE_SAFETY,
    "notifications.tasks.drain_life_safety": _LIFE_SAFETY,
    "community.tasks.fan_out_alert": _LIFE_SAFETY,
    "community.tasks.fan_out_safety_check": _LIFE_SAFETY,
    "community.tasks.advance_plan_run": _LIFE_SAFETY,
    "community.tasks.sweep_emergency": _LIFE_SAFETY,
    "community.tasks.sweep_welfare_checks": _LIFE_SAFETY,
    "community.tasks.request_welfare_checks": _LIFE_SAFETY,
    "notifications.tasks.drain_life_safety_pushes": _LIFE_SAFETY,
    "notifications.tasks.drain_calls": _LIFE_SAFETY,
    "emergency.tasks.sweep_escalation": _LIFE_SAFETY,
}
# Run the Celery worker and beat inside the web process (embedded footing, `make run`).
LINLI_EMBEDDED_WORKER = env.bool("LINLI_EMBEDDED_WORKER", default=not REDIS_URL)
LINLI_EMBEDDED_CONCURRENCY = env.int("LINLI_EMBEDDED_CONCURRENCY", default=4)

# --- Auth -------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "graphql_jwt.backends.JSONWebTokenBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

from datetime import timedelta  # noqa: E402

GRAPHQL_JWT = {
    "JWT_SECRET_KEY": SECRET_KEY,  # said, not left to graphql_jwt's import-time default
    "JWT_VERIFY_EXPIRATION": True,
    "JWT_EXPIRATION_DELTA": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "JWT_REFRESH_EXPIRATION_DELTA": timedelta(days=env.int("JWT_REFRESH_DAYS", default=30)),
    "JWT_LONG_RUNNING_REFRESH_TOKEN": True,
    "JWT_AUTH_HEADER_PREFIX": "Bearer",
    "JWT_ALLOW_ARGUMENT": False,
    "JWT_HIDE_TOKEN_FIELDS": False,
}
# A login or refresh whose answer was lost (a mobile network) may be sent again this long
# after it succeeded and gets the same tokens back (refreshToken: the same new pair instead of
# the theft response; verifyLoginCode with the same idempotencyKey).
TOKEN_RETRY_GRACE_SECONDS = env.int("TOKEN_RETRY_GRACE_SECONDS", default=60)

# --- GraphQL ----------------------------------------------------------------------------------
GRAPHENE: dict[str, Any] = {  # graphene-django's settings: values of every type
    "SCHEMA": "schema.schema.schema",
    # Authentication happens once per request in schema.core.views (HTTP) and at
    # connection_init (WebSocket), not in a per-field middleware.
    "MIDDLEWARE": ["schema.core.middleware.PaginationArgumentsMiddleware",
                   # mutation arguments lose invisible characters before a service sees them
                   "schema.core.inputs.TextArgumentsMiddleware",
                   # reads of sensitive personal fields go to the access log (privacy/, issue 21)
                   "schema.core.access_log.AccessLogMiddleware"],
    "RELAY_CONNECTION_MAX_LIMIT": 100,
    "RELAY_CONNECTION_ENFORCE_FIRST_OR_LAST": False,
    # Each mutation is atomic on its own (schema.core.mutations.BaseMutation), so one failing
    # mutation of a document neither poisons nor rolls back the others.
    "ATOMIC_MUTATIONS": False,
}
GRAPHQL_MAX_DEPTH = env.int("GRAPHQL_MAX_DEPTH", default=10)
GRAPHQL_MAX_ALIASES = env.int("GRAPHQL_MAX_ALIASES", default=15)
GRAPHQL_MAX_FIELDS = env.int("GRAPHQL_MAX_FIELDS", default=500)
GRAPHQL_MAX_COST = env.int("GRAPHQL_MAX_COST", default=20000)
GRAPHQL_LIST_COST = env.int("GRAPHQL_LIST_COST", default=10)
GRAPHQL_MAX_TOKENS = env.int("GRAPHQL_MAX_TOKENS", default=4000)
GRAPHQL_MAX_MUTATIONS = env.int("GRAPHQL_MAX_MUTATIONS", default=5)
# Mutation throttles (schema.core.throttle): per-user limits are declared per mutation; one
# generous per-address limit, because many phones share an address behind carrier NAT.
THROTTLE_PER_ADDRESS_PER_MINUTE = env.int("THROTTLE_PER_ADDRESS_PER_MINUTE", default=600)
GRAPHQL_INTROSPECTION = env.bool("GRAPHQL_INTROSPECTION", default=DEBUG)
GRAPHIQL = env.bool("GRAPHIQL", default=DEBUG)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)

# --- WebSocket ----------------------------------------------------------------------------------
WS_CONNECTION_INIT_TIMEOUT = env.float("WS_CONNECTION_INIT_TIMEOUT", default=10.0)
WS_MAX_MESSAGE_BYTES = env.int("WS_MAX_MESSAGE_BYTES", default=65536)
# permessage-deflate costs ~40 KiB of zlib state per idle socket and buys nothing on small JSON
# frames; off unless a deployment turns it on (passed to uvicorn by `manage.py serve`).
WS_PER_MESSAGE_DEFLATE = env.bool("WS_PER_MESSAGE_DEFLATE", default=False)
# Events published after a commit (publish_on_commit) go out from a background thread, so the
# request that caused them answers first; off in tests that read what was published at once.
REALTIME_PUBLISH_IN_BACKGROUND = env.bool("REALTIME_PUBLISH_IN_BACKGROUND", default=True)
WS_MAX_SUBSCRIPTIONS = env.int("WS_MAX_SUBSCRIPTIONS", default=50)
# Consumers re-add their group memberships this often (a Redis restart forgets them).
WS_GROUP_REFRESH_SECONDS = env.float("WS_GROUP_REFRESH_SECONDS", default=30.0)
WS_MESSAGES_PER_10S = env.int("WS_MESSAGES_PER_10S", default=100)
WS_CONNECTS_PER_ADDRESS_PER_MINUTE = env.int("WS_CONNECTS_PER_ADDRESS_PER_MINUTE", default=300)
WS_CONNECTS_PER_USER_PER_MINUTE = env.int("WS_CONNECTS_PER_USER_PER_MINUTE", default=30)
WS_ALLOWED_ORIGINS = env.list("WS_ALLOWED_ORIGINS", default=[])

# --- I18N / time ------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
PHONENUMBER_DEFAULT_REGION = env.str("PHONENUMBER_DEFAULT_REGION", default="CN")
PHONENUMBER_DB_FORMAT = "E164"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Development serves straight from the apps' static folders; production runs collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- Security ---------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livez$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # The admin's forms (the only cookie-authenticated pages) post from these origins.
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
    if not CSRF_TRUSTED_ORIGINS:
        raise ImproperlyConfigured("CSRF_TRUSTED_ORIGINS must be set when DEBUG is off (e.g. https://linli.example.cn).")
# Browser apps on other origins that may call the API (django-cors-headers): none unless
# listed, e.g. CORS_ALLOWED_ORIGINS=https://console.linli.example.cn. Bearer tokens, no cookies.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/graphql/?$"
CORS_ALLOW_CREDENTIALS = False
CORS_PREFLIGHT_MAX_AGE = 3600
# GraphiQL's scripts and styles are served by the server itself (backend/static/graphiql/vendor);
# a deployment that would rather load them elsewhere lists the origins its CSP then allows.
GRAPHIQL_ASSET_ORIGINS = env.list("GRAPHIQL_ASSET_ORIGINS", default=[])
# Proxies whose X-Forwarded-For / -Proto uvicorn believes (comma-separated addresses): per-address
# rate limits see the real client only through them. Never "*" when uvicorn is reachable directly.
FORWARDED_ALLOW_IPS = env.str("FORWARDED_ALLOW_IPS", default="127.0.0.1")
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Public base URL (scheme + host) as the outside world sees it, e.g. for Twilio signatures.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"()": "backend.log_masking.MaskingFormatter",
                             "format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        # PDF rendering of after-action reports: its progress lines are noise.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- Community data (residents, geocoding, uploads) ----------------------------------------
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
# Geocoder for addresses: "nominatim" (OSM; self-host it in China, PIPL cross-border rules),
# "baidu" (needs GEOCODER_API_KEY; answers in BD-09, converted) or "none".
GEOCODER = env.str("GEOCODER", default="none")
GEOCODER_DOMAIN = env.str("GEOCODER_DOMAIN", default="nominatim.openstreetmap.org")
GEOCODER_SCHEME = env.str("GEOCODER_SCHEME", default="https")
GEOCODER_API_KEY = env.str("GEOCODER_API_KEY", default="")
GEOCODER_USER_AGENT = env.str("GEOCODER_USER_AGENT", default="linli-community-resilience/0.1 (ops@linli.example)")
GEOCODER_TIMEOUT = env.float("GEOCODER_TIMEOUT", default=5.0)
GEOCODER_MIN_DELAY_SECONDS = env.float("GEOCODER_MIN_DELAY_SECONDS", default=1.0)  # Nominatim: 1 req/s
GEOCODER_COUNTRY_CODES = env.str("GEOCODER_COUNTRY_CODES", default="cn")
GEOCODER_MAX_ATTEMPTS = env.int("GEOCODER_MAX_ATTEMPTS", default=8)
# A location farther than this from every grid centre is outside the communities we serve
# (only for grids without a boundary: a boundary decides by itself).
GRID_MAX_DISTANCE_M = env.int("GRID_MAX_DISTANCE_M", default=3000)
# Areas' boundaries (community.boundaries): how far a shape may reach past its parent or
# into a neighbour, and a place past its area, before it counts (drawing noise); the most
# points one boundary may have; how often a process re-checks that its in-memory shapes
# are current (0: before every use — one small aggregate query).
AREA_BOUNDARY_TOLERANCE_M = env.float("AREA_BOUNDARY_TOLERANCE_M", default=5.0)
AREA_BOUNDARY_MAX_VERTICES = env.int("AREA_BOUNDARY_MAX_VERTICES", default=20000)
AREA_SHAPES_RECHECK_SECONDS = env.float("AREA_SHAPES_RECHECK_SECONDS", default=0.0)
REPORT_PHOTO_MAX_BYTES = env.int("REPORT_PHOTO_MAX_BYTES", default=5 * 1024 * 1024)
ROSTER_MAX_BYTES = env.int("ROSTER_MAX_BYTES", default=5 * 1024 * 1024)
ROSTER_MAX_ROWS = env.int("ROSTER_MAX_ROWS", default=20000)
# Whole multipart GraphQL request (files included); larger bodies get 413 before parsing.
GRAPHQL_UPLOAD_MAX_BYTES = env.int("GRAPHQL_UPLOAD_MAX_BYTES", default=12 * 1024 * 1024)

# --- Account security (community/login.py, otp.py, phone.py) -------------------------------------
# Staff password login (tokenAuth and the admin), attempts per hour: per username and client
# address, per address, and per username from devices that never logged in before; a device
# that did (its signed known-device token, kept KNOWN_DEVICE_DAYS) has a budget of its own, so
# nobody else's guesses can lock its owner out.
LOGIN_PASSWORD_PER_USER_ADDRESS_PER_HOUR = env.int("LOGIN_PASSWORD_PER_USER_ADDRESS_PER_HOUR", default=10)
LOGIN_PASSWORD_PER_ADDRESS_PER_HOUR = env.int("LOGIN_PASSWORD_PER_ADDRESS_PER_HOUR", default=120)
LOGIN_PASSWORD_PER_USER_PER_HOUR = env.int("LOGIN_PASSWORD_PER_USER_PER_HOUR", default=20)
LOGIN_PASSWORD_PER_DEVICE_PER_HOUR = env.int("LOGIN_PASSWORD_PER_DEVICE_PER_HOUR", default=20)
KNOWN_DEVICE_DAYS = env.int("KNOWN_DEVICE_DAYS", default=90)
# A second factor (TOTP, an authenticator app) for everyone with a staff role; staff who have
# enrolled give a code either way.
STAFF_TOTP_REQUIRED = env.bool("STAFF_TOTP_REQUIRED", default=False)
TOTP_ISSUER = env.str("TOTP_ISSUER", default="Linli 邻里")
TOTP_RECOVERY_CODES = env.int("TOTP_RECOVERY_CODES", default=10)
# A resident's new SMS number is texted a code (community/phone.py): requests per day.
PHONE_CHANGES_PER_RESIDENT_PER_DAY = env.int("PHONE_CHANGES_PER_RESIDENT_PER_DAY", default=5)

# --- Notifications: SMS (Twilio), phone login ------------------------------------------------
# Like Django's email backends: console prints (development), locmem keeps a list (the test
# suite's settings, tests/settings.py, choose it).
SMS_BACKEND = env.str("SMS_BACKEND", default="notifications.transports.console.ConsoleTransport")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_AUTH_TOKEN_SECONDARY = env.str("TWILIO_AUTH_TOKEN_SECONDARY", default="")  # during rotation
# Webhooks signed with HMAC-SHA256 (X-Twilio-Webhooks-Signature-Settings) use a SharedKey secret.
TWILIO_WEBHOOK_SHARED_KEY = env.str("TWILIO_WEBHOOK_SHARED_KEY", default="")
TWILIO_WEBHOOK_SHARED_KEY_SECONDARY = env.str("TWILIO_WEBHOOK_SHARED_KEY_SECONDARY", default="")  # during rotation
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="")  # empty: the real api.twilio.com
SMS_HTTP_TIMEOUT = env.float("SMS_HTTP_TIMEOUT", default=10.0)
# Twilio counts throughput per sender: 1/s for a long code, up to hundreds for a short code.
SMS_RATE_PER_SECOND = env.float("SMS_RATE_PER_SECOND", default=1.0)
SMS_RATE_BURST = env.float("SMS_RATE_BURST", default=1.0)
SMS_VALIDITY_SECONDS = env.int("SMS_VALIDITY_SECONDS", default=0)  # 0: the provider's default
SMS_MAX_ATTEMPTS = env.int("SMS_MAX_ATTEMPTS", default=6)
SMS_RETRY_BASE_SECONDS = env.float("SMS_RETRY_BASE_SECONDS", default=5.0)
SMS_RETRY_MAX_SECONDS = env.float("SMS_RETRY_MAX_SECONDS", default=300.0)
# After an ambiguous failure (time-out, 5xx: the message may have been created), wait this
# long before asking the provider whether it exists and resending only if it does not.
SMS_AMBIGUOUS_SETTLE_SECONDS = env.float("SMS_AMBIGUOUS_SETTLE_SECONDS", default=30.0)
# A claim older than this belongs to a dead worker (far above one provider call's timeout).
SMS_CLAIM_TIMEOUT_SECONDS = env.int("SMS_CLAIM_TIMEOUT_SECONDS", default=120)
SMS_REQUEUE_AFTER_SECONDS = env.int("SMS_REQUEUE_AFTER_SECONDS", default=60)
SMS_DRAIN_SECONDS = env.float("SMS_DRAIN_SECONDS", default=60.0)
# Drainers hold a worker thread each for up to SMS_DRAIN_SECONDS (never while waiting long for
# a slow account's tokens): one per route sends hundreds a second in batches, and leaves the
# other threads to fan-outs, waves and sweeps. Life-safety drainers have slots of their own.
SMS_MAX_DRAINERS = env.int("SMS_MAX_DRAINERS", default=1)
SMS_WEBHOOK_MAX_BYTES = env.int("SMS_WEBHOOK_MAX_BYTES", default=16384)
SMS_INBOUND_PER_SENDER_PER_HOUR = env.int("SMS_INBOUND_PER_SENDER_PER_HOUR", default=60)
LOGIN_CODE_TTL_SECONDS = env.int("LOGIN_CODE_TTL_SECONDS", default=300)
LOGIN_CODE_MAX_ATTEMPTS = env.int("LOGIN_CODE_MAX_ATTEMPTS", default=5)
LOGIN_CODE_RESEND_SECONDS = env.int("LOGIN_CODE_RESEND_SECONDS", default=60)
LOGIN_CODES_PER_PHONE_PER_HOUR = env.int("LOGIN_CODES_PER_PHONE_PER_HOUR", default=5)
LOGIN_CODES_PER_ADDRESS_PER_HOUR = env.int("LOGIN_CODES_PER_ADDRESS_PER_HOUR", default=30)
LOGIN_VERIFY_PER_ADDRESS_PER_HOUR = env.int("LOGIN_VERIFY_PER_ADDRESS_PER_HOUR", default=60)
# SMS pumping (issue 13.9): login codes only to these country codes, within a budget for the
# whole service per hour and a limit per block of numbers (all but the last N digits).
LOGIN_CODE_COUNTRY_CODES = env.list("LOGIN_CODE_COUNTRY_CODES", default=["86"])
LOGIN_CODES_PER_HOUR = env.int("LOGIN_CODES_PER_HOUR", default=2000)
LOGIN_CODES_PER_PREFIX_PER_HOUR = env.int("LOGIN_CODES_PER_PREFIX_PER_HOUR", default=20)
LOGIN_CODE_PREFIX_DIGITS = env.int("LOGIN_CODE_PREFIX_DIGITS", default=4)
# Token buckets (SMS pacing, login throttles) live here so every worker shares them.
RATE_LIMIT_REDIS_URL = env.str("RATE_LIMIT_REDIS_URL", default=REDIS_URL)
RATE_LIMIT_PREFIX = env.str("RATE_LIMIT_PREFIX", default="linli:rl:")

# --- SMS: domestic providers (+86), Alibaba Cloud and Tencent Cloud ---------------------------
# SMS_BACKEND=notifications.transports.aliyun.AliyunTransport or ...tencent.TencentTransport. An
# endpoint is a host name (HTTPS) or a full URL: http://127.0.0.1:PORT aims the SDK at a local fake.
ALIYUN_ACCESS_KEY_ID = env.str("ALIYUN_ACCESS_KEY_ID", default="")
ALIYUN_ACCESS_KEY_SECRET = env.str("ALIYUN_ACCESS_KEY_SECRET", default="")
ALIYUN_SMS_SIGN_NAME = env.str("ALIYUN_SMS_SIGN_NAME", default="")
ALIYUN_SMS_ENDPOINT = env.str("ALIYUN_SMS_ENDPOINT", default="dysmsapi.aliyuncs.com")
TENCENT_SECRET_ID = env.str("TENCENT_SECRET_ID", default="")
TENCENT_SECRET_KEY = env.str("TENCENT_SECRET_KEY", default="")
TENCENT_SMS_SDK_APP_ID = env.str("TENCENT_SMS_SDK_APP_ID", default="")
TENCENT_SMS_SIGN_NAME = env.str("TENCENT_SMS_SIGN_NAME", default="")
TENCENT_SMS_REGION = env.str("TENCENT_SMS_REGION", default="ap-guangzhou")
TENCENT_SMS_ENDPOINT = env.str("TENCENT_SMS_ENDPOINT", default="sms.tencentcloudapi.com")
# Neither provider signs its HTTP callbacks: configure the callback URLs with ?token=<this>.
# Empty: callbacks are accepted without a token (development only).
ALIYUN_SMS_CALLBACK_TOKEN = env.str("ALIYUN_SMS_CALLBACK_TOKEN", default="")
TENCENT_SMS_CALLBACK_TOKEN = env.str("TENCENT_SMS_CALLBACK_TOKEN", default="")
# Approved provider templates per Linli template (JSON objects, merged over the defaults in
# notifications/transports/provider_templates.py, which documents the shape and every template).
SMS_PROVIDER_TEMPLATES = {
    "aliyun": env.json("ALIYUN_SMS_TEMPLATES", default={}),
    "tencent": env.json("TENCENT_SMS_TEMPLATES", default={}),
}

# --- SMS: lanes, routes, providers, undeliverable numbers (notifications/lanes.py, routing.py) ---
# Lanes: purpose -> LOGIN / LIFE_SAFETY / STANDARD / COURTESY, or qualifiers (alert severity,
# offer priority, welfare visit); "*" for the rest. The SMS_LANES environment JSON is merged
# over this table per purpose (notifications/lanes.py reads it).
SMS_LANES = {
    "login_code": "LOGIN",
    "safety_check": "LIFE_SAFETY",
    "alert": {"severity": {"Extreme": "LIFE_SAFETY", "Severe": "LIFE_SAFETY"}, "default": "STANDARD"},
    "task_offer": {"priority": {"LIFE_SAFETY": "LIFE_SAFETY"}, "welfare_visit": "LIFE_SAFETY", "default": "STANDARD"},
    "mobilisation": "STANDARD",
    "task_assignment_ended": "STANDARD",
    "task_assignment_added": "STANDARD",
    "task_offer_withdrawn": "COURTESY",
    "sms_reply": "COURTESY",
    "sms_opt_out_confirmation": "COURTESY",
    "*": "STANDARD",
    **env.json("SMS_LANES", default={}),
}
# Routes by destination, providers in failover order: +86 to the domestic providers (Twilio
# carries no replies from mainland numbers), the rest to Twilio. Both empty: everything goes
# to SMS_BACKEND at SMS_RATE_PER_SECOND (development, tests).
SMS_ROUTES = {
    "+86": env.list("SMS_ROUTE_DOMESTIC", default=[]),  # e.g. aliyun,tencent
    "*": env.list("SMS_ROUTE_INTERNATIONAL", default=[]),  # e.g. twilio
}
# Cross-border (PIPL art. 38): a mainland (+86) number is never handed to a provider abroad
# while its route has a domestic one (Twilio listed as a failover is skipped). Off only on purpose.
SMS_MAINLAND_STAYS_DOMESTIC = env.bool("SMS_MAINLAND_STAYS_DOMESTIC", default=True)
SMS_FOREIGN_PROVIDERS = env.list("SMS_FOREIGN_PROVIDERS", default=["twilio"])
SMS_PROVIDER_BACKENDS = {
    "twilio": "notifications.transports.twilio.TwilioTransport",
    "aliyun": "notifications.transports.aliyun.AliyunTransport",
    "tencent": "notifications.transports.tencent.TencentTransport",
    "console": "notifications.transports.console.ConsoleTransport",
    "locmem": "notifications.transports.locmem.LocmemTransport",
}
# Messages per second per provider account (the carriers' channels are the real limit:
# providers advise about 500/s; Twilio counts per sender, 1/s for a long code).
SMS_PROVIDER_RATES = {
    "aliyun": env.float("ALIYUN_SMS_RATE_PER_SECOND", default=100.0),
    "tencent": env.float("TENCENT_SMS_RATE_PER_SECOND", default=100.0),
    "twilio": env.float("TWILIO_SMS_RATE_PER_SECOND", default=SMS_RATE_PER_SECOND),
    "console": 1000.0,
    "locmem": 1000.0,
}
# Paced a little under each account's limit: providers count it over a sliding second as calls
# arrive, and calls never arrive exactly on schedule.
SMS_PROVIDER_RATE_MARGIN = env.float("SMS_PROVIDER_RATE_MARGIN", default=0.95)
SMS_BATCH_SECONDS = env.float("SMS_BATCH_SECONDS", default=0.1)  # a claim/call carries this much of the rate
SMS_MAX_CLAIM = env.int("SMS_MAX_CLAIM", default=500)
SMS_PROVIDER_COOLDOWN_SECONDS = env.float("SMS_PROVIDER_COOLDOWN_SECONDS", default=60.0)  # after credentials/balance errors
SMS_PROVIDER_PAUSE_SECONDS = env.float("SMS_PROVIDER_PAUSE_SECONDS", default=5.0)  # after a refused call (connection)
SMS_PROVIDER_THROTTLE_SECONDS = env.float("SMS_PROVIDER_THROTTLE_SECONDS", default=0.5)  # after a throttled call
SMS_LIFE_SAFETY_DRAINERS = env.int("SMS_LIFE_SAFETY_DRAINERS", default=1)  # per route, on the life_safety queue
SMS_UNREACHABLE_AFTER_FAILURES = env.int("SMS_UNREACHABLE_AFTER_FAILURES", default=3)
SMS_UNREACHABLE_FORGET_DAYS = env.int("SMS_UNREACHABLE_FORGET_DAYS", default=30)
# A bare "1" answers only a prompt delivered, or handed over at least this long before it.
SMS_BARE_REPLY_MIN_AGE_SECONDS = env.int("SMS_BARE_REPLY_MIN_AGE_SECONDS", default=60)

# --- Notifications: voice calls (Twilio Voice abroad, Aliyun IvrCall for +86) ----------------
# Dotted paths per role (notifications.voice.get_voice_transport): console prints in development,
# locmem keeps a list in tests; production sets notifications.voice.twilio.TwilioVoiceTransport
# (international) and notifications.voice.aliyun.AliyunVoiceTransport (domestic).
_VOICE_DEFAULT = "notifications.voice.console.ConsoleVoiceTransport"  # tests/settings.py: locmem
VOICE_BACKENDS = {
    "international": env.str("VOICE_BACKEND_INTERNATIONAL", default=_VOICE_DEFAULT),
    "domestic": env.str("VOICE_BACKEND_DOMESTIC", default=_VOICE_DEFAULT),
}
VOICE_HTTP_TIMEOUT = env.float("VOICE_HTTP_TIMEOUT", default=10.0)
VOICE_GATHER_SECONDS = env.int("VOICE_GATHER_SECONDS", default=8)  # wait for a key after each question
VOICE_PARAM_MAX_CHARS = env.int("VOICE_PARAM_MAX_CHARS", default=40)  # a spoken {title} longer than this is cut
VOICE_WEBHOOK_MAX_BYTES = env.int("VOICE_WEBHOOK_MAX_BYTES", default=65536)  # Aliyun pushes receipts in batches
TWILIO_VOICE_FROM_NUMBER = env.str("TWILIO_VOICE_FROM_NUMBER", default=TWILIO_FROM_NUMBER)
TWILIO_VOICE_RING_SECONDS = env.int("TWILIO_VOICE_RING_SECONDS", default=40)
TWILIO_VOICE_ZH_LANGUAGE = env.str("TWILIO_VOICE_ZH_LANGUAGE", default="cmn-CN")
TWILIO_VOICE_ZH_VOICE = env.str("TWILIO_VOICE_ZH_VOICE", default="Polly.Zhiyu-Neural")
TWILIO_VOICE_EN_LANGUAGE = env.str("TWILIO_VOICE_EN_LANGUAGE", default="en-US")
TWILIO_VOICE_EN_VOICE = env.str("TWILIO_VOICE_EN_VOICE", default="Polly.Joanna-Neural")
ALIYUN_VOICE_ACCESS_KEY_ID = env.str("ALIYUN_VOICE_ACCESS_KEY_ID", default=env.str("ALIYUN_ACCESS_KEY_ID", default=""))
ALIYUN_VOICE_ACCESS_KEY_SECRET = env.str("ALIYUN_VOICE_ACCESS_KEY_SECRET",
                                         default=env.str("ALIYUN_ACCESS_KEY_SECRET", default=""))
ALIYUN_VOICE_ENDPOINT = env.str("ALIYUN_VOICE_ENDPOINT", default="dyvmsapi.aliyuncs.com")
ALIYUN_VOICE_PROTOCOL = env.str("ALIYUN_VOICE_PROTOCOL", default="https")  # "http" only for a loopback fake
ALIYUN_VOICE_SHOW_NUMBER = env.str("ALIYUN_VOICE_SHOW_NUMBER", default="")  # a purchased real number
# {"emergency.safety.voice": {"zh-hans": "TTS_...", "en": "TTS_..."}, ...}: see notifications/voice/aliyun.py
ALIYUN_VOICE_TEMPLATES = env.json("ALIYUN_VOICE_TEMPLATES", default={})
# Aliyun does not sign receipt pushes: the console's URL carries this secret (?t=...).
ALIYUN_VOICE_CALLBACK_TOKEN = env.str("ALIYUN_VOICE_CALLBACK_TOKEN", default="")

# --- Notifications: device push transports (notifications/push) ---------------------------
# Provider -> transport class. Development prints them (tests/settings.py keeps them in a list).
_PUSH_DEFAULT = "notifications.push.console.ConsolePushTransport"
PUSH_BACKENDS = {
    "apns": env.str("PUSH_APNS_BACKEND", default=_PUSH_DEFAULT),  # notifications.push.apns.APNsTransport
    "fcm": env.str("PUSH_FCM_BACKEND", default=_PUSH_DEFAULT),  # notifications.push.fcm.FCMTransport
    "jpush": env.str("PUSH_JPUSH_BACKEND", default=_PUSH_DEFAULT),  # notifications.push.jpush.JPushTransport
}
PUSH_HTTP_TIMEOUT = env.float("PUSH_HTTP_TIMEOUT", default=10.0)  # per request / per APNs stream
# APNs, token auth: the .p8 key as a path or as PEM text, its key id, the team and bundle id.
APNS_KEY_PATH = env.str("APNS_KEY_PATH", default="")
APNS_KEY = env.str("APNS_KEY", default="")
APNS_KEY_ID = env.str("APNS_KEY_ID", default="")
APNS_TEAM_ID = env.str("APNS_TEAM_ID", default="")
APNS_TOPIC = env.str("APNS_TOPIC", default="")
APNS_USE_SANDBOX = env.bool("APNS_USE_SANDBOX", default=False)
APNS_API_BASE_URL = env.str("APNS_API_BASE_URL", default="")  # empty: Apple's host; https://host:port otherwise
APNS_CA_FILE = env.str("APNS_CA_FILE", default="")  # extra CA to trust (the test fake's certificate)
APNS_MAX_CONNECTIONS = env.int("APNS_MAX_CONNECTIONS", default=1)  # HTTP/2: many streams per connection
APNS_MAX_IN_FLIGHT = env.int("APNS_MAX_IN_FLIGHT", default=500)  # streams awaiting an answer, per connection
APNS_CRITICAL_ALERTS = env.bool("APNS_CRITICAL_ALERTS", default=False)  # Apple granted the entitlement
# FCM HTTP v1: a service account (file or JSON text) and the Firebase project.
FCM_CREDENTIALS_FILE = env.str("FCM_CREDENTIALS_FILE", default="")
FCM_CREDENTIALS_JSON = env.str("FCM_CREDENTIALS_JSON", default="")
FCM_PROJECT_ID = env.str("FCM_PROJECT_ID", default="")
FCM_API_BASE_URL = env.str("FCM_API_BASE_URL", default="https://fcm.googleapis.com")
FCM_CONCURRENCY = env.int("FCM_CONCURRENCY", default=32)  # requests in flight (no batch endpoint)
FCM_ANDROID_CHANNEL_ID = env.str("FCM_ANDROID_CHANNEL_ID", default="")
# JPush (极光): AppKey and Master Secret; vendor channels (Huawei, Xiaomi, OPPO, vivo, Honor...)
# are configured in JPush's console and steered per push by the options below.
JPUSH_APP_KEY = env.str("JPUSH_APP_KEY", default="")
JPUSH_MASTER_SECRET = env.str("JPUSH_MASTER_SECRET", default="")
JPUSH_API_BASE_URL = env.str("JPUSH_API_BASE_URL", default="")  # empty: https://api.jpush.cn
JPUSH_ZONE = env.str("JPUSH_ZONE", default="default")  # "bj": the Beijing machine room
JPUSH_APNS_PRODUCTION = env.bool("JPUSH_APNS_PRODUCTION", default=not DEBUG)
# High-priority pushes ride vendor channels: "first_ospush" (VIP accounts) or "secondary_push".
JPUSH_VENDOR_DISTRIBUTION = env.str("JPUSH_VENDOR_DISTRIBUTION", default="secondary_push")
# options.classification=1 (system message) for high priority: needs each vendor's approval.
JPUSH_SYSTEM_CLASSIFICATION = env.bool("JPUSH_SYSTEM_CLASSIFICATION", default=False)
JPUSH_CONCURRENCY = env.int("JPUSH_CONCURRENCY", default=4)
# Devices and the push outbox (notifications/devices.py, push_outbox.py): a device unseen
# this many days is not live (and is deleted by the sweep); pushes per second per provider
# (0: as fast as the provider takes them), pushes per provider call, attempts before a
# transient failure is final, and how long a claimed push may stay "sending" before the sweep
# puts it back (a dead worker).
PUSH_DEVICE_TTL_DAYS = env.int("PUSH_DEVICE_TTL_DAYS", default=60)
PUSH_RATES = env.json("PUSH_RATES", default={"apns": 0, "fcm": 0, "jpush": 0})
PUSH_BATCH_SIZE = env.int("PUSH_BATCH_SIZE", default=500)
PUSH_MAX_ATTEMPTS = env.int("PUSH_MAX_ATTEMPTS", default=5)
PUSH_CLAIM_TIMEOUT_SECONDS = env.int("PUSH_CLAIM_TIMEOUT_SECONDS", default=120)
PUSH_DRAIN_SECONDS = env.float("PUSH_DRAIN_SECONDS", default=20.0)
PUSH_OPERATOR_PAUSE_SECONDS = env.int("PUSH_OPERATOR_PAUSE_SECONDS", default=60)  # our credentials refused
PUSH_TTL_SECONDS = env.int("PUSH_TTL_SECONDS", default=3600)  # a push older than this is not shown

# Voice calls (notifications/voice_outbox.py): attempts per call (busy and no-answer are tried
# again after VOICE_RETRY_SECONDS), calls per second per route, and how long a call may stay
# "calling" without its final callback before the sweep counts it unanswered.
VOICE_MAX_ATTEMPTS = env.int("VOICE_MAX_ATTEMPTS", default=3)
VOICE_RETRY_SECONDS = env.int("VOICE_RETRY_SECONDS", default=120)
VOICE_RATES = env.json("VOICE_RATES", default={"domestic": 10, "international": 1})
VOICE_CALL_TIMEOUT_SECONDS = env.int("VOICE_CALL_TIMEOUT_SECONDS", default=600)

# The escalation ladder per message class (notifications/ladder.py, README "Escalation"):
# push where a live device exists; SMS after sms_after_seconds without the push acknowledged
# (at once without a live device); a voice call after voice_after_seconds without an answer,
# for `voice_for` ("vulnerable", "all" or "none"; at once for residents marked prefers_voice);
# residents `sms_at_once_for` names ("vulnerable" or "none") are texted beside the push at once;
# then the welfare visit after the check's own silence time. A response plan's step may
# override any key ("ladder": {...} in the step's parameters). Alerts climb push -> SMS only
# (no voice rung: voice keys are ignored for them and refused in a plan's ALERT step).
ESCALATION_LADDERS = env.json("ESCALATION_LADDERS", default={
    "safety_check": {"sms_after_seconds": 180, "voice_after_seconds": 600, "voice_for": "vulnerable",
                     "sms_at_once_for": "vulnerable"},
    "alert": {"sms_after_seconds": 180, "sms_at_once_for": "vulnerable"},
})

# --- Dispatch (volunteers: tasks, offers, waves) ---------------------------------------------
# Per priority: seconds to answer an offer, offers per free place (wave factor), the search
# radius (start, step, max) and the ranking band: candidates are ranked nearest first in
# bands of ranking_band_m metres, and inside a band by reliability, then current load (see
# volunteers/dispatch/ranking.py). An area override (set_area_dispatch_override) replaces any
# of these for its subtree; the area's effective mode multiplies the default answer times.
DISPATCH_DEFAULTS = {
    "ROUTINE": {"answer_seconds": 1800, "wave_factor": 1.5, "radius_start_m": 1000, "radius_step_m": 1000,
                "radius_max_m": 5000, "ranking_band_m": 500},
    "URGENT": {"answer_seconds": 600, "wave_factor": 2.0, "radius_start_m": 1000, "radius_step_m": 1000,
               "radius_max_m": 5000, "ranking_band_m": 300},
    "LIFE_SAFETY": {"answer_seconds": 180, "wave_factor": 3.0, "radius_start_m": 500, "radius_step_m": 500,
                    "radius_max_m": 3000, "ranking_band_m": 150},
}
DISPATCH_MODE_ANSWER_FACTOR = {"EMERGENCY": 0.5, "STANDBY": 0.75}
DISPATCH_MIN_ANSWER_SECONDS = env.int("DISPATCH_MIN_ANSWER_SECONDS", default=60)
DISPATCH_CHECKIN_RADIUS_M = env.int("DISPATCH_CHECKIN_RADIUS_M", default=300)
DISPATCH_MAX_HEADCOUNT = env.int("DISPATCH_MAX_HEADCOUNT", default=100)
# A task handed to a worker is looked at again by the sweep after this long if the worker
# never finished (lost message, dead worker): a delay, never a stall.
DISPATCH_RETRY_AFTER_SECONDS = env.int("DISPATCH_RETRY_AFTER_SECONDS", default=30)
DISPATCH_SWEEP_BATCH = env.int("DISPATCH_SWEEP_BATCH", default=500)
# Each sweep re-sends the countdown message of deadlines due within this many seconds (a
# killed worker loses the ones it held); a little more than the sweep's 15-s period.
DISPATCH_EXPIRY_RESEND_SECONDS = env.float("DISPATCH_EXPIRY_RESEND_SECONDS", default=20.0)
# An UNSTAFFED task is searched again quietly every DISPATCH_UNSTAFFED_RETRY_SECONDS (people
# come on duty, move, get approved) until its deadline or for DISPATCH_UNSTAFFED_RETRY_HOURS;
# staff were alerted once when it became unstaffed. 0 turns the retries off.
DISPATCH_UNSTAFFED_RETRY_SECONDS = env.int("DISPATCH_UNSTAFFED_RETRY_SECONDS", default=600)
DISPATCH_UNSTAFFED_RETRY_HOURS = env.int("DISPATCH_UNSTAFFED_RETRY_HOURS", default=24)

# --- Emergency (community: modes, response plans, alerts, safety checks, reviews) ----------
# Fan-outs (alerts, safety checks, plan steps) run in Celery in chunks of this many residents
# or people; a worker keeps going for the budget, then hands over to a fresh task. A lease
# older than EMERGENCY_LEASE_SECONDS belongs to a dead worker: the sweep re-drives it.
EMERGENCY_FANOUT_CHUNK = env.int("EMERGENCY_FANOUT_CHUNK", default=1000)
# A safety check's status rows and push rung are written by the database (INSERT … SELECT), a
# few statements per chunk whatever its size: larger chunks, fewer commits (bench/push_fanout.py).
EMERGENCY_SAFETY_CHECK_CHUNK = env.int("EMERGENCY_SAFETY_CHECK_CHUNK", default=5000)
EMERGENCY_FANOUT_BUDGET_SECONDS = env.float("EMERGENCY_FANOUT_BUDGET_SECONDS", default=20.0)
EMERGENCY_LEASE_SECONDS = env.int("EMERGENCY_LEASE_SECONDS", default=120)
# Safety checks: vulnerable residents silent this long get a welfare-check task (a plan or
# the staff member starting the check may choose another time); SMS replies count until
# SAFETY_REPLY_HOURS after the start; staff count pushes are coalesced to one per interval.
SAFETY_WELFARE_AFTER_MINUTES = env.int("SAFETY_WELFARE_AFTER_MINUTES", default=60)
SAFETY_REPLY_HOURS = env.int("SAFETY_REPLY_HOURS", default=72)
SAFETY_PUSH_INTERVAL_SECONDS = env.float("SAFETY_PUSH_INTERVAL_SECONDS", default=1.0)
# CAP 1.2 export: who we are to public warning systems.
CAP_SENDER = env.str("CAP_SENDER", default="linli@linli.example")
CAP_SENDER_NAME = env.str("CAP_SENDER_NAME", default="邻里社区应急平台")
# The public CAP feed (/cap/feed.atom, /cap/alerts/<identifier>.xml): real alerts only unless
# drills are included; how many days and entries; requests per address per minute.
CAP_FEED_ENABLED = env.bool("CAP_FEED_ENABLED", default=True)
CAP_FEED_INCLUDE_DRILLS = env.bool("CAP_FEED_INCLUDE_DRILLS", default=False)
CAP_FEED_DAYS = env.int("CAP_FEED_DAYS", default=7)
CAP_FEED_MAX_ENTRIES = env.int("CAP_FEED_MAX_ENTRIES", default=200)
CAP_FEED_PER_ADDRESS_PER_MINUTE = env.int("CAP_FEED_PER_ADDRESS_PER_MINUTE", default=120)
# After-action reports: the signed download link lasts this long; downloads per person per minute.
AFTER_ACTION_LINK_MAX_AGE = env.int("AFTER_ACTION_LINK_MAX_AGE", default=600)
AFTER_ACTION_DOWNLOADS_PER_MINUTE = env.int("AFTER_ACTION_DOWNLOADS_PER_MINUTE", default=10)

# --- Warnings that come in (emergency/warnings) ------------------------------------------------
# Signed webhooks (CAP documents, sensor readings): how far a request's timestamp may be from
# our clock (its nonce is remembered twice as long), and the largest body taken.
WARNING_WEBHOOK_TOLERANCE_SECONDS = env.int("WARNING_WEBHOOK_TOLERANCE_SECONDS", default=300)
WARNING_WEBHOOK_MAX_BYTES = env.int("WARNING_WEBHOOK_MAX_BYTES", default=1024 * 1024)
# Polled CAP feeds: time-outs per request, the largest document, entries fetched per poll.
WARNING_FEED_CONNECT_TIMEOUT = env.float("WARNING_FEED_CONNECT_TIMEOUT", default=5.0)
WARNING_FEED_TIMEOUT = env.float("WARNING_FEED_TIMEOUT", default=15.0)
WARNING_FEED_MAX_BYTES = env.int("WARNING_FEED_MAX_BYTES", default=2 * 1024 * 1024)
WARNING_FEED_MAX_ENTRIES = env.int("WARNING_FEED_MAX_ENTRIES", default=50)
# Matching: <geocode> names whose value is a Linli area code, and the kinds of area a polygon
# or circle is tested against (the highest covered area of a branch gets the proposal).
WARNING_GEOCODE_NAMES = env.list("WARNING_GEOCODE_NAMES", default=["LINLI_AREA"])
WARNING_MATCH_AREA_KINDS = env.list("WARNING_MATCH_AREA_KINDS", default=["subdistrict", "community"])

# --- Web console (/console/) -------------------------------------------------------------------
# The base map: a Leaflet tile URL template ({z}/{x}/{y}, {s} for a subdomain), its attribution,
# and the datum its tiles are drawn in: WGS84 (OpenStreetMap, Tianditu) or GCJ02 (AMap), so that
# points land where they are. Empty URL: no base map (areas and markers only; tests run so,
# offline). Where the map opens before an area with a centre is chosen: "lat,lng" and a zoom.
CONSOLE_TILE_URL = env.str("CONSOLE_TILE_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
CONSOLE_TILE_ATTRIBUTION = env.str("CONSOLE_TILE_ATTRIBUTION", default="© OpenStreetMap contributors")
CONSOLE_TILE_SUBDOMAINS = env.str("CONSOLE_TILE_SUBDOMAINS", default="abc")
CONSOLE_TILE_DATUM = env.str("CONSOLE_TILE_DATUM", default="WGS84")
if CONSOLE_TILE_DATUM not in ("WGS84", "GCJ02"):
    raise ImproperlyConfigured("CONSOLE_TILE_DATUM must be WGS84 or GCJ02.")
CONSOLE_TILE_MAX_ZOOM = env.int("CONSOLE_TILE_MAX_ZOOM", default=19)
CONSOLE_MAP_CENTER = tuple(float(v) for v in env.list("CONSOLE_MAP_CENTER", default=["30.2741", "120.1551"]))
CONSOLE_MAP_ZOOM = env.int("CONSOLE_MAP_ZOOM", default=14)

# Tests and CI: a service that is expected but missing fails instead of skipping.
LINLI_REQUIRE_SERVICES = env.bool("LINLI_REQUIRE_SERVICES", default=False)


# --- personal information (privacy/, issue 21) -------------------------------------------------
# Days each kind of record is kept before the daily job (privacy.tasks.apply_retention) deletes
# or anonymises it; 0 keeps it for ever. Set one with RETENTION_DAYS_<KIND>, e.g.
# RETENTION_DAYS_SMS_BODIES=30. What each kind covers: privacy/retention.py and the README.
RETENTION_DEFAULT_DAYS = {
    "notifications": 180,  # push history: title, body and data blanked (the count stays for reports)
    "sms_bodies": 90,  # outbound SMS: body, template values and number blanked (status counts stay)
    "inbound_texts": 90,  # texts received: body and sender blanked (outcome stays)
    "login_codes": 7,  # phone-login and phone-change codes (hashes): deleted
    "idempotency_records": 7,  # replayable mutation results: deleted (mobile_api_docs promise 72 h)
    "access_log": 3 * 365,  # PIPL art. 56: records of processing kept at least three years
    "device_pushes": 90,  # finished pushes: unlinked from the device (token), provider id and error text blanked
    "voice_calls": 90,  # finished calls: number, spoken values and error text blanked (outcome counts stay)
}
# Devices themselves are not a retention kind: one unseen for PUSH_DEVICE_TTL_DAYS is deleted
# by the push sweep (notifications.tasks.sweep_pushes), one the provider calls invalid at once.
RETENTION_DAYS = {kind: env.int(f"RETENTION_DAYS_{kind.upper()}", default=days)
                  for kind, days in RETENTION_DEFAULT_DAYS.items()}
# The consent texts in force (community/consent.py holds the texts); a consent given to an
# older version is refused (CONSENT_TEXT_OUTDATED) so that the app shows the current one.
CONSENT_TEXT_VERSIONS = {"contact": env.str("CONSENT_VERSION_CONTACT", default="2026-12"),
                         "sensitive_information": env.str("CONSENT_VERSION_SENSITIVE", default="2026-12")}
# exportMyData: the signed link to one's own data lasts this long; downloads per minute per person.
MY_DATA_LINK_MAX_AGE = env.int("MY_DATA_LINK_MAX_AGE", default=600)
MY_DATA_DOWNLOADS_PER_MINUTE = env.int("MY_DATA_DOWNLOADS_PER_MINUTE", default=5)
# Encryption at rest of the most sensitive columns (privacy/crypto.py): Fernet keys, newest
# first (comma-separated); every key decrypts, the first encrypts. Empty: derived from SECRET_KEY.
PII_ENCRYPTION_KEYS = env.list("PII_ENCRYPTION_KEYS", default=[])
# The key of the keyed hashes that find encrypted values by equality (emergency contacts'
# numbers). Empty: derived from SECRET_KEY. Changing it means recomputing the indexes.
PII_HASH_KEY = env.str("PII_HASH_KEY", default="")

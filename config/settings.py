"""Verdict settings: everything comes from the environment, with embedded defaults so `make demo` just works."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from config.secret_key import secret_key

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Off unless asked for: a page that fails shows the app's 500 page, never a traceback with settings.
DEBUG = envbool("DEBUG", False)
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

DATA_DIR = Path(os.environ.get("VERDICT_DATA_DIR", BASE_DIR / "var")).resolve()
# SQLite, the embedded broker and exports all live here; it must exist before Django opens the database.
DATA_DIR.mkdir(parents=True, exist_ok=True)
# SECRET_KEY from the environment, else one generated on first start and kept in DATA_DIR/secret_key (mode 0600).
SECRET_KEY = secret_key(os.environ, DATA_DIR)
VERDICT_MODEL_DIRS = [Path(p).resolve() for p in envlist("VERDICT_MODEL_DIRS", str(DATA_DIR / "models"))]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "django_htmx",
    "annotate",
    "training",
    "evaluation",
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
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out sign-in into the lockout page
]

ROOT_URLCONF = "config.urls"
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
                "annotate.context_processors.roles",
            ]
        },
    }
]
WSGI_APPLICATION = "config.wsgi.application"

DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'verdict.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 0))}
# Test databases are named per test process, so parallel runs against one server never clobber each other.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file (not in-memory) test database, so a Celery worker process can see what a test committed.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}
    # Many reviewers writing at once: WAL lets reads run beside the one writer; IMMEDIATE takes the write lock at
    # BEGIN, where the busy timeout (seconds) makes a writer wait its turn (a deferred transaction that read first
    # cannot upgrade and fails at once with "database is locked"). Long reads use annotate.db.repeatable_read().
    DATABASES["default"]["ENGINE"] = "config.backends.sqlite3"  # Django's, with a fair wait for the lock (see there)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=envint("SQLITE_BUSY_TIMEOUT_S", 20),
        transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    )
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared by every process, not LocMemCache (one per process): the quality dashboard's reports are computed by a
# Celery worker and served by web processes. Redis (CACHE_URL, default: the broker's server, next db number) when the
# broker is Redis, else files under DATA_DIR/cache.
_CACHE_BROKER = os.environ.get("CELERY_BROKER_URL", "")
if _CACHE_BROKER.startswith(("redis://", "rediss://")):
    _broker_base, _, _broker_db = _CACHE_BROKER.rstrip("/").rpartition("/")
    if not _broker_db.isdigit():  # redis://host:port with no db: db 0
        _broker_base, _broker_db = _CACHE_BROKER.rstrip("/"), "0"
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ.get("CACHE_URL", f"{_broker_base}/{(int(_broker_db) + 1) % 16}"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
# Sign-in throttling (django-axes): after LOGIN_FAILURE_LIMIT failed attempts for one username from one address, that
# pair is locked out for LOGIN_COOLOFF_MINUTES after the last failure (others from elsewhere can still sign in).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "annotate.views.accounts.locked_out"  # the app's layout, and when to try again
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# WhiteNoise serves STATIC_ROOT (filled by `collectstatic`, part of `make demo`) with hashed, compressed names, so
# DEBUG off needs no other web server for htmx and the CSS. Tests swap in plain storage (tests/conftest.py).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Production switches (README, "Production"): all off by default so http://127.0.0.1 works; `check --deploy` is clean
# when they are set. SECURE_PROXY_SSL_HEADER=true trusts X-Forwarded-Proto from the proxy in front (only behind one).
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", False)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
if envbool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# With DEBUG=true, debug pages hide passwords inside URLs too (DATABASE_URL, the broker, cache locations).
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.error_reporting.UrlPasswordFilter"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "annotate.api.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# API tokens (django-rest-knox): stored as SHA-512 digests, `Authorization: Token <key>`, each valid for
# API_TOKEN_TTL_DAYS; their owners list, create, rotate and revoke them (/account/tokens/, /api/v1/tokens).
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=envint("API_TOKEN_TTL_DAYS", 90)),
    "AUTH_HEADER_PREFIX": "Token",
}

# The API's contract (config/api.py): JSON bodies with finite numbers only, one error body for every 4xx, and an
# OpenAPI 3 schema at /api/v1/schema/ with Swagger UI at /api/v1/docs/ (served from the sidecar's static files).
INSTALLED_APPS += ["drf_spectacular", "drf_spectacular_sidecar"]
REST_FRAMEWORK |= {
    "DEFAULT_PARSER_CLASSES": ["config.api.StrictJSONParser"],
    # JSON only: the browsable HTML renderer answered any client sending Accept: text/html with a page (and needs
    # collected static files); people read the API at /api/v1/docs/.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Verdict API",
    "DESCRIPTION": "Review pairs, export datasets, launch training runs. Every 4xx answers with the Error body.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Export jobs, training runs and generation jobs each have a `status` (the last two share one set of choices).
    "ENUM_NAME_OVERRIDES": {
        "ExportJobStatusEnum": "annotate.models.ExportJob.Status",
        "JobStatusEnum": "training.models.JobStatus",
    },
}
# Import files (page and API) above this size are refused before they are read; the commands stream any size.
IMPORT_MAX_BYTES = envint("IMPORT_MAX_BYTES", 50 * 1024 * 1024)

BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport needs in/out to be one folder, created before a worker starts.
    for folder in (BROKER_DIR / "processed", BROKER_DIR / "control"):
        folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Above the longest training run, so Redis never re-delivers a run that is still going.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 7 * 24 * 3600)}
CELERY_TASK_IGNORE_RESULT = True
# The queue training workers consume (`celery -A config worker -Q training -c 1`); they announce themselves on it.
TRAINING_QUEUE = os.environ.get("TRAINING_QUEUE", "training")
CELERY_TASK_ROUTES = {
    "training.tasks.sweep_lost_runs": {"queue": "celery"},  # never behind a long run on the training queue
    "training.tasks.*": {"queue": TRAINING_QUEUE},
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Exports with fewer judgments than this run inside the request; larger ones are queued for a Celery worker (the
# page polls a progress bar). Pairs done are written to the cache at most every EXPORT_PROGRESS_INTERVAL_S seconds.
EXPORT_INLINE_MAX_JUDGMENTS = envint("EXPORT_INLINE_MAX_JUDGMENTS", 20_000)
EXPORT_PROGRESS_INTERVAL_S = float(os.environ.get("EXPORT_PROGRESS_INTERVAL_S", 0.5))

# The quality dashboard marks a reviewer "too fast" whose median time per judgment is under this many milliseconds,
# whatever the others do (as well as one under 40% of the campaign's median); 0 turns the floor off.
VERDICT_TOO_FAST_MS = envint("VERDICT_TOO_FAST_MS", 3000)

# Training runs: a worker beats every TRAINING_HEARTBEAT_S seconds; a running run silent for longer than
# TRAINING_STALE_AFTER_S is shown as lost at once, recorded as failed ("worker lost") by the sweep that Celery beat
# runs every TRAINING_SWEEP_EVERY_S seconds, and can be resumed from its last checkpoint.
TRAINING_HEARTBEAT_S = float(os.environ.get("TRAINING_HEARTBEAT_S", 5))
TRAINING_STALE_AFTER_S = float(os.environ.get("TRAINING_STALE_AFTER_S", 30))
TRAINING_SWEEP_EVERY_S = float(os.environ.get("TRAINING_SWEEP_EVERY_S", 10))
TRAINING_PROGRESS_INTERVAL_S = float(os.environ.get("TRAINING_PROGRESS_INTERVAL_S", 0.5))
# `celery -A config beat` sends these (a sweep not picked up before the next one is due is dropped).
CELERY_BEAT_SCHEDULE = {
    "sweep-lost-runs": {
        "task": "training.tasks.sweep_lost_runs",
        "schedule": TRAINING_SWEEP_EVERY_S,
        "options": {"expires": TRAINING_SWEEP_EVERY_S},
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

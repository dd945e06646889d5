"""Django settings, read from the environment (see README: Configuration)."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from opendata.config.cache import cache_settings
from opendata.config.database import database_settings, env_seconds
from opendata.config.logs import logging_config
from opendata.config.replicas import replica_databases, replica_urls

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and os.environ.get("DJANGO_ALLOW_INSECURE_KEY") != "1":
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY in the environment (or DEBUG=true for local use)."
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "graphene_django",
    "csp",   # django-csp: the Content Security Policy of the HTML pages (CONTENT_SECURITY_POLICY below)
    "axes",  # django-axes: admin logins throttled (AXES_* below)
    "opendata.base",
    "opendata.catalogue",
    "opendata.loader",
    "opendata.keys",
    "indicators",
    "projects",
    "opendata.publish",  # the data dictionary, bulk downloads and the DCAT-AP catalogue
    "opendata.pages",  # the pages a person reads: the landing page, a page per record, browsing (HTML)
]

MIDDLEWARE = [
    "opendata.config.middleware.RequestIDMiddleware",
    "opendata.config.middleware.AccessLogMiddleware",  # one log line per request, whatever answers it
    "opendata.config.middleware.ContentSecurityPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # After CORS (a preflight is answered before it, and its own 401/429 get the CORS headers), before
    # everything that does work: the API key and the request quota of /api/ and /graphql/.
    "opendata.base.ratelimit.RateLimitMiddleware",
    # After the key is known (read-your-writes is per key): where this request's reads go (primary or a replica).
    "opendata.config.replicas.ReplicaMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "opendata.config.middleware.DatabaseUnavailableMiddleware",  # 503, not 500, when the database is down
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "opendata.config.urls"
WSGI_APPLICATION = "opendata.config.wsgi.application"
ASGI_APPLICATION = "opendata.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Before the apps' own templates: these override drf-spectacular's Redoc page and graphene's GraphiQL.
        "DIRS": [BASE_DIR / "opendata" / "base" / "templates"],
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

# Database: an embedded SQLite file unless DATABASE_URL says otherwise. Connect, statement and lock
# timeouts, persistent connections or the psycopg pool: opendata/config/database.py.
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'opendata.sqlite3'}"
DATABASES = {"default": database_settings(DATABASE_URL)}
# Streaming replicas for reads (opendata/config/replicas.py): DATABASE_REPLICA_URLS, comma-separated.
# Unset: one database, no router in the way.
DATABASES.update(replica_databases(DATABASES["default"], replica_urls()))
if len(DATABASES) > 1:
    DATABASE_ROUTERS = ["opendata.config.replicas.PrimaryReplicaRouter"]
REPLICA_MAX_LAG = float(os.environ.get("REPLICA_MAX_LAG") or 5)  # seconds behind before a replica is left out
REPLICA_CHECK_INTERVAL = float(os.environ.get("REPLICA_CHECK_INTERVAL") or 1)  # seconds between checks per process
REPLICA_RETRY = float(os.environ.get("REPLICA_RETRY") or 5)  # seconds a failed replica is left out
READ_YOUR_WRITES_WINDOW = float(os.environ.get("READ_YOUR_WRITES_WINDOW") or 60)  # seconds a writer's position is kept

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis when REDIS_URL is set (failing open: a request is served when Redis is down), else in-process.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = cache_settings(REDIS_URL)

# API keys (opendata/keys/, read through this setting by opendata.base.api.auth) and the request
# quota shared by REST and GraphQL (opendata/base/ratelimit.py; docs/rest.md: API keys, Rate limits).
API_KEY_MODEL = "keys.ApiKey"


def env_rates() -> dict[str, str]:
    """Units per window for each tier: `anonymous` (per client address) and the tiers a key may have.
    API_RATE_LIMITS=`tier=rate,...` adds or changes key tiers; API_RATE_LIMIT is the anonymous rate."""
    rates = {"anonymous": "10000/hour", "standard": "100000/hour", "bulk": "1000000/hour"}
    for pair in filter(None, (p.strip() for p in os.environ.get("API_RATE_LIMITS", "").split(","))):
        tier, sep, rate = (part.strip() for part in pair.partition("="))
        if not (sep and tier and rate):
            raise ImproperlyConfigured(f"API_RATE_LIMITS must be tier=rate pairs separated by commas, got {pair!r}")
        rates[tier] = rate
    if os.environ.get("API_RATE_LIMIT"):
        rates["anonymous"] = os.environ["API_RATE_LIMIT"]
    return rates


API_RATE_LIMITS = env_rates()  # checked when the first request handler starts (RateLimitMiddleware)
API_KEY_DEFAULT_TIER = "standard"
RATE_LIMIT_PATHS = r"^/(api|graphql)/"  # less RATE_LIMIT_EXEMPT_PATHS (below, with the operations settings)
RATE_LIMIT_REDIS_TIMEOUT = 0.2  # seconds to connect to or hear from Redis before counting in-process
RATE_LIMIT_REDIS_RETRY = 5  # seconds without trying Redis again after it failed

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The pages (opendata/pages/) speak both; the API answers in English whatever the request asks (no
# LocaleMiddleware: the pages choose their language themselves, from the switch's cookie or Accept-Language).
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LANGUAGE_COOKIE_NAME = "opendata_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Where the documentation site and the bulk downloads are served (their links on the pages and the API root).
DOCS_URL = os.environ.get("DOCS_URL", "/docs/")
DOWNLOADS_URL = os.environ.get("DOWNLOADS_URL", "/downloads/")
# Every timestamp the API writes, and every log line, is in UTC (`Z`); dates of facts are plain dates.
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise serves from it; avoid its warning when empty
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

FIXTURES_DIR = Path(os.environ.get("OPENDATA_FIXTURES_DIR", BASE_DIR / "fixtures"))
# Where `make downloads` (manage.py build_downloads) writes the bulk files that /downloads/ serves.
DOWNLOADS_DIR = Path(os.environ.get("OPENDATA_DOWNLOADS_DIR", BASE_DIR / "var" / "downloads"))
# The DCAT-AP catalogue (/catalog.jsonld, /catalog.ttl; docs/catalogue.md): who publishes it, and the licence
# URI of the data if the operator has one (the source documents state none, so none is assumed).
CATALOG_PUBLISHER_NAME_EN = os.environ.get("CATALOG_PUBLISHER_NAME_EN", "Changchun Open Data API")
CATALOG_PUBLISHER_NAME_ZH = os.environ.get("CATALOG_PUBLISHER_NAME_ZH", "")
CATALOG_LICENSE = os.environ.get("CATALOG_LICENSE", "")
# The documentation site `make docs` builds (mkdocs.yml), served at /docs/ when present.
DOCS_SITE_DIR = Path(os.environ.get("OPENDATA_DOCS_SITE_DIR", BASE_DIR / "site"))
# load_opendata refuses (without --allow-deletions) to soft-delete more than this share of the live
# records of any one resource (docs/fixtures.md, "Loading").
LOADER_MAX_DELETION_SHARE = float(os.environ.get("LOADER_MAX_DELETION_SHARE", "0.1"))

# Public network hygiene.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000_000

# One line per record, JSON by default (LOG_FORMAT=text for a terminal), time in UTC: opendata/config/logs.py.
LOGGING = logging_config()

# How long a shared cache (nginx, a CDN) may serve an anonymous read before revalidating it with its ETag
# (opendata.base.api.caching.shared_cache_control; docs/deployment.md). 0: every use is revalidated.
SHARED_CACHE_SECONDS = int(os.environ.get("SHARED_CACHE_SECONDS") or 5)

# Any origin may read the API (it is public, read-only for anonymous users; writes need an API key).
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]
CORS_EXPOSE_HEADERS = ["ETag", "Last-Modified", "Link", "X-Request-ID", "X-Total-Count", "Deprecation", "Sunset",
                       "Retry-After", "RateLimit", "RateLimit-Policy", "WWW-Authenticate",
                       "Location", "Idempotent-Replayed"]  # writes (opendata/base/api/writes.py)
CORS_URLS_REGEX = r"^/(api|graphql)/.*$"
# Conditional requests and request ids from browsers (they trigger a preflight); writes' preconditions and keys.
CORS_ALLOW_HEADERS = ["accept", "content-type", "user-agent", "x-requested-with", "authorization", "x-csrftoken",
                      "if-none-match", "if-modified-since", "x-request-id", "if-match", "idempotency-key"]

REST_FRAMEWORK = {
    "DEFAULT_VERSIONING_CLASS": "opendata.base.api.versioning.PathVersioning",
    "DEFAULT_SCHEMA_CLASS": "opendata.base.api.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["opendata.base.api.renderers.UTF8JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "opendata.base.api.renderers.StrictContentNegotiation",
    "EXCEPTION_HANDLER": "opendata.base.api.errors.problem_exception_handler",
    # Anonymous reading; the write endpoints use opendata.base.api.auth.ReadAnonymousWriteWithKey.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["opendata.base.api.auth.ApiKeyAuthentication"],
    "UNAUTHENTICATED_USER": None,
    # No DRF throttle: the quota is opendata.base.ratelimit's, shared with GraphQL (RateLimitMiddleware).
    "DEFAULT_THROTTLE_CLASSES": [],
    "URL_FORMAT_OVERRIDE": "format",
}

# Plain JSON pages read as values and written by a plan compiled from the serializers
# (opendata/base/api/fastpath.py); false: every page through DRF's serializers (the reference the tests compare).
API_FAST_PATH = True
# On PostgreSQL, CSV and NDJSON exports whose plan compiles to SQL are written by the database, one
# `COPY (SELECT ...) TO STDOUT` (opendata/base/api/sqlexport.py); API_EXPORT_COPY=false: the fast path's
# Python writer, reading keyset chunks (the reference the tests compare; a switch should the SQL ever be wrong).
API_EXPORT_COPY = env_bool("API_EXPORT_COPY", True)
# The statement timeout of that one COPY (seconds; 0: none): the export of the whole table is one statement,
# and a slow client keeps it running, so DATABASE_STATEMENT_TIMEOUT (meant for pages) does not apply to it.
EXPORT_STATEMENT_TIMEOUT = env_seconds("DATABASE_EXPORT_STATEMENT_TIMEOUT", 3600)
# GraphQL connections answered in one go, read as values (opendata/base/graphql/fastpath.py); false: every field
# through graphql-core's execution (the reference the tests compare; GRAPHQL_FAST_PATH=false in the environment
# to measure it in a server).
GRAPHQL_FAST_PATH = env_bool("GRAPHQL_FAST_PATH", True)

SPECTACULAR_SETTINGS = {
    "TITLE": "Changchun Open Data API",
    "DESCRIPTION": (
        "Indicators, projects and events stated in Changchun's government work reports and plans, "
        "each fact traceable to the exact sentence of the document that states it."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The groups of operations in a reader's order, each described (opendata.base.api.schema.TAGS).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "opendata.base.api.schema.tag_descriptions"],
    # Swagger UI: a filter box (by tag), a link to each operation, and how long each request took.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "filter": True,
                            "displayRequestDuration": True},
    # The choice lists of the write bodies, one enum component each, named after the model's choices.
    "ENUM_NAME_OVERRIDES": {
        "OperationEnum": "opendata.base.models.ChangeOperation",  # the change feed's, named so before the writes
        "DatePrecisionEnum": "opendata.base.models.DatePrecision",
        "FactKindEnum": "opendata.base.models.FactKind",
        "RegionKindEnum": "opendata.catalogue.models.RegionKind",
        "ComparatorEnum": "indicators.models.Comparator",
        "ProjectStageEnum": "projects.models.ProjectStage",
        "StatusDatePrecisionEnum": "projects.models.StatusDatePrecision",
        "EventKindEnum": "projects.models.EventKind",
        "EventStatusEnum": "projects.models.EventStatus",
    },
}

GRAPHENE = {
    "SCHEMA": "opendata.config.schema.schema",
    "ATOMIC_MUTATIONS": True,
    # No DjangoDebugMiddleware even with DEBUG: it is not in the schema, and it would slow every resolver.
    "MIDDLEWARE": [],
    # The GraphQL limits (depth, cost, page sizes, document size) live in opendata/base/graphql/limits.py;
    # no field of the schema reads graphene-django's RELAY_CONNECTION_MAX_LIMIT (DjangoConnectionField's).
}


# --- Operations (docs/operations.md): health checks, proxies, HTTPS, the HTML pages' policy, admin logins ---

# Paths no rate limit applies to (the limiter reads this list): health checks, static files.
RATE_LIMIT_EXEMPT_PATHS = ["/healthz", "/readyz", "/static/"]

# Proxies in front of the server that append to X-Forwarded-For: the client address (logs, admin login
# throttling) is the one the farthest of them saw (opendata.base.observability.client_address).
# X-Forwarded-For is read only behind this many proxies of our own (each appends the address it saw);
# 0: the header is ignored and the client is the address of the connection (also for rate limits).
TRUSTED_PROXY_COUNT = os.environ.get("TRUSTED_PROXY_COUNT", "") or "0"
if not TRUSTED_PROXY_COUNT.isdigit():
    raise ImproperlyConfigured(f"TRUSTED_PROXY_COUNT must be a number of proxies (0 or more), got {TRUSTED_PROXY_COUNT!r}")
TRUSTED_PROXY_COUNT = int(TRUSTED_PROXY_COUNT)

# HTTPS=true: the site is served over HTTPS only (check --deploy passes with no warning). Behind a proxy
# that terminates TLS, SECURE_PROXY_SSL_HEADER names the header it sets (X-Forwarded-Proto: https).
HTTPS = env_bool("HTTPS", False)
if os.environ.get("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + os.environ["SECURE_PROXY_SSL_HEADER"].upper().replace("-", "_"), "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # probes speak plain HTTP to the process
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

# The HTML pages (GraphiQL, Swagger UI, Redoc, the admin) load everything from this API: nothing may
# reach another origin, so a visitor's browser talks to no third party (the Redoc bundle would fetch
# its logo from a CDN). Inline scripts and styles stay allowed: those pages are built with them.
# django-csp writes it on HTML responses (opendata.config.middleware.ContentSecurityPolicyMiddleware).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-inline'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    },
}

# Admin logins: after AXES_FAILURE_LIMIT wrong passwords for one username from one address, that
# pair is refused (429) for AXES_COOLOFF_MINUTES; a successful login resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=float(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "opendata.base.observability.client_address"

"""Settings shared by every profile, each knob read from the environment.

Defaults are the *embedded* profile: a fresh laptop with nothing but Python. Setting
``DATABASE_URL``, ``REDIS_URL`` or ``AWS_STORAGE_BUCKET_NAME`` moves the matching part to
the full stack (PostgreSQL, Redis, S3/MinIO). The README lists every variable.
"""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
CONFIG_DIR = BASE_DIR / "config"

env = environ.Env()
# A developer may keep variables in a .env file at the project root (never committed).
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

# Everything the embedded profile writes (SQLite, media, broker queue, cache, index files).
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

# --- Core --------------------------------------------------------------------------
# The default only serves the embedded profile; production refuses to start without one.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="local-only-insecure-key-0123456789abcdefghijklm")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # third party
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "storages",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.headless",
    "allauth.usersessions",
    # ours
    "apps.accounts",
    "apps.accounts.kakao",
    "apps.closet",
    "apps.recommendations",
    "apps.catalog",
    "apps.demo",
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
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="Asia/Seoul")
USE_I18N = True
USE_TZ = True

# --- Database ------------------------------------------------------------------------
# SQLite in WAL mode by default (readers never wait for the worker's writes); PostgreSQL
# through DATABASE_URL in the full stack.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )

# --- Cache ----------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "fashion",
            "TIMEOUT": env.int("CACHE_TIMEOUT", default=600),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    # A file cache is shared by web and worker processes on one machine (locmem is not).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "TIMEOUT": env.int("CACHE_TIMEOUT", default=600),
        }
    }

# --- Storage (media) --------------------------------------------------------------------
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_URL = "/static/"

AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    # S3 or MinIO. Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (boto3
    # reads them from the environment too). Path-style addressing works on MinIO and AWS.
    AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default=None)
    AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default=None)
    AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="us-east-1")
    AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default=None)
    # The host a phone can reach; URLs are signed for it (MinIO checks the signed Host).
    AWS_S3_PUBLIC_ENDPOINT_URL = env.str("AWS_S3_PUBLIC_ENDPOINT_URL", default=None)
    AWS_S3_ADDRESSING_STYLE = "path"
    AWS_S3_SIGNATURE_VERSION = "s3v4"
    AWS_QUERYSTRING_AUTH = True
    AWS_QUERYSTRING_EXPIRE = env.int("AWS_QUERYSTRING_EXPIRE", default=3600)
    AWS_DEFAULT_ACL = None
    AWS_S3_FILE_OVERWRITE = False
    STORAGES = {
        "default": {"BACKEND": "backend.storage.MediaS3Storage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    }
else:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    }

# Upload checks (the ml image module enforces them; the API turns failures into 400s).
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=15 * 1024 * 1024)
UPLOAD_MAX_PIXELS = env.int("UPLOAD_MAX_PIXELS", default=40_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Celery -----------------------------------------------------------------------------
# Redis in the full stack; kombu's filesystem transport (no server) in the embedded profile.
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        # The folder is polled: every 0.1 s, so a photo waits for a worker ~50 ms, not ~0.5 s.
        "polling_interval": 0.1,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than the slowest task's hard limit, so a task still running is never
        # handed to a second worker.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        "socket_connect_timeout": 3,
        "socket_timeout": 5,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_IGNORE_RESULT = True  # tasks write their outcome to the rows they own
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- REST framework / API ----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.URLPathVersioning",
    "ALLOWED_VERSIONS": ["v1"],
    "DEFAULT_VERSION": "v1",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "allauth.headless.contrib.rest_framework.authentication.JWTTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "backend.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "backend.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_RATES": {
        "uploads": env.str("THROTTLE_UPLOADS", default="30/min"),
        "anon": env.str("THROTTLE_ANON", default="120/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Fashion recommendation API",
    "DESCRIPTION": "Closet, catalog, photo search and recommendations for the mobile app.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ShopKindEnum": "apps.catalog.models.Shop.Kind",
        "SearchKindEnum": "apps.recommendations.models.Search.Kind",
    },
}

# --- Accounts (django-allauth, headless for the app) ---------------------------------------
SITE_ID = 1
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="none")
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
HEADLESS_ONLY = False  # the Django admin keeps its own login pages
HEADLESS_CLIENTS = ("app",)
HEADLESS_TOKEN_STRATEGY = "allauth.headless.tokens.strategies.jwt.JWTTokenStrategy"  # noqa: S105
HEADLESS_JWT_ALGORITHM = "RS256"
HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN = env.int("JWT_ACCESS_TOKEN_EXPIRES_IN", default=300)
HEADLESS_JWT_REFRESH_TOKEN_EXPIRES_IN = env.int("JWT_REFRESH_TOKEN_EXPIRES_IN", default=86400 * 30)
HEADLESS_JWT_ROTATE_REFRESH_TOKEN = True
HEADLESS_JWT_STATEFUL_VALIDATION_ENABLED = True
# The PEM itself (JWT_PRIVATE_KEY) or a file holding it (JWT_PRIVATE_KEY_FILE).
HEADLESS_JWT_PRIVATE_KEY = env.str("JWT_PRIVATE_KEY", default="", multiline=True)
JWT_PRIVATE_KEY_FILE = env.str("JWT_PRIVATE_KEY_FILE", default="")
if not HEADLESS_JWT_PRIVATE_KEY and JWT_PRIVATE_KEY_FILE and Path(JWT_PRIVATE_KEY_FILE).is_file():
    HEADLESS_JWT_PRIVATE_KEY = Path(JWT_PRIVATE_KEY_FILE).read_text()
ACCOUNT_ADAPTER = "apps.accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "apps.accounts.adapters.SocialAccountAdapter"
# Kakao users join by signing in: no sign-up form, no email required (Kakao may not share it).
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_REQUIRED = False
SOCIALACCOUNT_STORE_TOKENS = False
# One record per login session (allauth.usersessions), so deleting a user ends them all.
USERSESSIONS_TRACK_ACTIVITY = False

# Kakao login from the app (apps.accounts.kakao). KAKAO_APP_ID: the numeric app id of our
# Kakao app (access tokens issued to any other app are refused). The id_token audience is
# the app key the SDK signed in with: the native app key for the Android/iOS SDK
# (KAKAO_NATIVE_APP_KEY), the REST API key for a web login (KAKAO_REST_API_KEY); either is
# accepted when set.
KAKAO_APP_ID = env.str("KAKAO_APP_ID", default="")
KAKAO_NATIVE_APP_KEY = env.str("KAKAO_NATIVE_APP_KEY", default="")
KAKAO_REST_API_KEY = env.str("KAKAO_REST_API_KEY", default="")
SOCIALACCOUNT_PROVIDERS = {
    "kakao": {
        "APP_ID": KAKAO_APP_ID,
        "AUDIENCES": [key for key in (KAKAO_NATIVE_APP_KEY, KAKAO_REST_API_KEY) if key],
        "TIMEOUT": env.float("KAKAO_TIMEOUT", default=3.0),
        "JWKS_CACHE_SECONDS": env.int("KAKAO_JWKS_CACHE_SECONDS", default=86400),
    },
}

# --- Models (ml) -------------------------------------------------------------------------------
# The ml library reads its own ML_* variables (ml.settings.MLSettings); these are the paths
# Django needs to hand it.
TAXONOMY_DIR = CONFIG_DIR / "taxonomy"
INDEX_DIR = Path(env.str("INDEX_DIR", default=str(VAR_DIR / "index")))
INDEX_N_TREES = env.int("ML_INDEX_N_TREES", default=96)
INDEX_SEARCH_K = env.int("ML_INDEX_SEARCH_K", default=2_500)
INDEX_SEARCH_K_PER_ITEM = env.float("ML_INDEX_SEARCH_K_PER_ITEM", default=0.03)
INDEX_OVERFETCH = env.int("ML_INDEX_OVERFETCH", default=10)
INDEX_ANNOY_DIM = env.int("ML_INDEX_ANNOY_DIM", default=64) or None  # 0: no projection
INDEX_EXACT_BELOW = env.int("ML_INDEX_EXACT_BELOW", default=10_000)
INDEX_REFRESH_SECONDS = env.float("ML_INDEX_REFRESH_SECONDS", default=1.0)
INDEX_GRACE_SECONDS = env.float("ML_INDEX_GRACE_SECONDS", default=600.0)
# Beat rebuilds a category's index once this many crops wait in its delta, or the oldest
# has waited this long.
INDEX_REBUILD_DELTA_SIZE = env.int("INDEX_REBUILD_DELTA_SIZE", default=2000)
INDEX_REBUILD_DELTA_AGE_SECONDS = env.int("INDEX_REBUILD_DELTA_AGE_SECONDS", default=3600)
# The default style model: how many curated catalog neighbours vote.
STYLE_KNN_K = env.int("STYLE_KNN_K", default=15)

# --- Catalog -----------------------------------------------------------------------------------
# The two calls the catalog makes into ml (dotted paths; see apps/catalog/services.py).
CATALOG_IMAGE_ANALYSER = "ml.pipeline.analyse_product_image"
CATALOG_INDEX_BUILDER = "ml.index.build_index"
# Images the import downloads: seconds to wait for a server, and the largest accepted.
CATALOG_IMPORT_DOWNLOAD_TIMEOUT = env.float("CATALOG_IMPORT_DOWNLOAD_TIMEOUT", default=15.0)
CATALOG_IMPORT_MAX_BYTES = env.int("CATALOG_IMPORT_MAX_BYTES", default=UPLOAD_MAX_BYTES)

# --- Logging -----------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "kv": {"format": "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "kv"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "PIL": {"level": "WARNING"},
    },
}

# A row left "processing" (or never picked up) this long is re-queued once, then failed.
PROCESSING_DEADLINE_SECONDS = env.int("PROCESSING_DEADLINE_SECONDS", default=600)

HEALTH_CHECK_TIMEOUT = env.float("HEALTH_CHECK_TIMEOUT", default=3.0)

# Email + password sign-in through the app endpoints (development); off in production
# unless turned on.
ACCOUNTS_PASSWORD_LOGIN_ENABLED = env.bool("ACCOUNTS_PASSWORD_LOGIN_ENABLED", default=False)

# --- Recommendations ---------------------------------------------------------------------------
# A product is "owned" when one of its crops is at least this cosine-similar to one of the
# user's closet items of the same category (or the user said "I own this").
OWNED_SIMILARITY = env.float("OWNED_SIMILARITY", default=0.92)
# A garment of a wannabe look is "owned" when the user's closest closet item is this similar.
LOOK_OWNED_SIMILARITY = env.float("LOOK_OWNED_SIMILARITY", default=0.90)
RECOMMENDATIONS_CACHE_SECONDS = env.int("RECOMMENDATIONS_CACHE_SECONDS", default=600)
RECOMMENDATIONS_MAX_LIMIT = 50

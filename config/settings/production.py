"""The full stack behind a TLS-terminating proxy: PostgreSQL, Redis, S3/MinIO, gunicorn.

It refuses to start when a required variable is missing, naming every one of them.
"""

import os

from django.core.exceptions import ImproperlyConfigured

REQUIRED_VARIABLES = (
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "AWS_STORAGE_BUCKET_NAME",
)
_missing = [name for name in REQUIRED_VARIABLES if not os.environ.get(name, "").strip()]
_key_file = os.environ.get("JWT_PRIVATE_KEY_FILE", "")
if not os.environ.get("JWT_PRIVATE_KEY", "").strip() and not (
    _key_file and os.path.isfile(_key_file)
):
    _missing.append("JWT_PRIVATE_KEY (or JWT_PRIVATE_KEY_FILE naming a readable file)")
if _missing:
    raise ImproperlyConfigured(
        "Production settings need these environment variables: "
        + ", ".join(_missing)
        + ". See config/env/production.env.example for what each one holds."
    )

from .base import *  # noqa: E402, F403
from .base import SECRET_KEY, env  # noqa: E402

if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("local-only"):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be a random string of at least 50 characters "
        "(python -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Container health checks call the service over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
ACCOUNTS_PASSWORD_LOGIN_ENABLED = env.bool("ACCOUNTS_PASSWORD_LOGIN_ENABLED", default=False)

"""Settings for pytest.

The database is PostgreSQL when ``DATABASE_URL`` is set or a server answers on
127.0.0.1:5432 (the services tier), else SQLite; set ``TEST_SERVICES=off`` to force SQLite.
The cache is in memory; services-tier tests point at Redis explicitly.
"""

import os
import socket
import tempfile
from pathlib import Path

import environ

from .keys import generate_rsa_private_key_pem


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.3):
            return True
    except OSError:
        return False


_services = os.environ.get("TEST_SERVICES", "auto")
if "VAR_DIR" not in os.environ:
    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="fashion-test-")
if _services != "off" and "DATABASE_URL" not in os.environ and _port_open("127.0.0.1", 5432):
    user = os.environ.get("PGUSER", "postgres")
    os.environ["DATABASE_URL"] = f"postgres://{user}@127.0.0.1:5432/test"
if _services != "off" and "TEST_REDIS_URL" not in os.environ and _port_open("127.0.0.1", 6379):
    os.environ["TEST_REDIS_URL"] = "redis://127.0.0.1:6379/15"
if _services == "off":
    os.environ.pop("DATABASE_URL", None)
# The default tier never needs a server: the cache is in memory, the broker in memory.
os.environ.pop("REDIS_URL", None)
os.environ.pop("AWS_STORAGE_BUCKET_NAME", None)

from .base import *  # noqa: E402, F403
from .base import VAR_DIR  # noqa: E402

DEBUG = False
TEST_REDIS_URL = environ.Env().str("TEST_REDIS_URL", default="")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The real Redis when it answers (a worker process started by a services-tier test reads
# the same queue); an in-memory broker otherwise.
CELERY_BROKER_URL = TEST_REDIS_URL or "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = (
    {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))}
    if TEST_REDIS_URL
    else {}
)
MEDIA_ROOT = Path(VAR_DIR) / "media"
HEADLESS_JWT_PRIVATE_KEY = generate_rsa_private_key_pem()
ACCOUNTS_PASSWORD_LOGIN_ENABLED = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT = Path(VAR_DIR) / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

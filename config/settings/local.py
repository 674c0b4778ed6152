"""The embedded profile for a laptop: everything under var/, debug on, dev login on."""

from .base import *  # noqa: F403
from .base import HEADLESS_JWT_PRIVATE_KEY, VAR_DIR, env
from .keys import load_or_create_private_key

DEBUG = env.bool("DJANGO_DEBUG", default=True)

for _sub in ("media", "cache", "broker/queue", "broker/control", "broker/processed", "index"):
    (VAR_DIR / _sub).mkdir(parents=True, exist_ok=True)

if not HEADLESS_JWT_PRIVATE_KEY:
    HEADLESS_JWT_PRIVATE_KEY = load_or_create_private_key(VAR_DIR / "jwt-private-key.pem")

# Email + password through the app endpoints, so the API can be tried without Kakao.
ACCOUNTS_PASSWORD_LOGIN_ENABLED = env.bool("ACCOUNTS_PASSWORD_LOGIN_ENABLED", default=True)
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

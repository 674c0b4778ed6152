from django.apps import AppConfig


class KakaoProviderConfig(AppConfig):
    """Installed so that allauth's provider registry finds ``apps.accounts.kakao.provider``."""

    name = "apps.accounts.kakao"
    label = "accounts_kakao"
    verbose_name = "Kakao login"

"""Create the local demo admin once and print how to sign in (embedded profile only)."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import User

DEMO_EMAIL = "admin@example.com"


class Command(BaseCommand):
    help = "Create the demo admin (admin@example.com) with a random password kept in var/."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("ensure_demo_admin is for the local profile (DEBUG on) only.")
        password_file = settings.VAR_DIR / "demo-admin-password.txt"
        if password_file.is_file():
            password = password_file.read_text().strip()
        else:
            password = secrets.token_urlsafe(12)
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            User.objects.create_superuser(email=DEMO_EMAIL, password=password, nickname="admin")
        elif not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo admin: http://127.0.0.1:8000/admin/  email {DEMO_EMAIL}  password {password}"
            )
        )

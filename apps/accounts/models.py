"""The service's user: signs in with Kakao (the app) or email + password (curators)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str | None, password: str | None, **extra: Any) -> User:
        email = self.normalize_email(email) if email else None
        user = self.model(email=email, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(
        self, email: str | None = None, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    class Gender(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        OTHER = "other", "Other"
        UNSPECIFIED = "", "Unspecified"

    class AgeBand(models.TextChoices):
        TEENS = "10s", "10s"
        TWENTIES = "20s", "20s"
        THIRTIES = "30s", "30s"
        FORTIES = "40s", "40s"
        FIFTIES_PLUS = "50+", "50 and over"
        UNSPECIFIED = "", "Unspecified"

    # Kakao users may not share an email address: then it stays empty (NULL keeps it unique).
    email = models.EmailField(unique=True, null=True, blank=True)
    nickname = models.CharField(max_length=50, blank=True)
    gender = models.CharField(max_length=10, choices=Gender.choices, blank=True)
    age_band = models.CharField(max_length=5, choices=AgeBand.choices, blank=True)
    preferred_styles = models.JSONField(default=list, blank=True)
    sizes = models.JSONField(default=dict, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.email or self.nickname or f"user {self.pk}"

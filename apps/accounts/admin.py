from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.models import User
from apps.accounts.services import user_delete
from backend.api.errors import ServiceUnavailableError


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["-date_joined"]
    list_display = ["id", "email", "nickname", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "nickname"]
    list_filter = ["is_staff", "is_active", "gender", "age_band"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("nickname", "gender", "age_band", "preferred_styles", "sizes")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        # The same full deletion as the app's DELETE /api/v1/me: files, sessions, cache too.
        self._delete(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            self._delete(request, user)

    def _delete(self, request: HttpRequest, user: User) -> None:
        try:
            user_delete(user=user)
        except ServiceUnavailableError as error:
            self.message_user(request, f"{user}: {error.message}", level=messages.ERROR)

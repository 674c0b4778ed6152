from django.contrib import admin
from django.utils.html import format_html

from apps.closet.models import ClosetItem, Outfit


@admin.register(ClosetItem)
class ClosetItemAdmin(admin.ModelAdmin):
    list_display = ["id", "thumbnail", "user", "category", "colour", "status", "created_at"]
    list_filter = ["status", "category"]
    search_fields = ["user__email", "name"]
    readonly_fields = [
        "status",
        "failure_reason",
        "attempts",
        "requeues",
        "encoder",
        "box",
        "client_box",
        "style_vector",
        "style_source",
        "created_at",
        "updated_at",
    ]
    raw_id_fields = ["user"]

    @admin.display(description="crop")
    def thumbnail(self, item: ClosetItem) -> str:
        image = item.crop or item.photo
        if not image:
            return "-"
        return format_html('<img src="{}" style="height:48px">', image.url)


@admin.register(Outfit)
class OutfitAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "user", "occasion", "season", "created_at"]
    raw_id_fields = ["user"]
    filter_horizontal = ["items"]

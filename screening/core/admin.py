"""Admin registrations. The audit trail is read-only here: the database refuses changes anyway,
and hiding add/change/delete keeps the admin from offering buttons that can only fail."""

import json

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from screening.core.models import AuditEvent


# ModelAdmin is generic only in django-stubs; subscripting it at runtime needs
# django_stubs_ext.monkeypatch() in settings.
@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("seq", "occurred_at", "actor_repr", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
    search_fields = ("actor_repr", "action", "object_id")
    date_hierarchy = "occurred_at"
    ordering = ("-seq",)
    # Counting a long trail on every page load is slow; the chain itself says how long it is.
    show_full_result_count = False
    fields = (
        "seq",
        "occurred_at",
        "actor",
        "actor_repr",
        "action",
        "object_type",
        "object_id",
        "detail_pretty",
        "prev_hash",
        "hash",
    )
    readonly_fields = fields

    @admin.display(description="detail")
    def detail_pretty(self, obj: AuditEvent) -> str:
        return format_html(
            "<pre>{}</pre>", json.dumps(obj.detail, indent=2, sort_keys=True, ensure_ascii=False)
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

"""What an intake prefilled from EHR data was prefilled with, until the clinician confirms it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class IntakePrefill(models.Model):
    """The provenance of an intake's prefilled answers: per fact, the FHIR resources it came
    from (`sources`), and what the data said that was not used (`not_used`: stale, conflicting
    or invalid), as the clinician saw them. Prefilled answers stay marked until the clinician
    saves the intake (`confirmed_at`)."""

    intake = models.OneToOneField(
        "patients.Intake", on_delete=models.CASCADE, related_name="prefill"
    )
    sources = models.JSONField(default=dict)
    not_used = models.JSONField(default=list)
    unmapped = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    def __str__(self) -> str:
        return f"EHR prefill of intake {self.intake_id}"

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One row per prefilled fact, for the intake page."""
        return [
            {"fact": fact, "sources": sources} for fact, sources in sorted(self.sources.items())
        ]

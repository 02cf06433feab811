"""What an intake prefilled from EHR data was prefilled with, until the clinician confirms it."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IntakePrefill(models.Model):
    """The provenance of an intake's prefilled answers: per answer (intake column), the FHIR
    resources it came from (`sources`) and the value prefilled (`values`), and what the data
    said that was not used (`not_used`: stale, conflicting or invalid), as the clinician saw
    them. The clinician checks each prefilled answer (`checked`: column → outcome, who, when):
    confirmed, cleared or changed; until then it is pending and the screening does not run.
    `confirmed_at` says when the last one was checked."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Not yet checked"
        CONFIRMED = "confirmed", "Confirmed"
        CLEARED = "cleared", "Cleared (not recorded)"
        CHANGED = "changed", "Changed by the clinician"

    intake = models.OneToOneField(
        "patients.Intake", on_delete=models.CASCADE, related_name="prefill"
    )
    sources = models.JSONField(default=dict)
    values = models.JSONField(default=dict)
    checked = models.JSONField(default=dict)
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

    def outcome(self, fact: str) -> str:
        """How the clinician checked one prefilled answer (`Outcome`), as stored."""
        return str(self.checked.get(fact, {}).get("outcome", self.Outcome.PENDING))

    @property
    def pending(self) -> list[str]:
        """Prefilled answers not checked yet, as stored."""
        return [f for f in sorted(self.sources) if self.outcome(f) == self.Outcome.PENDING]


class CdsTokenUse(models.Model):
    """A CDS client's token seen once: its `jti` may not come again (replay)."""

    issuer = models.CharField(max_length=200)
    jti = models.CharField(max_length=200)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "jti"], name="cds_jti_once")]

    def __str__(self) -> str:
        return f"token of {self.issuer}"


class CdsCard(models.Model):
    """A card the CDS service returned, so feedback on its `uuid` names the rule."""

    uuid = models.UUIDField(unique=True)
    service = models.CharField(max_length=64)
    rule = models.CharField(max_length=40, blank=True)
    indicator = models.CharField(max_length=16)
    issued_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"card {self.uuid}"


class CdsFeedback(models.Model):
    """An EHR's feedback on a card: accepted or overridden (with its reason)."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        OVERRIDDEN = "overridden", "Overridden"

    card = models.ForeignKey(CdsCard, on_delete=models.PROTECT, related_name="feedback")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    reason_code = models.CharField(max_length=64, blank=True)
    comment = models.TextField(blank=True)
    outcome_at = models.CharField(max_length=40)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.outcome} on {self.card_id}"

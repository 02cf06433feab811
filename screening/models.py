"""The screening domain's models: a screening run, the clinician's reviews of its flags, and the
flags it raised (copied out for reviewers' filters)."""

import uuid
from functools import cached_property

from django.conf import settings
from django.db import models

from rules.engine import ScreeningResult


class Screening(models.Model):
    """One run of the rules over an intake, with everything the clinician saw.

    `facts`, `result` and `rule_texts` are snapshots written once when the screening is run
    (the database refuses to change them), so the page is identical forever, whatever rule
    admins publish later. A signed screening is locked; re-running an intake supersedes its
    earlier unsigned screenings.
    """

    class Status(models.TextChoices):
        UNSIGNED = "unsigned", "Awaiting sign-off"
        SUPERSEDED = "superseded", "Superseded (its intake changed or ran again)"
        SIGNED = "signed", "Signed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="screenings"
    )
    intake = models.ForeignKey(
        "patients.Intake", on_delete=models.PROTECT, related_name="screenings"
    )
    ruleset_version = models.ForeignKey(
        "rules.RuleSetVersion", on_delete=models.PROTECT, related_name="screenings"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UNSIGNED)
    screening_date = models.DateField(help_text="The date ages were computed for.")
    facts = models.JSONField(help_text="The input facts as evaluated.")
    result = models.JSONField(help_text="The engine's result, as shown.")
    rule_texts = models.JSONField(help_text="Each rule's text as shown, by rule ID.")
    disposition = models.CharField(max_length=20, db_index=True)
    urgent = models.BooleanField(default=False)
    amends = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="amended_by",
        help_text="The signed screening this one amends.",
    )
    run_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    run_at = models.DateTimeField()
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    stale_rules_reason = models.TextField(
        blank=True,
        help_text="Why it was signed although its rule-set version was no longer published.",
    )
    incomplete_reasons = models.JSONField(
        default=dict,
        blank=True,
        help_text="Why missing information could not be obtained, by fact (`*`: for all), "
        "given when an incomplete result was signed.",
    )

    class Meta:
        ordering = ["-run_at"]
        permissions = [
            ("review_screening", "Can use the reviewer desk: every screening, exports, analytics"),
        ]
        indexes = [
            models.Index(fields=["run_by", "-run_at"]),
            # Reviewers' list: keyset pages ordered by (run_at, id), one index per filter that
            # narrows enough to lead (urgent is rare, so a partial index).
            models.Index(fields=["run_at", "id"], name="screening_run_at_id"),
            models.Index(fields=["disposition", "run_at", "id"], name="screening_disp_run_at"),
            models.Index(fields=["status", "run_at", "id"], name="screening_status_run_at"),
            models.Index(
                fields=["ruleset_version", "run_at", "id"], name="screening_version_run_at"
            ),
            models.Index(
                fields=["run_at", "id"],
                condition=models.Q(urgent=True),
                name="screening_urgent_run_at",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    status="signed", signed_by__isnull=False, signed_at__isnull=False
                )
                | (~models.Q(status="signed") & models.Q(signed_by__isnull=True)),
                name="screening_signed_has_signer",
            ),
        ]

    def __str__(self) -> str:
        return f"screening {self.uuid}"

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED

    @cached_property
    def outcome(self) -> ScreeningResult:
        """The stored result, read back through the engine's own type: every page, export and
        service reads it here rather than as JSON."""
        return ScreeningResult.model_validate(self.result)


class FlagReview(models.Model):
    """A clinician's acknowledgement of a review/urgent flag, or documented override of a stop."""

    class Kind(models.TextChoices):
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        OVERRIDDEN = "overridden", "Overridden"

    class OverrideReason(models.TextChoices):
        BENEFIT_OUTWEIGHS_RISK = "benefit_outweighs_risk", "Benefit judged to outweigh the risk"
        SPECIALIST_APPROVAL = "specialist_approval", "Specialist or MDT approval documented"
        INFORMATION_INCORRECT = "information_incorrect", "Recorded information is incorrect"
        CONDITION_RESOLVED = "condition_resolved", "Condition has resolved or is controlled"
        OTHER = "other", "Other (explained below)"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    screening = models.ForeignKey(Screening, on_delete=models.PROTECT, related_name="reviews")
    rule_id = models.CharField(max_length=40)
    severity = models.CharField(max_length=8)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    reason_code = models.CharField(
        max_length=30, choices=OverrideReason.choices, blank=True, help_text="Overrides only."
    )
    reason = models.TextField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField()
    carried_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="carried_to",
        help_text="The review of the same flag, fired for the same reasons, on the screening "
        "this one replaced: it is carried forward, not made again.",
    )

    class Meta:
        ordering = ["screening", "reviewed_at"]
        constraints = [
            models.UniqueConstraint(fields=["screening", "rule_id"], name="one_review_per_flag"),
            models.CheckConstraint(
                condition=~models.Q(kind="overridden") | ~models.Q(reason_code=""),
                name="override_has_reason_code",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.kind}"


class ScreeningFlag(models.Model):
    """A flag one screening raised, copied out of `Screening.result` so reviewers can filter by
    rule and count overrides without reading JSON.

    Written by `screening_run` with the screening; `flag_acknowledge` and `flag_override` copy
    the review's kind and time here. `run_at` repeats the screening's, so analytics over a period
    read this table alone.
    """

    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="fired_flags")
    rule_id = models.CharField(max_length=40)
    severity = models.CharField(max_length=8)
    run_at = models.DateTimeField()
    review_kind = models.CharField(max_length=12, choices=FlagReview.Kind.choices, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["screening", "rule_id"]
        indexes = [
            models.Index(fields=["rule_id", "run_at"], name="screeningflag_rule_run_at"),
            models.Index(
                fields=["screening"],
                condition=models.Q(severity="stop", review_kind="overridden"),
                name="screeningflag_overridden_stop",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["screening", "rule_id"], name="one_flag_per_rule"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} on {self.screening_id}"

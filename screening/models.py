"""The audit trail: an append-only, hash-chained log of who did what to which object.

Rows are written only through `screening.audit.audit_record`, which links each event to the one
before it and keeps `AuditChainHead` in step; `screening.audit.audit_verify` walks the chain.
The database refuses UPDATE and DELETE on `AuditEvent` (migration `0003_auditevent_append_only`).
"""

import uuid

from django.conf import settings
from django.db import models

# prev_hash of the first event: there is no event before it.
GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    """One thing that happened, with a readable snapshot that survives later edits.

    `actor_repr` and `detail` are copies taken at the time, like `LogEntry.object_repr` in
    Django's admin: the row still reads correctly after the user or object changes. The actor
    is protected rather than cascaded because deleting a user must never touch audit rows
    (accounts are deactivated instead).
    """

    seq = models.PositiveBigIntegerField(
        unique=True, editable=False, help_text="Position in the hash chain, contiguous from 1."
    )
    occurred_at = models.DateTimeField(db_index=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
        help_text="Empty for the system or an anonymous visitor.",
    )
    actor_repr = models.CharField(
        max_length=150, blank=True, help_text="The actor's username when the event happened."
    )
    action = models.CharField(max_length=64, db_index=True, help_text="For example auth.login.")
    object_type = models.CharField(max_length=64, blank=True, help_text="app_label.model")
    object_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)

    class Meta:
        ordering = ("seq",)
        indexes = (models.Index(fields=["object_type", "object_id"]),)
        constraints = (
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="auditevent_seq_from_1"),
        )

    def __str__(self) -> str:
        who = f" by {self.actor_repr}" if self.actor_repr else ""
        target = f" on {self.object_type}:{self.object_id}" if self.object_type else ""
        return f"#{self.seq} {self.action}{who}{target}"


class AuditChainHead(models.Model):
    """The single row recording the last event's seq and hash.

    Updated in the same transaction as every insert, so a chain whose tail was deleted no longer
    ends where the head says it does. Writers lock this row to take turns (see `audit_record`).
    """

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        constraints = (
            models.CheckConstraint(condition=models.Q(id=1), name="auditchainhead_single_row"),
        )

    def __str__(self) -> str:
        return f"audit chain head at seq {self.last_seq}"


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

    class Meta:
        ordering = ["-run_at"]
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

"""The platform's models: the audit trail, an append-only, hash-chained log of who did what to
which object.

Rows are written only through `screening.core.audit.audit_record`, which links each event to the
one before it and keeps `AuditChainHead` in step; `screening.core.audit.audit_verify` walks the
chain. The database refuses UPDATE and DELETE on `AuditEvent` (migration
`screening.0003_auditevent_append_only`), TRUNCATE on every audit table, and moving the chain
head backwards (`core.0002`). The tables keep the names they had when these models lived in the
screening app.

`AuditCheckpoint` rows are signed statements of the chain's length and head hash
(`screening.core.checkpoints`); each is also appended to a sink outside the database, which is
what verification trusts.
"""

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
        db_table = "screening_auditevent"
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
        db_table = "screening_auditchainhead"
        constraints = (
            models.CheckConstraint(condition=models.Q(id=1), name="auditchainhead_single_row"),
        )

    def __str__(self) -> str:
        return f"audit chain head at seq {self.last_seq}"


class AuditCheckpoint(models.Model):
    """A signed statement that the chain had `seq` events ending in `head_hash` at `created_at`.

    Written by `screening.core.checkpoints.audit_checkpoint` with an Ed25519 key that is not in
    the database, and appended to the outside sinks (a JSON-lines file; optionally an RFC 3161
    timestamp authority, whose token is kept here too). Numbers run from 1 without gaps and each
    checkpoint names the digest of the one before it (`prev_digest`), so the checkpoints form a
    chain of their own. Append-only in the database, like the events.
    """

    number = models.PositiveBigIntegerField(unique=True, editable=False)
    seq = models.PositiveBigIntegerField(
        editable=False, help_text="The chain's length: the seq of its last event (0 when empty)."
    )
    head_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(editable=False)
    key_id = models.CharField(
        max_length=32, editable=False, help_text="Which public key verifies the signature."
    )
    prev_digest = models.CharField(
        max_length=64, editable=False, help_text="SHA-256 of the previous checkpoint's statement."
    )
    signature = models.CharField(max_length=100, editable=False, help_text="Ed25519, base64.")
    timestamp_token = models.TextField(
        blank=True, editable=False, help_text="The RFC 3161 timestamp response, base64, if any."
    )

    class Meta:
        db_table = "screening_auditcheckpoint"
        ordering = ("number",)
        constraints = (
            models.CheckConstraint(
                condition=models.Q(number__gte=1), name="auditcheckpoint_number_from_1"
            ),
        )

    def __str__(self) -> str:
        return f"checkpoint #{self.number} at seq {self.seq}"


class SignInFailureTally(models.Model):
    """Failed sign-ins that are counted rather than audited one by one, per address and hour.

    A failed sign-in with a username that names no account, or one refused because its account
    or address is locked, costs anyone nothing to repeat, and the audit trail is permanent: one
    row per attempt would let an outsider grow it without bound. So the first such failure from
    an address in an hour is an audit event (`auth.login_failed`) and the rest of that hour are
    counted here; when the hour is over, `sign_in_failures_summarise` appends one
    `auth.login_failed_summary` event with the count and marks the tally summarised. Tallies are
    operational counters, deleted a week after their summary; the events stay.
    """

    class Reason(models.TextChoices):
        UNKNOWN_ACCOUNT = "unknown_account", "username names no account"
        LOCKED_OUT = "locked_out", "refused while locked out"

    address = models.CharField(max_length=45, blank=True, help_text="Empty when unknown.")
    window_start = models.DateTimeField()
    reason = models.CharField(max_length=16, choices=Reason.choices)
    #: The account's primary key for a refused locked-out account, empty for unknown usernames.
    account = models.CharField(max_length=20, blank=True)
    failures = models.PositiveIntegerField(default=1)
    last_at = models.DateTimeField()
    summarised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("address", "window_start", "reason", "account"),
                name="signinfailuretally_one_per_window",
            ),
        )
        indexes = (models.Index(fields=("summarised_at", "window_start")),)

    def __str__(self) -> str:
        return f"{self.failures} failed sign-ins ({self.reason}) from {self.window_start:%Y-%m-%d %H:00}"

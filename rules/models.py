"""Versioned rule sets.

A rule set (e.g. "ketamine") has versions. A version is a draft (editable), published (the one
in force; immutable) or retired (was published; immutable). Editing makes a new draft; publishing
gives it the next number and retires the previous one. Screenings point at the exact version
they used, so publishing never changes what a past screening showed.

Immutability is enforced three times: here (save/delete refuse), in the services, and by database
triggers (migration 0002) so that not even a queryset `.update()` can change a published rule.

Test cases belong to a rule set (every version is checked against the same cases); impact
previews belong to a draft and record what publishing it would change for past screenings.
"""

import uuid

from django.conf import settings
from django.db import models


class ImmutableVersionError(Exception):
    """A published or retired rule-set version (or one of its rules) was about to change."""


class RuleSet(models.Model):
    #: What rule administration asks of a user (granted to rule admins by `0004_role_permissions`).
    ADMIN_PERMISSION = "rules.change_ruleset"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.title


class RuleSetVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    class Approval(models.TextChoices):
        NONE = "", "Not submitted"
        SUBMITTED = "submitted", "Submitted for approval"
        APPROVED = "approved", "Approved"
        RETURNED = "returned", "Returned with a comment"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(
        null=True, blank=True, help_text="Given when the version is published."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    based_on = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="drafts"
    )
    change_note = models.TextField(blank=True)
    language = models.PositiveSmallIntegerField(
        "rule language level",
        default=1,
        help_text="How the engine reads this version's rules (rules.engine.LANGUAGES): fixed with "
        "the version, so a published version never changes meaning; a draft takes its base's.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    published_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    # Two-person approval of a draft (`rules.services.rule_set_submit` and after): who submitted
    # it, who approved it or returned it with a comment, and when it is to be published.
    approval = models.CharField(
        max_length=10, choices=Approval.choices, default=Approval.NONE, blank=True
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_note = models.TextField(blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    returned_at = models.DateTimeField(null=True, blank=True)
    return_comment = models.TextField(blank=True)
    publish_after = models.DateTimeField(
        null=True, blank=True, help_text="When a scheduled publish is due (run by the worker)."
    )
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    single_person = models.BooleanField(
        default=False,
        help_text="Published without a second rule admin's approval (RULES_SINGLE_PERSON_PUBLISH).",
    )

    class Meta:
        ordering = ["rule_set", "-number", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule_set", "number"], name="rules_version_number_unique"
            ),
            models.UniqueConstraint(
                fields=["rule_set"],
                condition=models.Q(status="published"),
                name="rules_one_published_version",
            ),
            models.UniqueConstraint(
                fields=["rule_set"],
                condition=models.Q(status="draft"),
                name="rules_one_open_draft",
                violation_error_message="This rule set already has an open draft.",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(number__isnull=False),
                name="rules_published_version_has_number",
            ),
        ]

    def __str__(self) -> str:
        label = f"version {self.number}" if self.number else "draft"
        return f"{self.rule_set.name} {label}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            stored = RuleSetVersion.objects.filter(pk=self.pk).values("status").first()
            if stored and stored["status"] != self.Status.DRAFT:
                retiring = (
                    stored["status"] == self.Status.PUBLISHED and self.status == self.Status.RETIRED
                )
                if not retiring:
                    raise ImmutableVersionError(f"{self} is {stored['status']} and cannot change")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        if not self.is_draft:
            raise ImmutableVersionError(f"{self} is {self.status} and cannot be deleted")
        return super().delete(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_locked_for_approval(self) -> bool:
        """A submitted or approved draft: its rules stay as the approver saw them."""
        return self.is_draft and self.approval in (self.Approval.SUBMITTED, self.Approval.APPROVED)


class Rule(models.Model):
    """One rule of one version. Logic is rule-language text, checked by the engine on save."""

    class Kind(models.TextChoices):
        INDICATION = "indication", "Indication"
        CONSIDERATION = "consideration", "Consideration"

    class Severity(models.TextChoices):
        STOP = "stop", "Stop"
        URGENT = "urgent", "Urgent"
        REVIEW = "review", "Review"
        INFO = "info", "Info"

    #: The rule's text: everything a clinician is shown of it, or that decides when it fires.
    TEXT_FIELDS = (
        "kind",
        "condition",
        "severity",
        "title",
        "message",
        "evidence",
        "source",
        "diagnosis_logic",
        "logic",
    )

    version = models.ForeignKey(RuleSetVersion, on_delete=models.PROTECT, related_name="rules")
    rule_id = models.CharField(max_length=40)
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    condition = models.CharField(max_length=32, blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices, blank=True)
    title = models.CharField(max_length=200)
    message = models.TextField(blank=True)
    evidence = models.TextField(blank=True)
    source = models.CharField(max_length=500, blank=True)
    diagnosis_logic = models.TextField(blank=True)
    logic = models.TextField()

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "rule_id"], name="rules_rule_id_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.title}"

    def save(self, *args: object, **kwargs: object) -> None:
        self._check_draft()
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        self._check_draft()
        return super().delete(*args, **kwargs)  # type: ignore[arg-type]

    def _check_draft(self) -> None:
        status = RuleSetVersion.objects.filter(pk=self.version_id).values_list("status", flat=True)
        if status.first() != RuleSetVersion.Status.DRAFT:
            raise ImmutableVersionError(
                f"{self.rule_id} belongs to a {status.first()} version and cannot change"
            )

    def text(self) -> dict[str, str]:
        """This rule's text (`TEXT_FIELDS`): what a screening stores as shown, what a draft
        copies, what audit events snapshot."""
        return {name: getattr(self, name) for name in self.TEXT_FIELDS}

    def as_spec(self) -> dict[str, object]:
        """This rule as the engine's `RuleSpec` fields."""
        spec: dict[str, object] = {
            "id": self.rule_id,
            "kind": self.kind,
            "title": self.title,
            "message": self.message,
            "evidence": self.evidence,
            "source": self.source,
            "logic": self.logic,
        }
        if self.kind == self.Kind.INDICATION:
            spec.update(condition=self.condition, diagnosis=self.diagnosis_logic)
        else:
            spec["severity"] = self.severity
        return spec


class RuleTestCase(models.Model):
    """A facts document and the outcome the rule set must give for it.

    `expected` has the shape of the clinical vignettes: `disposition`, `urgent`, `indications`
    (condition → status), `flags` (sorted rule IDs) and `missing` (fact names). A draft cannot
    be published while any case of its rule set gives a different outcome.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="test_cases")
    name = models.SlugField(max_length=80)
    description = models.TextField(blank=True)
    facts = models.JSONField(help_text="The input document, as the screen command reads it.")
    expected = models.JSONField(help_text="The outcome the rule set must give.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["rule_set", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule_set", "name"], name="rules_test_case_name_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ImpactPreview(models.Model):
    """What publishing a draft would change: every past screening re-evaluated under it.

    Runs in the background (`rules.tasks.impact_preview_run`); the counters are written in
    batches so the page can show progress. `fingerprint` identifies the draft's rules as they
    were evaluated, so a preview of a draft edited since then is shown as out of date.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    draft = models.ForeignKey(
        RuleSetVersion, on_delete=models.CASCADE, related_name="impact_previews"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    fingerprint = models.CharField(max_length=64, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    changed_disposition = models.PositiveIntegerField(default=0)
    changed_flags = models.PositiveIntegerField(default=0)
    needs_new_questions = models.PositiveIntegerField(
        default=0,
        help_text="Screenings whose only change is to become incomplete until questions their "
        "own version never asked are answered (counted in changed_disposition too).",
    )
    new_questions = models.JSONField(
        default=list,
        blank=True,
        help_text="The facts those screenings need: read by the draft, not by their version.",
    )
    unreadable = models.PositiveIntegerField(
        default=0, help_text="Stored facts that no longer pass validation (not compared)."
    )
    transitions = models.JSONField(
        default=dict,
        blank=True,
        help_text='Disposition changes counted by kind: {"eligible>review_required": 37, ...}.',
    )
    examples = models.JSONField(
        default=list,
        blank=True,
        help_text="Some changed screenings: dispositions, flags and their facts without dates.",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["draft", "-requested_at"]
        get_latest_by = "requested_at"

    def __str__(self) -> str:
        return f"impact preview of {self.draft} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def transition_counts(self) -> list[tuple[str, str, int]]:
        """Disposition changes as (from, to, how many), the most frequent first."""
        counts = [(*key.split(">", 1), count) for key, count in (self.transitions or {}).items()]
        return sorted(
            ((old, new, count) for old, new, count in counts), key=lambda row: (-row[2], row[:2])
        )

    @property
    def percent(self) -> int:
        """Progress as a whole percentage (100 once done, even with no screenings)."""
        if self.status == self.Status.DONE:
            return 100
        if not self.total:
            return 0
        return min(100, self.processed * 100 // self.total)

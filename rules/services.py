"""Changes to rule sets: drafts and their rules, test cases, impact previews, publishing.

Every service checks that the user is a rule admin, makes its change and writes its audit event
in one transaction (the audit write last: it holds the chain lock until commit). Only drafts
change: a service locks the draft's row and refuses when it is no longer a draft, and the
models and database triggers refuse too. Field problems are raised as `ValidationError`s keyed
by field, so a form shows them beside the field; other refusals are `ServiceError`s.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django_tasks.base import TaskResult

from rules.cases import CaseSummary, case_check, cases_check
from rules.digests import version_digest
from rules.engine import RuleSetInvalid
from rules.impact import rules_fingerprint
from rules.loader import compiled_version
from rules.models import ImpactPreview, Rule, RuleSet, RuleSetVersion, RuleTestCase
from rules.tasks import impact_preview_run, rule_set_publish_due
from rules.validators import (
    clean_expected,
    validate_case_facts,
    validate_rule_id,
    validate_rule_values,
)
from screening.core.audit import audit_record
from screening.core.errors import LockedError, ServiceError
from screening.core.permissions import has_perm
from screening.core.queue import enqueue_after_commit

AnyUser = AbstractBaseUser | AnonymousUser

#: Fields of a rule an admin may edit, by kind. An indication rule's condition is fixed.
EDITABLE_FIELDS: dict[str, tuple[str, ...]] = {
    Rule.Kind.INDICATION: ("title", "message", "evidence", "source", "diagnosis_logic", "logic"),
    Rule.Kind.CONSIDERATION: ("title", "message", "evidence", "source", "severity", "logic"),
}


class DraftExists(ServiceError):
    """The rule set already has an open draft; `draft` is it."""

    def __init__(self, draft: RuleSetVersion) -> None:
        self.draft = draft
        who = draft.created_by.get_username() if draft.created_by else "another admin"
        when = timezone.localtime(draft.created_at).strftime("%d %b %Y %H:%M")
        super().__init__(
            f"{draft.rule_set.title} already has an open draft, started by {who} on {when}. "
            "Continue that draft, or discard it before starting another: "
            "one draft per rule set at a time."
        )


class PublishRefused(ServiceError):
    """The draft cannot be published yet; `problems` lists every reason."""

    def __init__(self, summary: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(summary)


def require_rule_admin(user: AnyUser) -> User:
    """`user`, who must be a signed-in rule admin (PermissionDenied otherwise)."""
    if not has_perm(user, RuleSet.ADMIN_PERMISSION):
        raise PermissionDenied("Only rule admins can change rule sets.")
    return cast(User, user)


def _lock_draft(version: RuleSetVersion, *, editing: bool = False) -> RuleSetVersion:
    """Re-read `version` under a row lock; refuse unless it is still a draft (and, when
    `editing` its rules, unless it is neither submitted for approval nor approved)."""
    current = (
        RuleSetVersion.objects.select_for_update(of=("self",))
        .select_related("rule_set", "based_on", "created_by", "submitted_by")
        .get(pk=version.pk)
    )
    if not current.is_draft:
        raise LockedError(
            f"{current.rule_set.title} version {current.number} is {current.status} and never "
            "changes: start a draft to edit its rules."
        )
    if editing and current.is_locked_for_approval:
        raise LockedError(
            f"This draft is {current.get_approval_display().lower()}: its rules stay as the "
            "approver sees them. Another rule admin can return it to be edited."
        )
    return current


def _rule_snapshot(rule: Rule) -> dict[str, str]:
    return rule.text()


def _version_detail(version: RuleSetVersion, **extra: Any) -> dict[str, Any]:
    return {"rule_set": version.rule_set.name, "version": version.number, **extra}


# --- drafts ----------------------------------------------------------------------------------


def draft_start(
    *, rule_set: RuleSet, user: AnyUser, from_version: RuleSetVersion | None = None
) -> RuleSetVersion:
    """Start a draft of `rule_set` as a copy of every rule of its published version, or of an
    earlier version `from_version` (a restore: rolling back makes a new version, it never
    rewrites one).

    Raises `DraftExists` when the rule set already has an open draft.
    """
    user = require_rule_admin(user)
    with transaction.atomic():
        rule_set = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
        existing = (
            rule_set.versions.select_related("created_by", "rule_set")
            .filter(status=RuleSetVersion.Status.DRAFT)
            .first()
        )
        if existing is not None:
            raise DraftExists(existing)
        versions = rule_set.versions.exclude(status=RuleSetVersion.Status.DRAFT)
        if from_version is None:
            base = versions.filter(status=RuleSetVersion.Status.PUBLISHED).first()
        else:
            base = versions.filter(pk=from_version.pk).first()
            if base is None:
                raise ServiceError(
                    "Only a published or retired version of this rule set can be restored."
                )
        if base is None:
            raise ServiceError(f"{rule_set.title} has no published version to start a draft from.")
        try:
            with transaction.atomic():
                draft = RuleSetVersion.objects.create(
                    rule_set=rule_set, based_on=base, created_by=user, language=base.language
                )
        except IntegrityError:  # a draft committed between the check and the insert
            raise DraftExists(
                rule_set.versions.select_related("created_by", "rule_set").get(
                    status=RuleSetVersion.Status.DRAFT
                )
            ) from None
        copies = [
            Rule(
                version=draft,
                rule_id=rule.rule_id,
                position=rule.position,
                **rule.text(),
            )
            for rule in base.rules.order_by("position")
        ]
        Rule.objects.bulk_create(copies)
        audit_record(
            actor=user,
            action="rules.draft_start",
            target=draft,
            detail=_version_detail(
                draft,
                based_on=base.number,
                rules=len(copies),
                **({"restore": True} if from_version is not None else {}),
            ),
        )
    return draft


def draft_discard(*, draft: RuleSetVersion, user: AnyUser) -> None:
    """Delete a draft with its rules and impact previews. Published versions are never deleted."""
    user = require_rule_admin(user)
    with transaction.atomic():
        draft = _lock_draft(draft)
        detail = _version_detail(
            draft,
            based_on=draft.based_on.number if draft.based_on else None,
            started_by=draft.created_by.get_username() if draft.created_by else "",
            rules=draft.rules.count(),
        )
        draft_uuid = draft.uuid
        draft.impact_previews.all().delete()
        draft.rules.all().delete()
        draft.delete()
        audit_record(
            actor=user,
            action="rules.draft_discard",
            object_type=RuleSetVersion._meta.label_lower,  # the draft is gone: name it
            object_id=draft_uuid,
            detail=detail,
        )


# --- rules of a draft ------------------------------------------------------------------------


def rule_update(*, rule: Rule, user: AnyUser, values: Mapping[str, str]) -> list[str]:
    """Change a draft rule's text or logic; return the names of the fields that changed.

    `values` holds some of the rule kind's editable fields (an indication rule's condition and
    a rule's kind are fixed). Logic is checked with the engine; problems are raised as a
    `ValidationError` by field. Nothing is saved or audited when nothing changed.
    """
    user = require_rule_admin(user)
    with transaction.atomic():
        draft = _lock_draft(rule.version, editing=True)
        rule = Rule.objects.get(pk=rule.pk, version=draft)
        editable = EDITABLE_FIELDS[rule.kind]
        unknown = set(values) - set(editable)
        if unknown:
            raise ValidationError(
                {
                    name: f"{rule.get_kind_display()} rules do not have this field."
                    for name in unknown
                }
            )
        validate_rule_values(rule.kind, values)
        changes = _apply_changes(rule, values)
        if not changes:
            return []
        rule.save(update_fields=list(changes))
        audit_record(
            actor=user,
            action="rules.rule_update",
            target=draft,
            detail=_version_detail(draft, rule=rule.rule_id, changes=changes),
        )
    return list(changes)


def rule_add(
    *,
    draft: RuleSetVersion,
    user: AnyUser,
    rule_id: str,
    severity: str,
    title: str,
    logic: str,
    message: str = "",
    evidence: str = "",
    source: str = "",
) -> Rule:
    """Add a consideration rule to a draft, after its other rules.

    `rule_id` must match the engine's pattern and be new in this draft.
    """
    user = require_rule_admin(user)
    values = {
        "title": title,
        "message": message,
        "evidence": evidence,
        "source": source,
        "severity": severity,
        "logic": logic,
    }
    with transaction.atomic():
        draft = _lock_draft(draft, editing=True)
        errors: dict[str, list[Any]] = {}
        try:
            validate_rule_id(rule_id)
        except ValidationError as exc:
            errors["rule_id"] = exc.error_list
        if draft.rules.filter(rule_id=rule_id).exists():
            errors.setdefault("rule_id", []).append(
                f"{rule_id} is already a rule of this draft: choose another ID."
            )
        try:
            validate_rule_values(Rule.Kind.CONSIDERATION, values)
        except ValidationError as exc:
            for name, messages in exc.error_dict.items():
                errors.setdefault(name, []).extend(messages)
        if errors:
            raise ValidationError(errors)
        position = (draft.rules.aggregate(last=Max("position"))["last"] or 0) + 1
        rule = Rule.objects.create(
            version=draft,
            rule_id=rule_id,
            position=position,
            kind=Rule.Kind.CONSIDERATION,
            **values,
        )
        audit_record(
            actor=user,
            action="rules.rule_add",
            target=draft,
            detail=_version_detail(draft, rule=rule_id, text=_rule_snapshot(rule)),
        )
    return rule


def rule_retire(*, rule: Rule, user: AnyUser) -> None:
    """Remove a consideration rule from a draft. Indication rules stay: every result lists
    all eight conditions. Published versions keep the rule."""
    user = require_rule_admin(user)
    with transaction.atomic():
        draft = _lock_draft(rule.version, editing=True)
        rule = Rule.objects.get(pk=rule.pk, version=draft)
        if rule.kind == Rule.Kind.INDICATION:
            raise ServiceError(
                f"{rule.rule_id} is an indication rule and cannot be retired: every screening "
                "result lists all eight conditions. Edit its text or logic instead."
            )
        snapshot, snapshot_id = _rule_snapshot(rule), rule.rule_id
        rule.delete()
        audit_record(
            actor=user,
            action="rules.rule_retire",
            target=draft,
            detail=_version_detail(draft, rule=snapshot_id, text=snapshot),
        )


# --- test cases ------------------------------------------------------------------------------


def _clean_case(
    *, rule_set: RuleSet, name: str, facts: Any, expected: Any, today: date, exclude: int | None
) -> dict[str, Any]:
    errors: dict[str, list[Any]] = {}
    name = name.strip()
    if not name:
        errors["name"] = ["Give the case a short name."]
    else:
        same_name = RuleTestCase.objects.filter(rule_set=rule_set, name=name)
        if exclude is not None:
            same_name = same_name.exclude(pk=exclude)
        if same_name.exists():
            errors["name"] = [f"{rule_set.title} already has a case called {name}."]
    try:
        validate_case_facts(facts, today=today)
    except ValidationError as exc:
        errors["facts"] = exc.error_list
    try:
        expected = clean_expected(expected)
    except ValidationError as exc:
        errors["expected"] = exc.error_list
    if errors:
        raise ValidationError(errors)
    return {"name": name, "facts": facts, "expected": expected}


def rule_case_create(
    *,
    rule_set: RuleSet,
    user: AnyUser,
    name: str,
    description: str,
    facts: Any,
    expected: Any,
    today: date | None = None,
) -> RuleTestCase:
    """Add a test case to a rule set: facts and the outcome every version must give."""
    user = require_rule_admin(user)
    with transaction.atomic():
        rule_set = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
        clean = _clean_case(
            rule_set=rule_set,
            name=name,
            facts=facts,
            expected=expected,
            today=today or timezone.localdate(),
            exclude=None,
        )
        case = RuleTestCase.objects.create(
            rule_set=rule_set,
            description=description.strip(),
            created_by=user,
            updated_by=user,
            **clean,
        )
        audit_record(
            actor=user,
            action="rules.case_create",
            target=case,
            detail={
                "rule_set": rule_set.name,
                "case": case.name,
                "description": case.description,
                "facts": case.facts,
                "expected": case.expected,
            },
        )
    return case


def rule_case_update(
    *,
    case: RuleTestCase,
    user: AnyUser,
    name: str,
    description: str,
    facts: Any,
    expected: Any,
    today: date | None = None,
) -> list[str]:
    """Edit a test case; return the names of the fields that changed (audited old → new)."""
    user = require_rule_admin(user)
    with transaction.atomic():
        case = RuleTestCase.objects.select_for_update().select_related("rule_set").get(pk=case.pk)
        clean = _clean_case(
            rule_set=case.rule_set,
            name=name,
            facts=facts,
            expected=expected,
            today=today or timezone.localdate(),
            exclude=case.pk,
        )
        values = {**clean, "description": description.strip()}
        changes = _apply_changes(case, values)
        if not changes:
            return []
        case.updated_by = user
        case.save(update_fields=[*changes, "updated_by", "updated_at"])
        audit_record(
            actor=user,
            action="rules.case_update",
            target=case,
            detail={"rule_set": case.rule_set.name, "case": case.name, "changes": changes},
        )
    return list(changes)


def rule_case_expectation_update(
    *,
    case: RuleTestCase,
    draft: RuleSetVersion,
    user: AnyUser,
    reason: str,
    today: date | None = None,
) -> RuleTestCase:
    """Make the draft's actual outcome for `case` its expected outcome, with the admin's reason.

    This is how an intended change of outcome is accepted before publishing: the old and new
    expectation and the reason go into the audit trail.
    """
    user = require_rule_admin(user)
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            {"reason": "Say why this outcome is now the expected one: the reason is audited."}
        )
    with transaction.atomic():
        draft = _lock_draft(draft)
        case = RuleTestCase.objects.select_for_update().get(pk=case.pk)
        if case.rule_set_id != draft.rule_set_id:
            raise ServiceError("This test case belongs to another rule set.")
        try:
            compiled = compiled_version(draft)
        except RuleSetInvalid as exc:
            raise ServiceError(
                "The draft does not compile, so it has no outcome to accept: "
                + "; ".join(str(p) for p in exc.problems)
            ) from None
        check = case_check(compiled, case, today=today or timezone.localdate())
        if check.actual is None:
            raise ServiceError(check.error)
        if check.passed:
            raise ServiceError(f"{case.name} already passes under this draft: nothing to update.")
        old = case.expected
        case.expected = check.actual
        case.updated_by = user
        case.save(update_fields=["expected", "updated_by", "updated_at"])
        audit_record(
            actor=user,
            action="rules.case_expectation_update",
            target=case,
            detail={
                "rule_set": draft.rule_set.name,
                "case": case.name,
                "draft": str(draft.uuid),
                "reason": reason,
                "differences": [d.field for d in check.differences],
                "old": old,
                "new": check.actual,
            },
        )
    return case


# --- impact preview and publishing -----------------------------------------------------------


def impact_preview_start(*, draft: RuleSetVersion, user: AnyUser) -> ImpactPreview:
    """Queue an impact preview of `draft` for a background worker.

    A worker never sees the task without its preview: on the database queue the preview row
    and its task are written in one transaction; on Redis the task is pushed after the commit
    (`screening.core.queue.enqueue_after_commit`).
    """
    user = require_rule_admin(user)
    with transaction.atomic():
        draft = _lock_draft(draft)
        preview = ImpactPreview.objects.create(
            draft=draft, requested_by=user, fingerprint=rules_fingerprint(draft)
        )

        def remember(result: TaskResult[Any]) -> None:
            preview.task_id = str(result.id)
            ImpactPreview.objects.filter(pk=preview.pk).update(task_id=preview.task_id)

        enqueue_after_commit(impact_preview_run, str(preview.uuid), then=remember)
    return preview


def single_person_publishing() -> bool:
    """Whether a draft may be published without a second rule admin's approval."""
    return bool(getattr(settings, "RULES_SINGLE_PERSON_PUBLISH", False))


def _publish_checks(
    draft: RuleSetVersion, *, today: date, refusal: str = "published"
) -> CaseSummary:
    """The draft must compile and pass every test case of its rule set (`PublishRefused`)."""
    try:
        compiled = compiled_version(draft)
    except RuleSetInvalid as exc:
        raise PublishRefused(
            f"The draft does not compile, so it cannot be {refusal}.",
            [str(problem) for problem in exc.problems],
        ) from None
    summary = cases_check(compiled, draft.rule_set.test_cases.all(), today=today)
    if not summary.all_pass:
        raise PublishRefused(
            f"{len(summary.failed)} of {summary.total} test cases fail under this draft. "
            "Change the draft, or update each case's expectation with a reason.",
            [check.case.name for check in summary.failed],
        )
    return summary


def rule_set_submit(
    *, draft: RuleSetVersion, user: AnyUser, change_note: str, today: date | None = None
) -> RuleSetVersion:
    """Submit a draft for approval by another rule admin, with its change note.

    The draft must compile and pass every test case; from now until it is returned its rules
    cannot be edited, so the approver approves exactly what they saw.
    """
    user = require_rule_admin(user)
    change_note = change_note.strip()
    if not change_note:
        raise ValidationError(
            {
                "change_note": "Write a change note: it tells the approver and clinicians what "
                "changed and why."
            }
        )
    with transaction.atomic():
        draft = _lock_draft(draft)
        if draft.is_locked_for_approval:
            raise ServiceError(f"This draft is already {draft.get_approval_display().lower()}.")
        summary = _publish_checks(draft, today=today or timezone.localdate(), refusal="submitted")
        draft.approval = RuleSetVersion.Approval.SUBMITTED
        draft.change_note = change_note
        draft.submitted_by = user
        draft.submitted_at = timezone.now()
        draft.approved_by = None
        draft.approved_at = None
        draft.approval_note = ""
        draft.save(
            update_fields=[
                "approval",
                "change_note",
                "submitted_by",
                "submitted_at",
                "approved_by",
                "approved_at",
                "approval_note",
            ]
        )
        audit_record(
            actor=user,
            action="rules.draft_submit",
            target=draft,
            detail=_version_detail(
                draft,
                change_note=change_note,
                test_cases_passed=summary.passed,
                digest=version_digest(draft),
            ),
        )
    return draft


def _lock_submitted(draft: RuleSetVersion, user: User) -> RuleSetVersion:
    draft = _lock_draft(draft)
    if draft.approval != RuleSetVersion.Approval.SUBMITTED:
        raise ServiceError("This draft is not waiting for approval.")
    if draft.submitted_by_id == user.pk:
        raise ServiceError(
            "You submitted this draft: another rule admin must approve or return it."
        )
    return draft


def rule_set_approve(
    *, draft: RuleSetVersion, user: AnyUser, note: str = "", today: date | None = None
) -> RuleSetVersion:
    """Approve a submitted draft: a rule admin other than its submitter, after the diff, the
    test results and the impact preview. Approval does not publish; it allows publishing."""
    user = require_rule_admin(user)
    with transaction.atomic():
        draft = _lock_submitted(draft, user)
        summary = _publish_checks(draft, today=today or timezone.localdate(), refusal="approved")
        draft.approval = RuleSetVersion.Approval.APPROVED
        draft.approved_by = user
        draft.approved_at = timezone.now()
        draft.approval_note = note.strip()
        draft.save(update_fields=["approval", "approved_by", "approved_at", "approval_note"])
        audit_record(
            actor=user,
            action="rules.draft_approve",
            target=draft,
            detail=_version_detail(
                draft,
                note=draft.approval_note,
                submitted_by=draft.submitted_by.get_username() if draft.submitted_by else "",
                test_cases_passed=summary.passed,
                digest=version_digest(draft),
            ),
        )
    return draft


def rule_set_return(*, draft: RuleSetVersion, user: AnyUser, comment: str) -> RuleSetVersion:
    """Return a submitted draft to be edited, with a comment saying what to change."""
    user = require_rule_admin(user)
    comment = comment.strip()
    if not comment:
        raise ValidationError({"comment": "Say what should change: the comment is audited."})
    with transaction.atomic():
        draft = _lock_submitted(draft, user)
        draft.approval = RuleSetVersion.Approval.RETURNED
        draft.returned_by = user
        draft.returned_at = timezone.now()
        draft.return_comment = comment
        draft.save(update_fields=["approval", "returned_by", "returned_at", "return_comment"])
        audit_record(
            actor=user,
            action="rules.draft_return",
            target=draft,
            detail=_version_detail(draft, comment=comment),
        )
    return draft


def rule_set_publish(
    *,
    version: RuleSetVersion,
    user: AnyUser,
    change_note: str = "",
    effective_at: datetime | None = None,
    today: date | None = None,
) -> RuleSetVersion:
    """Publish a draft as the next version number and retire the version it replaces, now or
    (with a future `effective_at`) by the worker at that time.

    The draft must have been approved by a second rule admin, unless the clinic publishes
    with one person (`RULES_SINGLE_PERSON_PUBLISH`; the version then says so). An approved
    draft keeps the change note it was approved with. In one transaction: the draft must
    compile and pass every test case of its rule set; the published version becomes retired;
    the draft becomes published with its number, change note, publisher and time. Raises
    `ValidationError` for a missing change note and `PublishRefused` listing every problem.
    """
    user = require_rule_admin(user)
    change_note = change_note.strip()
    with transaction.atomic():
        rule_set = RuleSet.objects.select_for_update().get(pk=version.rule_set_id)
        draft = _lock_draft(version)
        approved = draft.approval == RuleSetVersion.Approval.APPROVED
        if approved:
            if change_note and change_note != draft.change_note:
                raise ValidationError(
                    {
                        "change_note": "The change note was approved with the draft: it cannot "
                        "change now. Publish with it as approved."
                    }
                )
            change_note = draft.change_note
        elif not single_person_publishing():
            raise PublishRefused(
                "A second rule admin must approve this draft before it can be published.",
                [f"Approval: {draft.get_approval_display().lower()}."],
            )
        if not change_note:
            raise ValidationError(
                {"change_note": "Write a change note: it tells clinicians what changed and why."}
            )
        summary = _publish_checks(draft, today=today or timezone.localdate())
        if effective_at is not None and effective_at > timezone.now():
            return _publish_schedule(draft, user=user, change_note=change_note, at=effective_at)
        return _publish_now(
            rule_set,
            draft,
            user=user,
            change_note=change_note,
            summary=summary,
            single_person=not approved,
        )


def _publish_schedule(
    draft: RuleSetVersion, *, user: User, change_note: str, at: datetime
) -> RuleSetVersion:
    draft.change_note = change_note
    draft.publish_after = at
    draft.scheduled_by = user
    draft.save(update_fields=["change_note", "publish_after", "scheduled_by"])
    rule_set_publish_due.using(run_after=at).enqueue(str(draft.uuid))
    audit_record(
        actor=user,
        action="rules.version_schedule",
        target=draft,
        detail=_version_detail(draft, change_note=change_note, publish_after=at),
    )
    return draft


def _publish_now(
    rule_set: RuleSet,
    draft: RuleSetVersion,
    *,
    user: User,
    change_note: str,
    summary: CaseSummary,
    single_person: bool,
) -> RuleSetVersion:
    now = timezone.now()
    previous = (
        rule_set.versions.select_for_update().filter(status=RuleSetVersion.Status.PUBLISHED).first()
    )
    last = rule_set.versions.aggregate(last=Max("number"))["last"] or 0
    if previous is not None:
        previous.status = RuleSetVersion.Status.RETIRED
        previous.retired_at = now
        previous.save(update_fields=["status", "retired_at"])
    draft.status = RuleSetVersion.Status.PUBLISHED
    draft.number = last + 1
    draft.change_note = change_note
    draft.published_by = user
    draft.published_at = now
    draft.single_person = single_person
    draft.save(
        update_fields=[
            "status",
            "number",
            "change_note",
            "published_by",
            "published_at",
            "single_person",
        ]
    )
    if previous is not None:
        audit_record(
            actor=user,
            action="rules.version_retire",
            target=previous,
            detail=_version_detail(previous, replaced_by=draft.number),
        )
    audit_record(
        actor=user,
        action="rules.version_publish",
        target=draft,
        detail=_version_detail(
            draft,
            change_note=change_note,
            replaces=previous.number if previous else None,
            rules=draft.rules.count(),
            test_cases_passed=summary.passed,
            digest=version_digest(draft),
            submitted_by=draft.submitted_by.get_username() if draft.submitted_by else None,
            approved_by=draft.approved_by.get_username() if draft.approved_by else None,
            single_person=single_person,
            scheduled=draft.publish_after is not None,
        ),
    )
    return draft


def rule_set_publish_scheduled(*, version_uuid: str, today: date | None = None) -> str:
    """Publish a draft whose scheduled time has come (run by the worker); return what happened.

    Does nothing when the draft is gone, published, no longer approved or rescheduled later.
    When the draft no longer passes its checks, nothing is published and the refusal is audited.
    """
    with transaction.atomic():
        draft = RuleSetVersion.objects.filter(uuid=version_uuid).first()
        if draft is None or not draft.is_draft:
            return "not a draft"
        rule_set = RuleSet.objects.select_for_update().get(pk=draft.rule_set_id)
        draft = _lock_draft(draft)
        if draft.publish_after is None or draft.publish_after > timezone.now():
            return "not due"
        approved = draft.approval == RuleSetVersion.Approval.APPROVED
        if not approved and not single_person_publishing():
            return "not approved"
        publisher = draft.scheduled_by
        try:
            summary = _publish_checks(draft, today=today or timezone.localdate())
        except PublishRefused as exc:
            refused = exc
        else:
            assert publisher is not None
            _publish_now(
                rule_set,
                draft,
                user=publisher,
                change_note=draft.change_note,
                summary=summary,
                single_person=not approved,
            )
            return "published"
    with transaction.atomic():
        draft = _lock_draft(draft)
        draft.publish_after = None
        draft.save(update_fields=["publish_after"])
        audit_record(
            actor=None,
            action="rules.version_schedule_refused",
            target=draft,
            detail=_version_detail(draft, reason=str(refused), problems=refused.problems),
        )
    return "refused"


def _apply_changes(obj: Any, values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Set the fields of `obj` that differ from `values`; return them as {field: {old, new}}
    (what the audit event records). Saving is the caller's."""
    changes = {
        field: {"old": getattr(obj, field), "new": value}
        for field, value in values.items()
        if getattr(obj, field) != value
    }
    for field, change in changes.items():
        setattr(obj, field, change["new"])
    return changes

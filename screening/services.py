"""Changes to screenings: save an intake (superseding its unsigned runs), run, acknowledge or
override flags, sign, amend.

Each service checks the permission, makes its change, and writes its audit event in one transaction
(the audit write last: it holds the chain lock until commit). Signed screenings are locked here
and by database triggers (migration 0006).

Services that take several row locks take them in one order, intake before screening before the
audit chain head, so that two of them working on the same intake wait for each other instead of
deadlocking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from patients.facts import form_field, intake_facts
from patients.models import Intake
from patients.services import (
    intake_autosave_discard,
    intake_create,
    intake_unchanged,
    intake_update,
)
from rules.engine import FactsInvalid, Flag
from rules.loader import compiled_version
from rules.models import Rule, RuleSetVersion
from rules.selectors import RuleSetVersionNotFound, published_version
from screening.core.audit import audit_record, audit_together
from screening.core.errors import ConflictError, InputInvalid, LockedError, ServiceError
from screening.core.permissions import require_perm
from screening.digests import screening_digest
from screening.models import FlagReview, Screening, ScreeningFlag

#: Flags a clinician must handle before signing: stops are overridden, the rest acknowledged.
MUST_OVERRIDE = ("stop",)
MUST_ACKNOWLEDGE = ("urgent", "review")
#: What `review_seen` gives for a flag that had no review when the page showed it.
NO_REVIEW = "none"


def rule_texts(version: RuleSetVersion) -> dict[str, dict[str, str]]:
    """Every rule's text in `version`, keyed by rule ID: what the result page shows.

    Published and retired versions never change, so their text is read once per process (like
    their compiled form, `rules.loader.compiled_version`); each caller gets its own copy."""
    if version.is_draft:
        return _read_rule_texts(version.pk)
    return {rule_id: dict(text) for rule_id, text in _immutable_rule_texts(version.pk).items()}


@lru_cache(maxsize=32)
def _immutable_rule_texts(version_pk: int) -> dict[str, dict[str, str]]:
    return _read_rule_texts(version_pk)


def _read_rule_texts(version_pk: int) -> dict[str, dict[str, str]]:
    return {
        rule.rule_id: rule.text()
        for rule in Rule.objects.filter(version_id=version_pk).order_by("position")
    }


def require_clinician(user: User, perm: str = "screening.add_screening") -> None:
    """Only clinicians (holders of `perm`) run, review, sign and amend screenings."""
    require_perm(user, perm, "Only clinicians can do this.")


def intake_save(
    *,
    intake: Intake,
    user: User,
    expected_version: int,
    values: dict[str, Any],
    trials: Iterable[dict[str, Any]],
) -> Intake:
    """Save a draft intake's answers (`patients.services.intake_update`) and supersede its
    unsigned screenings: a screening shows the answers it ran on, and once they change it can
    no longer be signed (signing locks the intake as it is now).

    Answers equal to those the intake holds at `expected_version` change nothing: no new
    version, no superseded result, no audit event (the clinician's working copy is discarded
    all the same). Raises `ConflictError` when someone saved since `expected_version`, and
    `LockedError` when the intake is signed; nothing changes then."""
    require_perm(user, "patients.change_intake", "Only clinicians can do this.")
    trial_rows = list(trials)
    with transaction.atomic():
        current = Intake.objects.select_for_update().select_related("patient").get(pk=intake.pk)
        unchanged = current.version == expected_version and not current.is_locked
        if unchanged and intake_unchanged(current, values, trial_rows):
            intake_autosave_discard(intake=current, user=user)
            return current
        return _save_answers(
            intake=intake,
            user=user,
            expected_version=expected_version,
            values=values,
            trials=trial_rows,
        )


def _save_answers(
    *,
    intake: Intake,
    user: User,
    expected_version: int,
    values: dict[str, Any],
    trials: list[dict[str, Any]],
) -> Intake:
    """`intake_update`, then supersede the intake's unsigned screenings and discard the saver's
    working copy, inside the caller's transaction."""
    # The intake's audit event is held back to the end, so the chain head is locked last.
    with audit_together():
        intake = intake_update(
            intake=intake,
            user=user,
            expected_version=expected_version,
            values=values,
            trials=trials,
            savepoint=False,  # the caller's transaction ends with any error this raises
        )
        intake.screenings.filter(status=Screening.Status.UNSIGNED).update(
            status=Screening.Status.SUPERSEDED
        )
        intake_autosave_discard(intake=intake, user=user)
    return intake


def screening_run(*, intake: Intake, user: User, on: date | None = None) -> Screening:
    """Evaluate `intake` under the published rule set and store everything the clinician sees.

    Earlier unsigned screenings of the same intake are superseded. Raises `InputInvalid`
    (field → messages) when the intake cannot be evaluated; nothing is stored then.
    """
    require_clinician(user)
    with transaction.atomic():
        intake = Intake.objects.select_for_update().select_related("patient").get(pk=intake.pk)
        if intake.is_locked:
            raise LockedError("This intake belongs to a signed screening: amend it instead.")
        # Earlier unsigned runs are superseded here; `intake_save` does it when it saves, so
        # `intake_submit` needs no second pass.
        intake.screenings.filter(status=Screening.Status.UNSIGNED).update(
            status=Screening.Status.SUPERSEDED
        )
        return _run(intake=intake, user=user, screening_date=on or timezone.localdate())


def _run(
    *,
    intake: Intake,
    user: User,
    screening_date: date,
    trials: list[dict[str, Any]] | None = None,
) -> Screening:
    """`screening_run`'s work, on a draft intake (and its patient) that the current transaction
    has read and locked, with no unsigned screening left (`trials`: its trials as just saved, if
    the caller saved them).

    Reviews of the run this one replaces (the intake's latest run, or for an amendment the
    signed screening it amends) are carried forward for every flag that fired again with the
    same severity, the same reasons and the same rule text; flags that are new, or whose
    reasons or rule changed, need a fresh review."""
    previous = intake.screenings.order_by("-run_at", "-pk").first() or intake.amends
    try:
        facts = intake_facts(intake, screening_date=screening_date, trials=trials)
    except FactsInvalid as exc:
        errors: dict[str, list[str]] = {}
        for error in exc.errors:
            errors.setdefault(form_field(error), []).append(f"{error.field} {error.message}")
        raise InputInvalid(errors) from None
    version = published_version()
    result = compiled_version(version).evaluate(facts)
    screening = Screening.objects.create(
        patient=intake.patient,
        intake=intake,
        ruleset_version=version,
        screening_date=screening_date,
        facts=facts.as_document(),
        result=result.model_dump(mode="json"),
        rule_texts=rule_texts(version),
        disposition=result.disposition,
        urgent=result.urgent,
        amends=intake.amends,
        run_by=user,
        run_at=timezone.now(),
    )
    carried = _carry_forward(screening, previous)
    flags = ScreeningFlag.objects.bulk_create(
        ScreeningFlag(
            screening=screening,
            rule_id=f.rule,
            severity=f.severity,
            run_at=screening.run_at,
            # A carried review was made before this run: it counts as reviewed when run.
            review_kind=carried[f.rule].kind if f.rule in carried else "",
            reviewed_at=screening.run_at if f.rule in carried else None,
        )
        for f in result.flags
    )
    audit_record(
        actor=user,
        action="screening.run",
        target=screening,
        detail={
            "intake": str(intake.uuid),
            "intake_version": intake.version,
            "ruleset": {"name": version.rule_set.name, "version": version.number},
            "disposition": result.disposition,
            "urgent": result.urgent,
            "flags": [f.rule for f in result.flags],
            "carried_forward": sorted(carried),
            "carried_from": str(previous.uuid) if carried and previous else None,
            "digest": screening_digest(screening, reviews=carried.values(), flags=flags),
        },
    )
    return screening


def _carry_forward(screening: Screening, previous: Screening | None) -> dict[str, FlagReview]:
    """Copy onto `screening` the reviews of `previous` whose flags fired again with the same
    severity, the same reasons (`because`) and the same rule text (a new rule-set version may
    reword or change a rule: the clinician reviewed what they were shown), each linked to the
    review it repeats."""
    if previous is None:
        return {}
    before = previous.outcome
    carried = {}
    for review in previous.reviews.all():
        now, then = screening.outcome.flag(review.rule_id), before.flag(review.rule_id)
        if now is None or then is None:
            continue
        if now.severity != then.severity or tuple(now.because) != tuple(then.because):
            continue
        if screening.rule_texts.get(review.rule_id) != previous.rule_texts.get(review.rule_id):
            continue  # a new rule-set version reworded or changed the rule: review it afresh
        carried[review.rule_id] = FlagReview(
            screening=screening,
            rule_id=review.rule_id,
            severity=review.severity,
            kind=review.kind,
            reason_code=review.reason_code,
            reason=review.reason,
            reviewed_by_id=review.reviewed_by_id,
            reviewed_at=review.reviewed_at,
            carried_from=review,
        )
    FlagReview.objects.bulk_create(carried.values())
    return carried


def intake_submit(
    *,
    intake: Intake,
    user: User,
    expected_version: int,
    values: dict[str, Any],
    trials: Iterable[dict[str, Any]],
    on: date | None = None,
) -> Screening:
    """Save the intake's answers and run the screening, as one transaction: when the intake
    cannot be evaluated (`InputInvalid`) or was changed by someone else (`ConflictError`),
    nothing is saved and the form keeps what the clinician typed."""
    # Both events (intake.save, screening.run) are written at the end: the audit chain head is
    # locked last, as everywhere, and only for the end of the transaction.
    require_clinician(user)
    trial_rows = list(trials)
    with transaction.atomic(), audit_together():
        intake = _save_answers(
            intake=intake,
            user=user,
            expected_version=expected_version,
            values=values,
            trials=trial_rows,
        )
        # intake_update's UPDATE holds the draft's row lock until commit and read it back: run
        # on it as it is (and its trials as saved), without locking and reading it again.
        return _run(
            intake=intake,
            user=user,
            screening_date=on or timezone.localdate(),
            trials=trial_rows,
        )


def pending_flags(screening: Screening, *, reviewed: Iterable[str] | None = None) -> list[Flag]:
    """Flags that still need an acknowledgement or override before signing (`reviewed`: the
    rule IDs of the screening's reviews, when the caller has already read them)."""
    handled = set(
        screening.reviews.values_list("rule_id", flat=True) if reviewed is None else reviewed
    )
    return [
        flag
        for flag in screening.outcome.flags
        if flag.severity in (*MUST_OVERRIDE, *MUST_ACKNOWLEDGE) and flag.rule not in handled
    ]


def review_seen(review: FlagReview | None) -> str:
    """What a page says it showed of a flag's review: `NO_REVIEW`, or the review's time.

    The result page posts it back with the clinician's review, so that a review another
    clinician saved after the page was opened is not silently replaced (see `flag_acknowledge`).
    """
    return NO_REVIEW if review is None else review.reviewed_at.isoformat()


def flag_acknowledge(
    *, screening: Screening, rule_id: str, user: User, reason: str, seen: str | None = None
) -> FlagReview:
    """Acknowledge a review or urgent flag, with the clinician's reason (see `flag_review`)."""
    return flag_review(
        screening=screening,
        rule_id=rule_id,
        user=user,
        kind=FlagReview.Kind.ACKNOWLEDGED,
        reason=reason,
        seen=seen,
    )


def flag_override(
    *,
    screening: Screening,
    rule_id: str,
    user: User,
    reason_code: str,
    reason: str,
    seen: str | None = None,
) -> FlagReview:
    """Override a stop flag with a coded reason and free text (see `flag_review`)."""
    return flag_review(
        screening=screening,
        rule_id=rule_id,
        user=user,
        kind=FlagReview.Kind.OVERRIDDEN,
        reason=reason,
        reason_code=reason_code,
        seen=seen,
    )


def flag_review(
    *,
    screening: Screening,
    rule_id: str,
    user: User,
    kind: str,
    reason: str,
    reason_code: str = "",
    seen: str | None = None,
) -> FlagReview:
    """Review one flag of an open screening: override a stop flag (`kind` overridden, with a
    coded reason and free text) or acknowledge an urgent or review flag (`kind` acknowledged,
    with free text). Reviewing a flag again revises its review.

    `seen` is `review_seen` of the flag's review as the clinician's page showed it: when the
    review changed since (another clinician reviewed the flag meanwhile), nothing is saved and
    `ConflictError` says so. None skips that check. A missing reason or coded reason is
    `InputInvalid` naming the field; a flag of the wrong kind or severity is refused.
    """
    require_clinician(user, "screening.add_flagreview")
    reason = reason.strip()
    if not reason:
        raise InputInvalid.one("reason", "Give a reason: it is kept with the screening.")
    if kind == FlagReview.Kind.OVERRIDDEN and reason_code not in FlagReview.OverrideReason.values:
        raise InputInvalid.one("reason_code", "Choose a coded reason for overriding a stop flag.")
    if kind == FlagReview.Kind.ACKNOWLEDGED:
        reason_code = ""
    with transaction.atomic():
        screening = _lock_open(screening)
        flag = screening.outcome.flag(rule_id)
        if flag is None:
            raise ServiceError("That flag did not fire in this screening.")
        if flag.severity == "info":
            raise ServiceError(f"“{flag.title}” is for information and needs no acknowledgement.")
        expected = (
            FlagReview.Kind.OVERRIDDEN
            if flag.severity in MUST_OVERRIDE
            else FlagReview.Kind.ACKNOWLEDGED
        )
        if kind != expected:
            verb = (
                "overridden with a documented reason"
                if expected == "overridden"
                else "acknowledged"
            )
            raise ServiceError(f"A {flag.severity} flag is {verb}.")
        current = screening.reviews.select_related("reviewed_by").filter(rule_id=rule_id).first()
        if seen is not None and seen != review_seen(current):
            raise ConflictError(_reviewed_meanwhile(flag.title, current))
        review, created = FlagReview.objects.update_or_create(
            screening=screening,
            rule_id=rule_id,
            defaults={
                "severity": flag.severity,
                "kind": kind,
                "reason_code": reason_code,
                "reason": reason,
                "reviewed_by": user,
                "reviewed_at": timezone.now(),
            },
        )
        ScreeningFlag.objects.filter(screening=screening, rule_id=rule_id).update(
            review_kind=kind, reviewed_at=review.reviewed_at
        )
        audit_record(
            actor=user,
            action=f"flag.{kind}",
            target=screening,
            detail={
                "rule": rule_id,
                "severity": flag.severity,
                "reason_code": reason_code,
                "reason": reason,
                "revised": not created,
                "digest": screening_digest(screening),
            },
        )
    return review


def flags_acknowledge(
    *, screening: Screening, rule_ids: Sequence[str], user: User, reason: str
) -> list[FlagReview]:
    """Acknowledge several review flags with one reason, in one transaction: each is reviewed
    (and audited) as `flag_review` reviews one, and each must still be unreviewed, so a review
    another clinician made meanwhile is never replaced. Any refusal saves none of them."""
    require_clinician(user, "screening.add_flagreview")
    if not rule_ids:
        raise InputInvalid.one("rule_ids", "Tick the flags to acknowledge.")
    with transaction.atomic():
        reviews = []
        for rule_id in dict.fromkeys(rule_ids):
            flag = screening.outcome.flag(rule_id)
            if flag is not None and flag.severity != "review":
                raise ServiceError(
                    f"{rule_id} is a {flag.severity} flag: review it on its own, not with others."
                )
            reviews.append(
                flag_review(
                    screening=screening,
                    rule_id=rule_id,
                    user=user,
                    kind=FlagReview.Kind.ACKNOWLEDGED,
                    reason=reason,
                    seen=NO_REVIEW,
                )
            )
    return reviews


@dataclass(frozen=True, slots=True)
class SignOff:
    """What signing a screening asks for besides its flag reviews.

    `current` is the rule-set version published now (None when none is); when the screening
    was computed under another one (`stale`), signing needs a re-run or a reason. `reasons_for`
    lists the missing facts of an incomplete result that signing must explain: those a stop or
    urgent rule needed, or every missing fact when no such rule was left undecided."""

    current: RuleSetVersion | None
    stale: bool
    reasons_for: tuple[str, ...]


def sign_off(screening: Screening) -> SignOff:
    try:
        current: RuleSetVersion | None = published_version(screening.ruleset_version.rule_set.name)
    except RuleSetVersionNotFound:
        current = None
    stale = current is None or current.pk != screening.ruleset_version_id
    reasons_for: tuple[str, ...] = ()
    missing = screening.outcome.missing
    if screening.disposition == "incomplete" and missing:
        texts = screening.rule_texts
        safety = tuple(
            item.fact
            for item in missing
            if any(
                texts.get(rule, {}).get("severity") in ("stop", "urgent") for rule in item.needed_by
            )
        )
        reasons_for = safety or tuple(item.fact for item in missing)
    return SignOff(current=current, stale=stale, reasons_for=reasons_for)


def screening_sign(
    *,
    screening: Screening,
    user: User,
    stale_reason: str = "",
    incomplete_reasons: Mapping[str, str] | None = None,
) -> Screening:
    """Sign a screening: every stop flag overridden and every urgent/review flag acknowledged.
    Locks the screening and its intake.

    A screening computed under a rule-set version that is no longer published is signed only
    with `stale_reason` (or re-run first); an incomplete one only with a reason for each missing
    fact `sign_off` names, in `incomplete_reasons` by fact (`*`: one reason for all). Both are
    kept on the signed record and in the audit trail; without them, `InputInvalid`."""
    require_clinician(user, "screening.change_screening")
    with transaction.atomic():
        # The intake first, as `screening_run` locks it: signing locks the intake too, and
        # taking the screening first deadlocks against a run of the same intake.
        Intake.objects.select_for_update().filter(pk=screening.intake_id).values("pk").get()
        screening = _lock_open(screening)
        pending = pending_flags(screening)
        if pending:
            names = ", ".join(f"“{f.title}”" for f in pending)
            raise ServiceError(f"Handle every flag before signing: {names} still open.")
        required = sign_off(screening)
        stale_reason = stale_reason.strip() if required.stale else ""
        reasons = _incomplete_reasons(required.reasons_for, incomplete_reasons or {})
        if required.stale and not stale_reason:
            current = required.current
            raise InputInvalid.one(
                "stale_reason",
                f"This result was computed under version {screening.ruleset_version.number}, "
                + (
                    f"and version {current.number} is published now"
                    if current
                    else "which is no longer published"
                )
                + ": run it again under the current rules, or say why you sign it as it is.",
            )
        now = timezone.now()
        screening.status = Screening.Status.SIGNED
        screening.signed_by = user
        screening.signed_at = now
        screening.stale_rules_reason = stale_reason
        screening.incomplete_reasons = reasons
        screening.save(
            update_fields=[
                "status",
                "signed_by",
                "signed_at",
                "stale_rules_reason",
                "incomplete_reasons",
            ]
        )
        Intake.objects.filter(pk=screening.intake_id).update(status=Intake.Status.LOCKED)
        detail: dict[str, Any] = {
            "disposition": screening.disposition,
            "reviews": _review_summary(screening.reviews.all()),
        }
        if required.stale:
            detail["stale_rules"] = {
                "version": screening.ruleset_version.number,
                "published": required.current.number if required.current else None,
                "reason": stale_reason,
            }
        if reasons:
            detail["incomplete_reasons"] = reasons
        detail["digest"] = screening_digest(screening)
        audit_record(actor=user, action="screening.sign", target=screening, detail=detail)
    return screening


def _incomplete_reasons(facts: Iterable[str], given: Mapping[str, str]) -> dict[str, str]:
    """The reason for each of `facts` (its own, or the one for all); `InputInvalid` naming the
    facts left without one."""
    shared = (given.get("*") or "").strip()
    reasons = {fact: (given.get(fact) or "").strip() or shared for fact in facts}
    unexplained = [fact for fact, reason in reasons.items() if not reason]
    if unexplained:
        raise InputInvalid.one(
            "incomplete_reasons",
            "Say why this information could not be obtained before signing an incomplete "
            f"result: {', '.join(unexplained)} (one reason for each, or one for all).",
        )
    return reasons


def screening_amend(*, screening: Screening, user: User, reason: str) -> Intake:
    """Start a new draft intake from a signed screening's intake, linked to the original, for
    the documented `reason` (kept on the new intake and shown on both records).

    One amendment at a time: while a draft amending the screening is open, a second is refused
    (`ConflictError`) and the clinician continues that draft.
    """
    require_clinician(user, "screening.change_screening")
    reason = reason.strip()
    if not reason:
        raise InputInvalid.one("reason", "Say why the signed screening is being amended.")
    if not screening.is_signed:
        raise ServiceError("Only a signed screening is amended; edit the draft intake instead.")
    with transaction.atomic():
        # Amendments of one screening take turns on its row, so two at once cannot both find
        # no open draft. (NO KEY: rows that merely point at the screening are not held up.)
        Screening.objects.select_for_update(no_key=True).filter(pk=screening.pk).values("pk").get()
        in_progress = (
            Intake.objects.filter(amends=screening, status=Intake.Status.DRAFT)
            .select_related("created_by")
            .first()
        )
        if in_progress is not None:
            raise ConflictError(_amendment_in_progress(in_progress))
        intake = intake_create(
            patient=screening.patient,
            user=user,
            copy_from=screening.intake,
            amends=screening,
            amendment_reason=reason,
        )
        audit_record(
            actor=user,
            action="screening.amend",
            target=screening,
            detail={
                "new_intake": str(intake.uuid),
                "reason": reason,
                "digest": screening_digest(screening),
            },
        )
    return intake


def _lock_open(screening: Screening) -> Screening:
    """Re-read `screening` under a row lock; refuse if signed or superseded."""
    current = Screening.objects.select_for_update().get(pk=screening.pk)
    if current.is_signed:
        raise LockedError("This screening is signed and locked.")
    if current.status == Screening.Status.SUPERSEDED:
        raise ConflictError(
            "This screening was superseded: its intake was changed or run again after it ran."
        )
    return current


def _reviewed_meanwhile(title: str, current: FlagReview | None) -> str:
    """Said by the flag's title: messages reach people, who know flags by their titles."""
    if current is None:
        return f"The review of “{title}” changed after you opened this page: reload it."
    return (
        f"“{title}” was {current.kind} by {current.reviewed_by.get_username()} after you opened "
        "this page. Your reason was not saved: read theirs, then revise it if you need to."
    )


def _amendment_in_progress(draft: Intake) -> str:
    when = timezone.localtime(draft.created_at).strftime("%d %b %Y %H:%M")
    return (
        f"An amendment of this screening is already in progress, started by "
        f"{draft.created_by.get_username()} on {when}: continue that draft instead of "
        "starting another."
    )


def _review_summary(reviews: Iterable[FlagReview]) -> list[dict[str, str]]:
    return [{"rule": r.rule_id, "kind": r.kind, "reason_code": r.reason_code} for r in reviews]

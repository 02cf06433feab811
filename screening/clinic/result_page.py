"""Everything the result page shows, drawn only from what the screening stored when it was run
(facts, result and rule text), never by running rules again, so it reads the same whatever is
published later. The clinician's page and the reviewer's record both use it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from patients.facts import CSSRS_ANSWERS
from patients.models import Intake, SexAtBirth
from patients.selectors import intakes_visible_to
from patients.services import INTAKE_FIELDS
from rules.engine import Missing
from screening import services
from screening.clinic.forms import (
    AcknowledgeForm,
    AmendForm,
    FlagReviewForm,
    OverrideForm,
    SignForm,
)
from screening.core.permissions import has_perm
from screening.labels import SEVERITIES, condition_label, disposition_label, status_colour
from screening.models import FlagReview, Screening
from screening.reevaluation import screening_reevaluate
from screening.selectors import screenings_visible_to

#: The form a clinician uses on a flag of each severity (info flags need none).
FLAG_FORMS: dict[str, type[FlagReviewForm]] = {
    "stop": OverrideForm,
    "urgent": AcknowledgeForm,
    "review": AcknowledgeForm,
}

#: Missing facts that are not an intake column of the same name.
FACT_LABELS = {
    "cssrs": "C-SSRS screener answers",
    "antidepressant_trials": "antidepressant trials in the current episode",
}


def result_page_context(
    user: AbstractBaseUser | AnonymousUser,
    screening: Screening,
    bound: dict[str, FlagReviewForm] | None = None,
    *,
    sign_form: SignForm | None = None,
    amend_form: AmendForm | None = None,
) -> dict[str, Any]:
    """Everything the result page shows, from the screening's stored snapshot (`bound`, and
    the sign or amend form, carry what a clinician just sent with its errors)."""
    is_clinician = has_perm(user, "screening.add_flagreview")
    is_open = screening.status == Screening.Status.UNSIGNED
    outcome, texts, facts = screening.outcome, screening.rule_texts, screening.facts
    reviews = {
        r.rule_id: r
        for r in screening.reviews.select_related("reviewed_by", "carried_from__screening")
    }
    flag_groups = _flag_groups(
        screening, reviews, can_review=is_clinician and is_open, bound=bound or {}
    )
    pending = services.pending_flags(screening, reviewed=reviews) if is_open else []
    intake = screening.intake
    links_to_intake = (
        is_clinician and intake.status == Intake.Status.DRAFT and not screening.is_signed
    )
    missing = missing_rows(screening)
    can_act = is_clinician and is_open
    required = services.sign_off(screening) if is_open else None
    if can_act and required is not None and sign_form is None:
        sign_form = sign_form_for(screening, required, missing)
    return {
        "screening": screening,
        "patient": screening.patient,
        "sign_off": required,
        "sign_form": sign_form if can_act else None,
        "amend_form": amend_form or AmendForm(screening_uuid=screening.uuid),
        # What the rules published now would say, for a pending result computed under others.
        "stale": screening_reevaluate(screening)
        if required and required.stale and required.current
        else None,
        "amendment": screening.intake if screening.amends_id else None,
        "amendment_reasons": intakes_visible_to(user)
        .filter(amends=screening)
        .exclude(amendment_reason="")
        .select_related("created_by")
        .order_by("created_at")
        if screening.is_signed
        else [],
        "age_years": facts.get("age_years"),
        "sex_at_birth": _choice_label(SexAtBirth, facts.get("sex_at_birth")),
        "ruleset": outcome.ruleset,
        "status_colour": status_colour(screening.status),
        "newer_run": _newer_run(user, screening),
        # Only a signed screening can be amended (`services.screening_amend`).
        "amended_by": screenings_visible_to(user)
        .filter(amends=screening)
        .exclude(status=Screening.Status.SUPERSEDED)
        .order_by("run_at")
        if screening.is_signed
        else [],
        "amendment_drafts": intakes_visible_to(user)
        .filter(amends=screening, status=Intake.Status.DRAFT)
        .select_related("updated_by")
        if screening.is_signed
        else [],
        "urgent_flags": [f for f in outcome.flags if f.severity == "urgent"],
        "disposition": disposition_label(screening.disposition),
        "conditions": [
            {
                **asdict(indication),
                "name": texts.get(indication.rule, {}).get("title") or indication.condition,
                "evidence": texts.get(indication.rule, {}).get("evidence", ""),
                "label": condition_label(indication.status),
            }
            for indication in outcome.indications
        ],
        "flag_groups": flag_groups,
        "missing": missing,
        "incomplete_reasons": [
            (_fact_label(fact), reason) for fact, reason in screening.incomplete_reasons.items()
        ],
        "intake_url_for_missing": intake if links_to_intake else None,
        "pending": pending,
        "can_sign": can_act and not pending,
        "can_act": can_act,
        "can_amend": is_clinician and screening.is_signed,
    }


def sign_form_for(
    screening: Screening,
    required: services.SignOff,
    missing: list[dict[str, Any]],
    data: Any = None,
) -> SignForm:
    """The sign-off form `required` asks for (bound to `data` when a clinician sent it)."""
    return SignForm(
        data,
        screening_uuid=screening.uuid,
        stale=required.stale,
        reasons_for=required.reasons_for,
        labels={row["fact"]: row["label"] for row in missing},
    )


def missing_rows(screening: Screening) -> list[dict[str, Any]]:
    return [
        _missing_row(item, screening.rule_texts, screening.facts)
        for item in screening.outcome.missing
    ]


def _flag_groups(
    screening: Screening,
    reviews: dict[str, FlagReview],
    *,
    can_review: bool,
    bound: dict[str, FlagReviewForm],
) -> list[dict[str, Any]]:
    """Fired flags grouped by severity (stop, urgent, review, info), each with its review (from
    `reviews`, by rule ID) and, while the screening is open, the clinician's form for it."""
    groups = []
    for severity, label in SEVERITIES.items():
        flags = []
        for flag in screening.outcome.flags:
            if flag.severity != severity:
                continue
            review = reviews.get(flag.rule)
            form = None
            if can_review and severity in FLAG_FORMS:
                form = bound.get(flag.rule)
                if not isinstance(form, FLAG_FORMS[severity]):
                    form = _review_form(screening, flag.rule, review)
            flags.append({**asdict(flag), "review": review, "form": form})
        if flags:
            groups.append({"severity": severity, "label": label, "flags": flags})
    return groups


def _review_form(screening: Screening, rule_id: str, review: FlagReview | None) -> FlagReviewForm:
    flag = screening.outcome.flag(rule_id)
    assert flag is not None  # only fired flags get a form
    initial = {"reason": review.reason, "reason_code": review.reason_code} if review else {}
    initial["seen"] = services.review_seen(review)
    return FLAG_FORMS[flag.severity](
        initial=initial, screening_uuid=screening.uuid, rule_id=rule_id, revising=bool(review)
    )


def _missing_row(item: Missing, texts: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    fact = item.fact
    return {
        "fact": fact,
        "label": _fact_label(fact),
        "anchor": _intake_anchor(fact, facts),
        "rules": [
            {"id": rule_id, "title": texts.get(rule_id, {}).get("title", "")}
            for rule_id in item.needed_by
        ],
    }


def _intake_anchor(fact: str, facts: dict[str, Any]) -> str:
    """The element ID of the intake form field where `fact` is recorded ("" when none is)."""
    if fact == "antidepressant_trials":
        return "id_antidepressant_trials_recorded"
    if fact == "cssrs":
        answers = facts.get("cssrs") or {}
        for name in CSSRS_ANSWERS:
            # Q3–Q5 are asked only after a yes to Q2; after a no they count as no.
            follow_up = name in ("method", "intent", "plan")
            if name not in answers and not (follow_up and answers.get("active_thoughts") is False):
                return f"id_cssrs_{name}"
        return "id_cssrs_wish_dead"
    return f"id_{fact}" if fact in INTAKE_FIELDS else ""


def _fact_label(fact: str) -> str:
    return FACT_LABELS.get(fact) or _intake_label(fact)


def _intake_label(fact: str) -> str:
    if fact in INTAKE_FIELDS:
        return str(getattr(Intake._meta.get_field(fact), "verbose_name", fact))
    return fact.replace("_", " ")


def _choice_label(choices: Any, value: object) -> str:
    return str(dict(choices.choices).get(value, value or "not recorded"))


def _newer_run(user: AbstractBaseUser | AnonymousUser, screening: Screening) -> Screening | None:
    """For a superseded screening, the latest run of the same intake."""
    if screening.status != Screening.Status.SUPERSEDED:
        return None
    return (
        screenings_visible_to(user)
        .filter(intake_id=screening.intake_id, run_at__gt=screening.run_at)
        .order_by("-run_at")
        .first()
    )

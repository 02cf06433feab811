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
from screening.prose import because_list, fact_words
from screening.reevaluation import screening_reevaluate
from screening.selectors import screenings_visible_to

#: The form a clinician uses on a flag of each severity (info flags need none).
FLAG_FORMS: dict[str, type[FlagReviewForm]] = {
    "stop": OverrideForm,
    "urgent": AcknowledgeForm,
    "review": AcknowledgeForm,
}

#: Missing information is grouped by the most severe kind of rule it leaves undecided, in this
#: order: what a stop or urgent rule needs comes first.
MISSING_GROUPS = {
    "stop": "Needed to check for contraindications (stop rules)",
    "urgent": "Needed by urgent safety rules",
    "review": "Needed by rules that ask for a clinician's review",
    "info": "Needed by information rules",
    "indication": "Needed to screen the conditions",
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
    outcome, facts = screening.outcome, screening.facts
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
        "conditions": conditions_of(screening),
        "flag_groups": flag_groups,
        "links": {
            "patient": has_perm(user, "patients.view_patient"),
            "intake": has_perm(user, "patients.view_intake"),
            "intake_editable": links_to_intake,
        },
        "missing": missing,
        "missing_groups": missing_groups_of(screening, missing),
        "incomplete_reasons": incomplete_reasons_of(screening),
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


def conditions_of(screening: Screening) -> list[dict[str, Any]]:
    """The eight conditions, each with its rule's title and evidence as stored, its status in
    words and its reasons in prose."""
    texts = screening.rule_texts
    return [
        {
            **asdict(indication),
            "name": texts.get(indication.rule, {}).get("title") or indication.condition,
            "evidence": texts.get(indication.rule, {}).get("evidence", ""),
            "label": condition_label(indication.status),
            "because": because_list(indication.because),
        }
        for indication in screening.outcome.indications
    ]


def flag_groups_of(screening: Screening, reviews: dict[str, FlagReview]) -> list[dict[str, Any]]:
    """Fired flags by severity with their reviews, to read (no forms)."""
    return _flag_groups(screening, reviews, can_review=False, bound={})


def missing_groups_of(
    screening: Screening, missing: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Missing information grouped by the most severe rule it leaves undecided (`MISSING_GROUPS`
    order: stop and urgent first)."""
    rows = missing_rows(screening) if missing is None else missing
    return [
        {"key": key, "title": title, "rows": in_group}
        for key, title in MISSING_GROUPS.items()
        if (in_group := [row for row in rows if row["group"] == key])
    ]


def incomplete_reasons_of(screening: Screening) -> list[tuple[str, str]]:
    """Why missing information could not be obtained, as (question, reason) pairs."""
    return [
        ("all missing information" if fact == "*" else _fact_label(fact), reason)
        for fact, reason in screening.incomplete_reasons.items()
    ]


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
            flags.append(
                {
                    **asdict(flag),
                    "because": because_list(flag.because),
                    "review": review,
                    "form": form,
                }
            )
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
    """One missing fact: the intake question's wording, the field it links to, the rules it
    leaves undecided (most severe first) and the group of the most severe of them."""
    fact = item.fact
    order = list(MISSING_GROUPS)
    rules = sorted(
        (
            {
                "id": rule_id,
                "title": texts.get(rule_id, {}).get("title", "") or rule_id,
                "group": _rule_group(texts.get(rule_id, {})),
            }
            for rule_id in item.needed_by
        ),
        key=lambda rule: order.index(rule["group"]),
    )
    return {
        "fact": fact,
        "label": _fact_label(fact),
        "anchor": _intake_anchor(fact, facts),
        "rules": rules,
        "group": rules[0]["group"] if rules else "indication",
    }


def _rule_group(text: dict[str, Any]) -> str:
    severity = text.get("severity") or ""
    return severity if severity in MISSING_GROUPS else "indication"


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
    """The intake's question for `fact`, as the form words it (`screening.prose`)."""
    return fact_words(fact).label


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

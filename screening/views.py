"""Pages of the screening app. Every view here requires login (LoginRequiredMiddleware).

The result page is drawn only from what the screening stored when it was run (facts, result and
rule text), never by running rules again, so it reads the same whatever is published later.
The POST views are thin: role check, form, one service, a message and a redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from patients.facts import CSSRS_ANSWERS
from patients.models import Intake, SexAtBirth
from patients.selectors import drafts_of, intakes_visible_to
from patients.services import INTAKE_FIELDS
from screening import services
from screening.audit import audit_record
from screening.exceptions import ServiceError
from screening.forms import AcknowledgeForm, FlagReviewForm, OverrideForm
from screening.models import FlagReview, Screening
from screening.permissions import role_required
from screening.roles import Role, has_role, roles_of
from screening.selectors import recent_screenings_of, screening_for, screenings_visible_to

DETAIL_TEMPLATE = "screening/screening_detail.html"


class SignedInRequest(HttpRequest):
    """A request on a page that requires login (LoginRequiredMiddleware): the user is real."""

    user: User


@dataclass(frozen=True, slots=True)
class Label:
    """How a stored code reads on the page: its words, a Bootstrap colour and an explanation."""

    text: str
    colour: str
    explanation: str = ""


# The tool screens and flags; the treatment decision is always the clinician's.
DISPOSITIONS = {
    "eligible": Label(
        "Eligible",
        "success",
        "Screening found an indicated condition and nothing that needs review. "
        "The treatment decision remains the clinician's.",
    ),
    "contraindicated": Label(
        "Contraindicated",
        "danger",
        "A stop flag fired: the rule set lists a contraindication for this patient. "
        "Going further needs every stop flag overridden with a documented reason. "
        "The treatment decision remains the clinician's.",
    ),
    "incomplete": Label(
        "Incomplete",
        "warning",
        "Information needed to screen safely is missing: a safety rule, or every condition, "
        "could not be decided. Record the missing information below and run the screening again.",
    ),
    "review_required": Label(
        "Review required",
        "warning",
        "Screening found a condition that is indicated or possible, with flags or open questions "
        "that need a clinician's review. The treatment decision remains the clinician's.",
    ),
    "not_indicated": Label(
        "Not indicated",
        "secondary",
        "Screening found none of the listed conditions indicated or possible with the "
        "information recorded. This says nothing about other treatments.",
    ),
}

CONDITION_STATUSES = {
    "indicated": Label("Indicated", "success"),
    "possible": Label("Possible", "info"),
    "not_indicated": Label("Not indicated", "secondary"),
    "undetermined": Label("Undetermined", "warning"),
}

SEVERITIES = {
    "stop": Label(
        "Stop",
        "danger",
        "Contraindications: each needs an override with a coded and a written reason.",
    ),
    "urgent": Label("Urgent", "danger", "Each needs acknowledging with a reason."),
    "review": Label("Review", "warning", "Each needs acknowledging with a reason."),
    "info": Label("Information", "info", "For information: nothing to do."),
}

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

STATUS_COLOURS: dict[str, str] = {
    Screening.Status.UNSIGNED.value: "warning",
    Screening.Status.SUPERSEDED.value: "secondary",
    Screening.Status.SIGNED.value: "success",
}


def home(request: SignedInRequest) -> HttpResponse:
    """Who is signed in, and what each of their roles does in the product; for clinicians, their
    recent screenings and the draft intakes they are working on."""
    held = roles_of(request.user)
    role_labels = [label for value, label in Role.choices if value in held]
    context: dict[str, Any] = {"role_labels": role_labels}
    if Role.CLINICIAN.value in held:
        context["recent_screenings"] = [
            _screening_row(screening) for screening in recent_screenings_of(request.user)
        ]
        context["drafts"] = drafts_of(request.user)[:20]
    return render(request, "screening/home.html", context)


@role_required(Role.CLINICIAN, Role.REVIEWER)
def screening_detail(request: HttpRequest, screening_uuid: object) -> HttpResponse:
    """The result of one screening, as it was shown when it was run; clinicians review and sign
    it here, reviewers read it."""
    screening = screening_for(request.user, screening_uuid)
    record_view(request.user, screening, page="result")
    return render(request, DETAIL_TEMPLATE, result_page_context(request.user, screening))


def record_view(user: AbstractBaseUser | AnonymousUser, screening: Screening, *, page: str) -> None:
    """Every look at a patient's screening is an audit event (`page` says which page)."""
    audit_record(
        actor=user,
        action="screening.view",
        object_type="screening.screening",
        object_id=str(screening.uuid),
        detail={"page": page},
    )


@require_POST
@role_required(Role.CLINICIAN)
def flag_acknowledge(
    request: SignedInRequest, screening_uuid: object, rule_id: str
) -> HttpResponse:
    def save(screening: Screening, data: dict[str, Any]) -> FlagReview:
        return services.flag_acknowledge(
            screening=screening,
            rule_id=rule_id,
            user=request.user,
            reason=data["reason"],
            seen=data["seen"],
        )

    return _review_flag(request, screening_uuid, rule_id, AcknowledgeForm, save, "acknowledged")


@require_POST
@role_required(Role.CLINICIAN)
def flag_override(request: SignedInRequest, screening_uuid: object, rule_id: str) -> HttpResponse:
    def save(screening: Screening, data: dict[str, Any]) -> FlagReview:
        return services.flag_override(
            screening=screening,
            rule_id=rule_id,
            user=request.user,
            reason_code=data["reason_code"],
            reason=data["reason"],
            seen=data["seen"],
        )

    return _review_flag(
        request, screening_uuid, rule_id, OverrideForm, save, "overridden with a documented reason"
    )


@require_POST
@role_required(Role.CLINICIAN)
def screening_sign(request: SignedInRequest, screening_uuid: object) -> HttpResponse:
    screening = screening_for(request.user, screening_uuid)
    try:
        services.screening_sign(screening=screening, user=request.user)
    except ServiceError as error:
        messages.error(request, f"Not signed: {error}")
    else:
        messages.success(request, "Screening signed. It is now locked; amend it to change it.")
    return redirect("screening:detail", screening.uuid)


@require_POST
@role_required(Role.CLINICIAN)
def screening_amend(request: SignedInRequest, screening_uuid: object) -> HttpResponse:
    screening = screening_for(request.user, screening_uuid)
    try:
        intake = services.screening_amend(screening=screening, user=request.user)
    except ServiceError as error:
        messages.error(request, f"Not amended: {error}")
        return redirect("screening:detail", screening.uuid)
    messages.success(
        request,
        "Amendment started: this draft intake is a copy of the signed one. "
        "Correct it and run the screening again; the signed screening stays as it was.",
    )
    return redirect("patients:intake_edit", intake.uuid)


def _review_flag(
    request: SignedInRequest,
    screening_uuid: object,
    rule_id: str,
    form_class: type[FlagReviewForm],
    save: Callable[[Screening, dict[str, Any]], FlagReview],
    done: str,
) -> HttpResponse:
    """Validate the flag's form and save the review; a refusal comes back as a message."""
    screening = screening_for(request.user, screening_uuid)
    revising = screening.reviews.filter(rule_id=rule_id).exists()
    form = form_class(
        request.POST, screening_uuid=screening.uuid, rule_id=rule_id, revising=revising
    )
    if form.is_valid():
        try:
            save(screening, form.cleaned_data)
        except ServiceError as error:
            messages.error(request, f"Not saved: {error}")
        else:
            messages.success(request, f"{rule_id} {done}.")
        return redirect("screening:detail", screening.uuid)
    context = result_page_context(request.user, screening, bound={rule_id: form})
    shown = any(flag["form"] is form for group in context["flag_groups"] for flag in group["flags"])
    if shown:
        return render(request, DETAIL_TEMPLATE, context, status=400)
    # The page has no place for this form (the screening is signed or superseded, or this is not
    # a flag of that kind): the errors cannot sit beside a field, so they become messages.
    for problems in form.errors.values():
        for problem in problems:
            messages.error(request, f"Not saved: {problem}")
    return redirect("screening:detail", screening.uuid)


def result_page_context(
    user: AbstractBaseUser | AnonymousUser,
    screening: Screening,
    bound: dict[str, FlagReviewForm] | None = None,
) -> dict[str, Any]:
    """Everything the result page shows, from the screening's stored snapshot."""
    is_clinician = has_role(user, Role.CLINICIAN)
    is_open = screening.status == Screening.Status.UNSIGNED
    result, texts, facts = screening.result, screening.rule_texts, screening.facts
    reviews = {r.rule_id: r for r in screening.reviews.select_related("reviewed_by")}
    flag_groups = _flag_groups(
        screening, reviews, can_review=is_clinician and is_open, bound=bound or {}
    )
    pending = services.pending_flags(screening, reviewed=reviews) if is_open else []
    intake = screening.intake
    links_to_intake = (
        is_clinician and intake.status == Intake.Status.DRAFT and not screening.is_signed
    )
    return {
        "screening": screening,
        "patient": screening.patient,
        "age_years": facts.get("age_years"),
        "sex_at_birth": _choice_label(SexAtBirth, facts.get("sex_at_birth")),
        "ruleset": result["ruleset"],
        "status_colour": STATUS_COLOURS.get(screening.status, "secondary"),
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
        "urgent_flags": [f for f in result["flags"] if f["severity"] == "urgent"],
        "disposition": DISPOSITIONS.get(
            screening.disposition, Label(screening.disposition, "secondary")
        ),
        "conditions": [
            {
                **indication,
                "name": texts.get(indication["rule"], {}).get("title") or indication["condition"],
                "evidence": texts.get(indication["rule"], {}).get("evidence", ""),
                "label": CONDITION_STATUSES.get(
                    indication["status"], Label(indication["status"], "secondary")
                ),
            }
            for indication in result["indications"]
        ],
        "flag_groups": flag_groups,
        "missing": [_missing_row(item, texts, facts) for item in result["missing"]],
        "intake_url_for_missing": intake if links_to_intake else None,
        "pending": pending,
        "can_sign": is_clinician and is_open and not pending,
        "can_act": is_clinician and is_open,
        "can_amend": is_clinician and screening.is_signed,
    }


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
        for flag in screening.result["flags"]:
            if flag["severity"] != severity:
                continue
            review = reviews.get(flag["rule"])
            form = None
            if can_review and severity in FLAG_FORMS:
                form = bound.get(flag["rule"])
                if not isinstance(form, FLAG_FORMS[severity]):
                    form = _review_form(screening, flag["rule"], review)
            flags.append({**flag, "review": review, "form": form})
        if flags:
            groups.append({"severity": severity, "label": label, "flags": flags})
    return groups


def _review_form(screening: Screening, rule_id: str, review: FlagReview | None) -> FlagReviewForm:
    severity = next(f["severity"] for f in screening.result["flags"] if f["rule"] == rule_id)
    initial = {"reason": review.reason, "reason_code": review.reason_code} if review else {}
    initial["seen"] = services.review_seen(review)
    return FLAG_FORMS[severity](
        initial=initial, screening_uuid=screening.uuid, rule_id=rule_id, revising=bool(review)
    )


def _missing_row(
    item: dict[str, Any], texts: dict[str, Any], facts: dict[str, Any]
) -> dict[str, Any]:
    fact = item["fact"]
    return {
        "fact": fact,
        "label": FACT_LABELS.get(fact) or _intake_label(fact),
        "anchor": _intake_anchor(fact, facts),
        "rules": [
            {"id": rule_id, "title": texts.get(rule_id, {}).get("title", "")}
            for rule_id in item["needed_by"]
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


def _screening_row(screening: Screening) -> dict[str, Any]:
    return {
        "screening": screening,
        "disposition": DISPOSITIONS.get(
            screening.disposition, Label(screening.disposition, "secondary")
        ),
        "status_colour": STATUS_COLOURS.get(screening.status, "secondary"),
    }

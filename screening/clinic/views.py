"""The clinician's screening pages: home, the result page, flag review, sign-off and amendment.
Every view here requires login (LoginRequiredMiddleware) and names the permission it asks for.

The POST views are thin: permission, form, one service, a message and a redirect.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from screening import services
from screening.clinic import chart_pdf
from screening.clinic.forms import AmendForm, BulkAcknowledgeForm, FlagReviewForm
from screening.clinic.result_page import missing_rows, result_page_context, sign_form_for
from screening.core.audit import audit_record, audit_view
from screening.core.errors import InputInvalid, ServiceError
from screening.core.http import SignedInRequest
from screening.core.permissions import Role, has_perm, permission_required, roles_of
from screening.labels import screening_row
from screening.models import Screening
from screening.selectors import (
    drafts_to_finish_of,
    recent_screenings_of,
    screening_for,
    stale_pending_of,
)

DETAIL_TEMPLATE = "screening/screening_detail.html"


def home(request: SignedInRequest) -> HttpResponse:
    """Who is signed in, and what each of their roles does in the product; for clinicians, their
    recent screenings and the draft intakes they are working on (not those already run), with
    links to their whole worklist."""
    held = roles_of(request.user)
    role_labels = [label for value, label in Role.choices if value in held]
    context: dict[str, Any] = {"role_labels": role_labels}
    if has_perm(request.user, "screening.add_screening"):
        context["recent_screenings"] = [
            screening_row(screening) for screening in recent_screenings_of(request.user)
        ]
        context["drafts"] = drafts_to_finish_of(request.user)[:20]
        context["stale_pending"] = list(stale_pending_of(request.user)[:50])
    return render(request, "screening/home.html", context)


@permission_required("screening.view_screening")
def screening_detail(request: HttpRequest, screening_uuid: object) -> HttpResponse:
    """The result of one screening, as it was shown when it was run; clinicians review and sign
    it here, reviewers read it."""
    screening = screening_for(request.user, screening_uuid)
    audit_view(request.user, screening, page="result")
    return render(request, DETAIL_TEMPLATE, _result_page(request.user, screening))


@require_POST
@permission_required("screening.add_flagreview")
def flag_review(
    request: SignedInRequest,
    screening_uuid: object,
    rule_id: str,
    form_class: type[FlagReviewForm],
) -> HttpResponse:
    """Acknowledge or override one flag (`form_class` says which: the URL names it); a refusal
    comes back as a message, a form error beside the flag's form."""
    screening = screening_for(request.user, screening_uuid)
    revising = screening.reviews.filter(rule_id=rule_id).exists()
    form = form_class(
        request.POST, screening_uuid=screening.uuid, rule_id=rule_id, revising=revising
    )
    if form.is_valid():
        try:
            services.flag_review(
                screening=screening,
                rule_id=rule_id,
                user=request.user,
                kind=form.kind,
                reason=form.cleaned_data["reason"],
                reason_code=form.cleaned_data.get("reason_code", ""),
                seen=form.cleaned_data["seen"],
            )
        except ServiceError as error:
            messages.error(request, f"Not saved: {error}")
        else:
            messages.success(request, f"{_flag_title(screening, rule_id)} {form.done}.")
        return redirect("screening:detail", screening.uuid)
    context = _result_page(request.user, screening, bound={rule_id: form})
    shown = any(flag["form"] is form for group in context["flag_groups"] for flag in group["flags"])
    if shown:
        return render(request, DETAIL_TEMPLATE, context, status=400)
    # The page has no place for this form (the screening is signed or superseded, or this is not
    # a flag of that kind): the errors cannot sit beside a field, so they become messages.
    for problems in form.errors.values():
        for problem in problems:
            messages.error(request, f"Not saved: {problem}")
    return redirect("screening:detail", screening.uuid)


@require_POST
@permission_required("screening.add_flagreview")
def flags_acknowledge(request: SignedInRequest, screening_uuid: object) -> HttpResponse:
    """Acknowledge several review flags with one reason (`services.flags_acknowledge`); form
    errors re-render the page at the flags with what was sent."""
    screening = screening_for(request.user, screening_uuid)
    form = BulkAcknowledgeForm(
        request.POST,
        screening_uuid=screening.uuid,
        choices=_review_choices(screening.outcome.flags),
    )
    if form.is_valid():
        try:
            reviews = services.flags_acknowledge(
                screening=screening,
                rule_ids=form.cleaned_data["rule_ids"],
                user=request.user,
                reason=form.cleaned_data["reason"],
            )
        except InputInvalid as invalid:
            for field, problems in invalid.errors.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        except ServiceError as error:
            messages.error(request, f"Not saved: {error}")
            return redirect(reverse("screening:detail", args=[screening.uuid]) + "#flags")
        else:
            titles = ", ".join(_flag_title(screening, review.rule_id) for review in reviews)
            messages.success(
                request, f"{len(reviews)} flag{pluralize(len(reviews))} acknowledged: {titles}."
            )
            return redirect(reverse("screening:detail", args=[screening.uuid]) + "#flags")
    if _bulk_form(screening, request.user) is None:
        # The page no longer offers this form (signed meanwhile, or one flag left): no place
        # beside a field for the errors, so they become messages.
        for field_errors in form.errors.values():
            for problem_text in field_errors:
                messages.error(request, f"Not saved: {problem_text}")
        return redirect(reverse("screening:detail", args=[screening.uuid]) + "#flags")
    context = _result_page(request.user, screening, bulk_form=form)
    return render(request, DETAIL_TEMPLATE, context, status=400)


@require_POST
@permission_required("screening.change_screening")
def screening_sign(request: SignedInRequest, screening_uuid: object) -> HttpResponse:
    """Sign, with the reasons `services.sign_off` asks for; a form error re-renders the page
    at the sign-off section with what was typed."""
    screening = screening_for(request.user, screening_uuid)
    required = services.sign_off(screening)
    form = sign_form_for(screening, required, missing_rows(screening), request.POST)
    if form.is_valid():
        try:
            services.screening_sign(
                screening=screening,
                user=request.user,
                stale_reason=form.stale_reason,
                incomplete_reasons=form.incomplete_reasons,
            )
        except InputInvalid as invalid:
            for field, problems in invalid.errors.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        except ServiceError as error:
            messages.error(request, f"Not signed: {error}")
            return redirect("screening:detail", screening.uuid)
        else:
            messages.success(request, "Screening signed. It is now locked; amend it to change it.")
            return redirect("screening:detail", screening.uuid)
    context = _result_page(request.user, screening, sign_form=form)
    return render(request, DETAIL_TEMPLATE, context, status=400)


@require_POST
@permission_required("screening.change_screening")
def screening_amend(request: SignedInRequest, screening_uuid: object) -> HttpResponse:
    screening = screening_for(request.user, screening_uuid)
    form = AmendForm(request.POST, screening_uuid=screening.uuid)
    if not form.is_valid():
        context = _result_page(request.user, screening, amend_form=form)
        return render(request, DETAIL_TEMPLATE, context, status=400)
    try:
        intake = services.screening_amend(
            screening=screening, user=request.user, reason=form.cleaned_data["reason"]
        )
    except ServiceError as error:
        messages.error(request, f"Not amended: {error}")
        return redirect("screening:detail", screening.uuid)
    messages.success(
        request,
        "Amendment started: this draft intake is a copy of the signed one. "
        "Correct it and run the screening again; the signed screening stays as it was.",
    )
    return redirect("patients:intake_edit", intake.uuid)


@require_POST
@permission_required("screening.add_screening")
def screening_rerun(request: SignedInRequest, screening_uuid: object) -> HttpResponse:
    """Run a pending result's intake again under the rules published now (its reviews carried
    forward where the flags fired again for the same reasons)."""
    screening = screening_for(request.user, screening_uuid)
    if screening.status != screening.Status.UNSIGNED:
        messages.error(request, "Only a result awaiting sign-off is run again from here.")
        return redirect("screening:detail", screening.uuid)
    try:
        rerun = services.screening_run(intake=screening.intake, user=request.user)
    except ServiceError as error:
        messages.error(request, f"Not run again: {error}")
        return redirect("screening:detail", screening.uuid)
    messages.success(
        request,
        f"Run again under version {rerun.ruleset_version.number}. Reviews of flags that fired "
        "again for the same reasons were carried forward; any others need a fresh review.",
    )
    return redirect("screening:detail", rerun.uuid)


@require_safe
@permission_required("screening.view_screening")
def screening_pdf(request: HttpRequest, screening_uuid: object) -> HttpResponse:
    """The screening as a PDF for the chart, from its stored snapshot. The download is an audit
    event; the file is named by the screening's UUID, never by the patient."""
    screening = screening_for(request.user, screening_uuid)
    pdf = chart_pdf.screening_pdf(screening)
    audit_record(
        actor=request.user,
        action="export.pdf",
        target=screening,
        detail={"status": screening.status, "bytes": len(pdf)},
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="screening-{screening.uuid}.pdf"'
    return response


def _flag_title(screening: Screening, rule_id: str) -> str:
    """How messages name a flag: by its title in quotes (the rule ID only if it has none)."""
    flag = screening.outcome.flag(rule_id)
    return f"“{flag.title}”" if flag else rule_id


def _result_page(
    user: Any, screening: Screening, *, bulk_form: BulkAcknowledgeForm | None = None, **kwargs: Any
) -> dict[str, Any]:
    """The result page's context, with the form that acknowledges several review flags at once
    (`bulk_form`: the one a clinician just sent, with its errors)."""
    context = result_page_context(user, screening, **kwargs)
    context["bulk_form"] = bulk_form or _bulk_form(screening, user)
    return context


#: The fewest unreviewed review flags for which the page offers one reason for several.
BULK_FROM = 2


def _bulk_form(screening: Screening, user: Any) -> BulkAcknowledgeForm | None:
    """The form for one reason across the review flags still unreviewed, when a clinician may
    review this screening's flags and at least `BULK_FROM` of them wait."""
    if screening.status != Screening.Status.UNSIGNED or not has_perm(
        user, "screening.add_flagreview"
    ):
        return None
    pending = [flag for flag in services.pending_flags(screening) if flag.severity == "review"]
    if len(pending) < BULK_FROM:
        return None
    return BulkAcknowledgeForm(screening_uuid=screening.uuid, choices=_review_choices(pending))


def _review_choices(flags: Any) -> list[tuple[str, str]]:
    return [(flag.rule, flag.title) for flag in flags if flag.severity == "review"]

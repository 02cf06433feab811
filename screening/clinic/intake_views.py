"""The patient's page and the intake form, as the screening side shows them: the patient's
intakes with the screenings run from each, and an intake that a clinician saves as a draft or
saves and runs. They keep the `patients` URL names (`patients:detail`, `patients:intake_edit`);
`screening.clinic.urls` adds them to that namespace."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods

from patients.forms import SECTIONS, IntakeForm
from patients.models import Intake
from patients.selectors import intake_for, intakes_visible_to, patient_for
from patients.services import intake_autosave_discard
from screening import services
from screening.core.audit import audit_view
from screening.core.errors import ConflictError, InputInvalid, LockedError
from screening.core.held import INTERRUPTED, keeps_post_across_sign_in, take_held_post
from screening.core.http import SignedInRequest
from screening.core.permissions import has_perm, permission_required, require_perm
from screening.ehr.models import IntakePrefill
from screening.ehr.services import prefill_check, prefill_outcomes, prefill_unchecked
from screening.labels import screening_row
from screening.models import Screening

LOCKED_MESSAGE = (
    "This intake belongs to a signed screening and cannot change: amend the screening instead."
)


@require_http_methods(["GET"])
@permission_required("patients.view_patient")
def patient_detail(request: SignedInRequest, patient_uuid: object) -> HttpResponse:
    """The patient, their intakes and the screenings run from each."""
    patient = patient_for(request.user, patient_uuid)
    intakes = (
        intakes_visible_to(request.user)
        .filter(patient=patient)
        .select_related("updated_by", "amends")
        .prefetch_related(
            Prefetch(
                "screenings",
                queryset=Screening.objects.select_related("run_by", "signed_by").order_by(
                    "-run_at"
                ),
            )
        )
    )
    return render(
        request,
        "patients/patient_detail.html",
        {
            "patient": patient,
            "intakes": [
                {
                    "intake": intake,
                    "screenings": [screening_row(s) for s in intake.screenings.all()],
                }
                for intake in intakes
            ],
            "can_edit": has_perm(request.user, "patients.change_intake"),
        },
    )


@keeps_post_across_sign_in
@require_http_methods(["GET", "POST"])
@permission_required("patients.view_intake")
def intake_edit(request: SignedInRequest, intake_uuid: object) -> HttpResponse:
    """Fill in an intake: save it as a draft, or save it and run the screening.

    Reviewers read it; a signed (locked) intake is read-only for everyone. A clinician's answers
    that were not saved come back: those sent after the session ended (held for the sign-in),
    else those the page autosaved.
    """
    intake = intake_for(request.user, intake_uuid)
    can_edit = has_perm(request.user, "patients.change_intake")
    if request.method == "GET":
        audit_view(request.user, intake, page="intake")
        if can_edit and not intake.is_locked:
            restored = _unsaved_answers(request, intake)
            if restored is not None:
                data, source, at = restored
                form = IntakeForm(data, intake=intake)
                stale = data.get("version") != str(intake.version)
                return _intake_page(
                    request, intake, form, restored={"source": source, "at": at}, conflict=stale
                )
        form = IntakeForm(intake=intake, read_only=intake.is_locked or not can_edit)
        return _intake_page(request, intake, form)
    require_perm(
        request.user,
        "patients.change_intake",
        "Reviewers read intakes; only clinicians change them.",
    )
    if intake.is_locked:
        return _refuse_locked(request, intake, LockedError(LOCKED_MESSAGE))
    if request.POST.get("action") == "discard":
        intake_autosave_discard(intake=intake, user=request.user)
        messages.info(request, "Your unsaved answers were discarded: the intake as saved is shown.")
        return redirect("patients:intake_edit", intake.uuid)

    prefill = IntakePrefill.objects.filter(intake=intake).first()
    cleared = request.POST.get("prefill_clear", "")
    if prefill is None or cleared not in prefill.sources:
        cleared = ""
    form = IntakeForm(_without(request.POST, cleared), intake=intake)
    if not form.is_valid():
        return _intake_page(request, intake, form)
    confirmed = form.cleaned_data["prefill_confirmed"]
    change: dict[str, Any] = {
        "intake": intake,
        "user": request.user,
        "expected_version": form.expected_version,
        "values": form.values,
        "trials": form.trial_rows,
    }
    try:
        if request.POST.get("action") == "run" and not cleared:
            # Prefilled answers are the clinician's only once checked one by one: a Run with
            # any left unchecked is refused, naming them, and nothing is lost or saved.
            unchecked = prefill_unchecked(intake=intake, values=form.values, confirmed=confirmed)
            if unchecked:
                form.refuse_unchecked(unchecked)
                return _intake_page(request, intake, form, status=422)
            screening = services.intake_submit(**change)
            prefill_check(intake=intake, user=request.user, values=form.values, confirmed=confirmed)
            return redirect("screening:detail", screening.uuid)
        services.intake_save(**change)
        prefill_check(intake=intake, user=request.user, values=form.values, confirmed=confirmed)
    except InputInvalid as invalid:
        form.add_service_errors(invalid.errors)
        return _intake_page(request, intake, form)
    except LockedError as error:
        return _refuse_locked(request, intake, error)
    except ConflictError:
        return _intake_page(request, intake, form, conflict=True, status=409)
    if cleared:
        label = form.fields[cleared].label
        messages.success(request, f"“{label}” cleared: not recorded. Draft saved.")
    else:
        messages.success(request, "Draft saved")
    return redirect("patients:intake_edit", intake.uuid)


def _without(data: QueryDict, name: str) -> QueryDict:
    """The answers as sent, with one prefilled answer cleared (not recorded)."""
    if not name:
        return data
    copy = data.copy()
    copy.setlist(name, [])
    copy.setlist("prefill_confirmed", [n for n in data.getlist("prefill_confirmed") if n != name])
    return copy


def _mark_prefilled(form: IntakeForm, rows: list[dict[str, Any]]) -> None:
    """Say beside each prefilled question where its answer came from and whether it is checked
    (its help text, which the field's `aria-describedby` already names)."""
    for row in rows:
        field = form.fields.get(row["fact"])
        if field is None or row["outcome"] not in ("pending", "confirmed"):
            continue
        where = "; ".join(
            f"{s.get('reference')}{', ' + s['date'] if s.get('date') else ''}"
            for s in row["sources"]
        )
        state = (
            "not checked yet: confirm, change or clear it in the list of prefilled answers above"
            if row["outcome"] == "pending"
            else "confirmed"
        )
        # Escaped here: crispy prints help text as safe, and the references come from the EHR.
        note = format_html("From EHR data ({}), {}.", where, state)
        field.help_text = format_html("{} {}", field.help_text, note) if field.help_text else note


def _prefill_rows(prefill: IntakePrefill, form: IntakeForm) -> list[dict[str, Any]]:
    """One row per prefilled answer for the panel: its label, sources and how it stands — as
    stored, or as the answers on the page say when they were sent and came back."""
    if form.is_bound:
        cleaned = getattr(form, "cleaned_data", {})
        values = {f: cleaned.get(f, prefill.values.get(f)) for f in prefill.sources}
        data = form.data
        ticked = data.getlist("prefill_confirmed") if isinstance(data, QueryDict) else []
        outcomes = prefill_outcomes(prefill, values=values, confirmed=ticked)
    else:
        outcomes = {fact: prefill.outcome(fact) for fact in prefill.sources}
    return [
        {
            "fact": fact,
            "label": form.fields[fact].label if fact in form.fields else fact,
            "sources": sources,
            "outcome": outcomes[fact],
            "outcome_label": IntakePrefill.Outcome(outcomes[fact]).label,
            "checked": prefill.checked.get(fact, {}),
        }
        for fact, sources in sorted(prefill.sources.items())
    ]


def _refuse_locked(request: HttpRequest, intake: Intake, error: LockedError) -> HttpResponse:
    messages.error(request, f"Nothing was saved. {error}")
    return redirect("patients:intake_edit", intake.uuid)


def _unsaved_answers(
    request: SignedInRequest, intake: Intake
) -> tuple[QueryDict, str, datetime.datetime] | None:
    """What this clinician entered and did not save: a form sent after their session ended
    (`held`) or one that met a database fault (`interrupted`), else their autosaved working
    copy (`autosave`), with when it was sent."""
    held = take_held_post(request)
    if held is not None:
        data, sent, reason = held
        return data, "interrupted" if reason == INTERRUPTED else "held", sent
    autosave = intake.autosaves.filter(saved_by=request.user).first()
    if autosave is None:
        return None
    data = QueryDict(mutable=True)
    for name, values in autosave.data.items():
        data.setlist(name, values)
    return data, "autosave", autosave.saved_at


def _intake_page(
    request: HttpRequest,
    intake: Intake,
    form: IntakeForm,
    *,
    conflict: bool = False,
    restored: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    signed = (
        intake.screenings.filter(status=Screening.Status.SIGNED).order_by("-signed_at").first()
        if intake.is_locked
        else None
    )
    pending = (
        intake.screenings.filter(status=Screening.Status.UNSIGNED)
        .annotate(review_count=Count("reviews"))
        .order_by("-run_at")
        .first()
    )
    context: dict[str, Any] = {
        "intake": intake,
        "patient": intake.patient,
        "form": form,
        "sections": SECTIONS,
        "conflict": conflict,
        "restored": restored,
        "pending_result": pending,
        "signed_screening": signed,
        "latest_screening": intake.screenings.order_by("-run_at").first(),
    }
    prefill = IntakePrefill.objects.filter(intake=intake).first()
    if prefill is not None:
        rows = _prefill_rows(prefill, form)
        context["ehr_prefill"] = prefill
        context["ehr_prefill_rows"] = rows
        context["ehr_prefill_pending"] = [r for r in rows if r["outcome"] == "pending"]
        _mark_prefilled(form, rows)
    return render(request, "patients/intake_form.html", context, status=status)

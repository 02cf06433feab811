"""Rule administration pages (namespace `rules`), for rule admins only.

Every view is wrapped in `permission_required(RuleSet.ADMIN_PERMISSION)` and reads through the admin selectors,
which return nothing to other roles. POST views are thin: form, one service, a message and a
redirect. A `ValidationError` from a service lands beside the form's fields.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from crispy_forms.layout import Submit
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rules import selectors, services
from rules.cases import CaseSummary, cases_check
from rules.editor import RuleTrial, fact_palette
from rules.editor import rule_try as rule_try_logic
from rules.engine import RuleSetInvalid
from rules.forms import (
    ApproveForm,
    DiffForm,
    ExpectationUpdateForm,
    PublishForm,
    ReturnForm,
    RuleAddForm,
    RuleCaseForm,
    RuleFilterForm,
    RuleForm,
    RuleTryForm,
    SubmitForm,
)
from rules.impact import impact_example as impact_example_read
from rules.impact import rules_fingerprint
from rules.labels import fact_value_words
from rules.loader import compiled_version
from rules.models import Rule, RuleSet, RuleSetVersion
from screening.core.errors import ServiceError
from screening.core.permissions import permission_required

_admin_permission = permission_required(RuleSet.ADMIN_PERMISSION)


def rule_admin_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponseBase]:
    """Rule admins only; a draft's page asked for after the draft was published (a bookmark,
    the back button) sends the rule admin on to the version instead of a 404."""

    @wraps(view)
    def stale_drafts_redirect(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except selectors.NotADraft as exc:
            version = exc.version
            label = f"version {version.number}" if version.number else "a version"
            messages.info(
                request,
                f"That draft is now {label} ({version.get_status_display().lower()}): "
                "here it is. Published versions do not change.",
            )
            return redirect(_version_url(version))

    return _admin_permission(stale_drafts_redirect)


def _attach(form: Form, error: ValidationError) -> None:
    """Put a service's field errors beside the form's fields (others above the form)."""
    if hasattr(error, "error_dict"):
        for name, problems in error.error_dict.items():
            form.add_error(name if name in form.fields else None, problems)
    else:
        form.add_error(None, error)


def _case_summary(version: RuleSetVersion) -> tuple[CaseSummary | None, list[str]]:
    """The rule set's test cases run against `version`, or the reasons it does not compile."""
    try:
        compiled = compiled_version(version)
    except RuleSetInvalid as exc:
        return None, [str(problem) for problem in exc.problems]
    cases = version.rule_set.test_cases.order_by("name")
    return cases_check(compiled, cases, today=timezone.localdate()), []


def _version_url(version: RuleSetVersion) -> str:
    return reverse("rules:version", args=[version.uuid])


# --- rule sets and versions --------------------------------------------------------------------


@rule_admin_only
@require_GET
def rule_set_list(request: HttpRequest) -> HttpResponse:
    rule_sets = [
        (rule_set, next((v for v in rule_set.versions.all() if v.is_draft), None))
        for rule_set in selectors.rule_sets_for(request.user)
    ]
    return render(request, "rules/ruleset_list.html", {"rule_sets": rule_sets})


@rule_admin_only
@require_GET
def version_detail(request: HttpRequest, version_uuid: str) -> HttpResponse:
    version = selectors.version_for(request.user, version_uuid)
    changed = selectors.changed_rule_ids(version)
    label = ""
    if version.based_on:
        since = f"since version {version.based_on.number}"
        label = f"Changed in this draft ({since})" if version.is_draft else f"Changed {since}"
    filter_form = RuleFilterForm(request.GET or None, changed_label=label)
    filters = filter_form.filters
    context: dict[str, Any] = {
        "version": version,
        "rule_set": version.rule_set,
        "rules": selectors.version_rules(
            version,
            changed=changed,
            q=filters.get("q", ""),
            severity=filters.get("severity", ""),
            changed_only=filters.get("changed", False),
        ),
        "rule_total": version.rules.count(),
        "changed_ids": changed,
        "filter_form": filter_form,
        "filtered": bool(filters),
        "open_draft": selectors.open_draft(version.rule_set),
        "compare_url": compare_url(version.based_on, version) if version.based_on else "",
    }
    if version.is_draft:
        summary, problems = _case_summary(version)
        preview = selectors.latest_impact_preview(version)
        context.update(
            summary=summary,
            compile_problems=problems,
            preview=preview,
            preview_stale=preview is not None and preview.fingerprint != rules_fingerprint(version),
        )
    return render(request, "rules/rulesetversion_detail.html", context)


@rule_admin_only
@require_POST
def draft_start(request: HttpRequest, rule_set_uuid: str) -> HttpResponse:
    rule_set = selectors.rule_set_for(request.user, rule_set_uuid)
    try:
        draft = services.draft_start(rule_set=rule_set, user=request.user)
    except services.DraftExists as exc:
        messages.warning(request, str(exc))
        return redirect(_version_url(exc.draft))
    except ServiceError as exc:
        messages.error(request, str(exc))
        return redirect("rules:list")
    messages.success(request, "Draft started: a copy of every rule of the published version.")
    return redirect(_version_url(draft))


@rule_admin_only
@require_http_methods(["GET", "POST"])
def draft_discard(request: HttpRequest, version_uuid: str) -> HttpResponse:
    draft = selectors.draft_for(request.user, version_uuid)
    if request.method == "POST":
        services.draft_discard(draft=draft, user=request.user)
        messages.success(request, "Draft discarded. Published versions are unchanged.")
        return redirect("rules:list")
    return render(request, "rules/rulesetversion_confirm_discard.html", {"version": draft})


# --- rules of a draft --------------------------------------------------------------------------


@rule_admin_only
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, version_uuid: str, rule_id: str) -> HttpResponse:
    draft = selectors.draft_for(request.user, version_uuid)
    rule = selectors.rule_for(request.user, draft, rule_id)
    form = RuleForm(request.POST or None, rule=rule)
    try_form = RuleTryForm(cases=selectors.rule_cases_for_draft(draft))
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.rule_update(rule=rule, user=request.user, values=form.cleaned_data)
        except ValidationError as exc:
            _attach(form, exc)
        else:
            if changed:
                messages.success(request, f"{rule.rule_id} saved ({', '.join(changed)} changed).")
            else:
                messages.info(request, f"{rule.rule_id}: nothing changed.")
            return redirect(f"{_version_url(draft)}#rule-{rule.rule_id}")
    return _rule_form_page(request, draft, rule, form, try_form)


@rule_admin_only
@require_POST
def rule_try(request: HttpRequest, version_uuid: str, rule_id: str) -> HttpResponse:
    """Evaluate the rule's logic as typed against a test case, without saving anything: the
    edit page again, with what was typed kept and the answer (or the logic's errors) shown."""
    draft = selectors.draft_for(request.user, version_uuid)
    rule = selectors.rule_for(request.user, draft, rule_id)
    typed = {name: request.POST[name] for name in RuleForm.EDITABLE if name in request.POST}
    form = RuleForm(initial=typed, rule=rule)
    try_form = RuleTryForm(request.POST, cases=selectors.rule_cases_for_draft(draft))
    trial = None
    if try_form.is_valid():
        trial = rule_try_logic(
            case=try_form.cleaned_data["try_case"],
            kind=rule.kind,
            logic={name: try_form.cleaned_data[name] for name in ("logic", "diagnosis_logic")},
            language=draft.language,
            today=timezone.localdate(),
        )
    return _rule_form_page(request, draft, rule, form, try_form, trial=trial)


def _rule_form_page(
    request: HttpRequest,
    draft: RuleSetVersion,
    rule: Rule | None,
    form: Form,
    try_form: RuleTryForm | None = None,
    trial: RuleTrial | None = None,
) -> HttpResponse:
    return render(
        request,
        "rules/rule_form.html",
        {
            "version": draft,
            "rule": rule,
            "form": form,
            "try_form": try_form,
            "trial": trial,
            "palette": fact_palette(),
        },
    )


@rule_admin_only
@require_http_methods(["GET", "POST"])
def rule_add(request: HttpRequest, version_uuid: str) -> HttpResponse:
    draft = selectors.draft_for(request.user, version_uuid)
    form = RuleAddForm(request.POST or None, draft=draft)
    if request.method == "POST" and form.is_valid():
        try:
            rule = services.rule_add(draft=draft, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, f"{rule.rule_id} added to the draft.")
            return redirect(f"{_version_url(draft)}#rule-{rule.rule_id}")
    return _rule_form_page(request, draft, None, form)


@rule_admin_only
@require_http_methods(["GET", "POST"])
def rule_retire(request: HttpRequest, version_uuid: str, rule_id: str) -> HttpResponse:
    draft = selectors.draft_for(request.user, version_uuid)
    rule = selectors.rule_for(request.user, draft, rule_id)
    if request.method == "POST":
        try:
            services.rule_retire(rule=rule, user=request.user)
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{rule.rule_id} retired from the draft.")
        return redirect(_version_url(draft))
    return render(request, "rules/rule_confirm_retire.html", {"version": draft, "rule": rule})


# --- test cases --------------------------------------------------------------------------------


@rule_admin_only
@require_GET
def case_results(request: HttpRequest, version_uuid: str) -> HttpResponse:
    draft = selectors.draft_for(request.user, version_uuid)
    summary, problems = _case_summary(draft)
    return render(
        request,
        "rules/ruletestcase_results.html",
        {"version": draft, "summary": summary, "compile_problems": problems},
    )


@rule_admin_only
@require_http_methods(["GET", "POST"])
def case_accept(request: HttpRequest, version_uuid: str, case_uuid: str) -> HttpResponse:
    """Update a failing case's expectation to the draft's outcome, with a reason."""
    draft = selectors.draft_for(request.user, version_uuid)
    case = selectors.rule_case_for(request.user, case_uuid)
    form = ExpectationUpdateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.rule_case_expectation_update(
                case=case, draft=draft, user=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            _attach(form, exc)
        except ServiceError as exc:
            messages.error(request, str(exc))
            return redirect("rules:case_results", version_uuid=draft.uuid)
        else:
            messages.success(request, f"{case.name}: the draft's outcome is now expected.")
            return redirect("rules:case_results", version_uuid=draft.uuid)
    summary, _ = _case_summary(draft)
    check = next((c for c in summary.checks if c.case.pk == case.pk), None) if summary else None
    return render(
        request,
        "rules/ruletestcase_accept.html",
        {"version": draft, "case": case, "check": check, "form": form},
    )


@rule_admin_only
@require_GET
def case_list(request: HttpRequest, rule_set_uuid: str) -> HttpResponse:
    rule_set = selectors.rule_set_for(request.user, rule_set_uuid)
    cases = selectors.rule_cases_for(request.user).filter(rule_set=rule_set).order_by("name")
    return render(request, "rules/ruletestcase_list.html", {"rule_set": rule_set, "cases": cases})


@rule_admin_only
@require_http_methods(["GET", "POST"])
def case_add(request: HttpRequest, rule_set_uuid: str) -> HttpResponse:
    rule_set = selectors.rule_set_for(request.user, rule_set_uuid)
    form = RuleCaseForm(request.POST or None, rule_set=rule_set, submit="Add case")
    if request.method == "POST" and form.is_valid():
        try:
            case = services.rule_case_create(
                rule_set=rule_set, user=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, f"Test case {case.name} added.")
            return redirect("rules:case_list", rule_set_uuid=rule_set.uuid)
    return render(
        request, "rules/ruletestcase_form.html", {"rule_set": rule_set, "case": None, "form": form}
    )


@rule_admin_only
@require_http_methods(["GET", "POST"])
def case_edit(request: HttpRequest, case_uuid: str) -> HttpResponse:
    case = selectors.rule_case_for(request.user, case_uuid)
    initial = {
        "name": case.name,
        "description": case.description,
        "facts": case.facts,
        "expected": case.expected,
    }
    form = RuleCaseForm(request.POST or None, initial=initial, rule_set=case.rule_set)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.rule_case_update(case=case, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _attach(form, exc)
        else:
            if changed:
                messages.success(request, f"Test case saved ({', '.join(changed)} changed).")
            else:
                messages.info(request, "Test case: nothing changed.")
            return redirect("rules:case_list", rule_set_uuid=case.rule_set.uuid)
    return render(
        request,
        "rules/ruletestcase_form.html",
        {"rule_set": case.rule_set, "case": case, "form": form},
    )


# --- impact preview ----------------------------------------------------------------------------


@rule_admin_only
@require_POST
def impact_start(request: HttpRequest, version_uuid: str) -> HttpResponse:
    draft = selectors.draft_for(request.user, version_uuid)
    preview = services.impact_preview_start(draft=draft, user=request.user)
    return redirect("rules:impact", preview_uuid=preview.uuid)


@rule_admin_only
@require_GET
def impact_detail(request: HttpRequest, preview_uuid: str) -> HttpResponse:
    preview = selectors.impact_preview_for(request.user, preview_uuid)
    draft = preview.draft
    stale = draft.is_draft and preview.fingerprint != rules_fingerprint(draft)
    examples = [{**example, "number": n} for n, example in enumerate(preview.examples or [], 1)]
    return render(
        request,
        "rules/impactpreview_detail.html",
        {
            "preview": preview,
            "version": draft,
            "stale": stale,
            "new_question_examples": [e for e in examples if e.get("new_questions")],
            "other_examples": [e for e in examples if not e.get("new_questions")],
            "other_disposition_changes": preview.changed_disposition - preview.needs_new_questions,
        },
    )


@rule_admin_only
@require_GET
def impact_example(request: HttpRequest, preview_uuid: str, number: int) -> HttpResponse:
    """One changed past screening of a preview: its facts without dates (never the patient's
    identity) and the results of the version in force and of the draft, side by side."""
    preview = selectors.impact_preview_for(request.user, preview_uuid)
    try:
        example = impact_example_read(preview, number)
    except LookupError:
        raise Http404("No such example in this preview.") from None
    draft = preview.draft
    return render(
        request,
        "rules/impactpreview_example.html",
        {
            "preview": preview,
            "version": draft,
            "example": example,
            "rows": example.comparison(selectors.condition_titles(draft.rule_set)),
            "facts": [
                (name, fact_value_words(value)) for name, value in sorted(example.facts.items())
            ],
            "stale": draft.is_draft and preview.fingerprint != rules_fingerprint(draft),
            "count": len(preview.examples or []),
        },
    )


@rule_admin_only
@require_GET
def impact_progress(request: HttpRequest, preview_uuid: str) -> JsonResponse:
    preview = selectors.impact_preview_for(request.user, preview_uuid)
    return JsonResponse(
        {
            "status": preview.status,
            "status_label": preview.get_status_display(),
            "finished": preview.is_finished,
            "total": preview.total,
            "processed": preview.processed,
            "percent": preview.percent,
            "changed_disposition": preview.changed_disposition,
            "changed_flags": preview.changed_flags,
            "needs_new_questions": preview.needs_new_questions,
        }
    )


# --- publishing and comparing ------------------------------------------------------------------


def _publish_blockers(draft: RuleSetVersion, summary: CaseSummary | None) -> list[str]:
    """Why the draft cannot be published yet, as sentences (empty when it can)."""
    reasons = []
    if summary is None:
        reasons.append("The draft does not compile.")
    elif not summary.all_pass:
        reasons.append(
            f"{len(summary.failed)} of {summary.total} test cases fail under this draft: change "
            "the draft, or update each case's expectation with a reason."
        )
    approved = draft.approval == RuleSetVersion.Approval.APPROVED
    if not approved and not services.single_person_publishing():
        reasons.append(
            "A second rule admin must approve this draft first "
            f"(now: {draft.get_approval_display().lower()})."
        )
    if draft.publish_after is not None:
        when = timezone.localtime(draft.publish_after).strftime("%d %b %Y %H:%M")
        reasons.append(f"Publishing is already scheduled for {when}.")
    return reasons


@rule_admin_only
@require_http_methods(["GET", "POST"])
def publish(request: HttpRequest, version_uuid: str) -> HttpResponse:
    draft = selectors.draft_for(request.user, version_uuid)
    approved = draft.approval == RuleSetVersion.Approval.APPROVED
    form = PublishForm(request.POST or None, approved=approved)
    refusal: services.PublishRefused | None = None
    if request.method == "POST" and form.is_valid():
        try:
            version = services.rule_set_publish(
                version=draft,
                user=request.user,
                change_note=form.cleaned_data.get("change_note", ""),
                effective_at=form.cleaned_data["effective_at"],
            )
        except ValidationError as exc:
            _attach(form, exc)
        except services.PublishRefused as exc:
            refusal = exc
        except ServiceError as exc:
            messages.error(request, str(exc))
            return redirect(_version_url(draft))
        else:
            if version.is_draft:
                when = timezone.localtime(version.publish_after).strftime("%d %b %Y %H:%M")
                messages.success(request, f"Publishing scheduled for {when}.")
            else:
                messages.success(
                    request,
                    f"Version {version.number} published. New screenings use it; earlier "
                    "screenings keep the version and text they were run with.",
                )
            return redirect(_version_url(version))
    summary, compile_problems = _case_summary(draft)
    blockers = _publish_blockers(draft, summary)
    if blockers:
        form.helper.inputs = [
            Submit(
                "submit", "Publish", disabled="disabled", **{"aria-describedby": "publish-blockers"}
            )
        ]
    return render(
        request,
        "rules/rulesetversion_publish.html",
        {
            "version": draft,
            "form": form,
            "refusal": refusal,
            "blockers": blockers,
            "summary": summary,
            "compile_problems": compile_problems,
            "preview": selectors.latest_impact_preview(draft),
            "single_person": services.single_person_publishing(),
        },
    )


# --- two-person approval and restore -----------------------------------------------------------


@rule_admin_only
@require_http_methods(["GET", "POST"])
def draft_submit(request: HttpRequest, version_uuid: str) -> HttpResponse:
    draft = selectors.draft_for(request.user, version_uuid)
    form = SubmitForm(request.POST or None, initial={"change_note": draft.change_note})
    refusal: services.PublishRefused | None = None
    if request.method == "POST" and form.is_valid():
        try:
            services.rule_set_submit(
                draft=draft, user=request.user, change_note=form.cleaned_data["change_note"]
            )
        except ValidationError as exc:
            _attach(form, exc)
        except services.PublishRefused as exc:
            refusal = exc
        except ServiceError as exc:
            messages.error(request, str(exc))
            return redirect(_version_url(draft))
        else:
            messages.success(
                request,
                "Submitted for approval. Another rule admin approves or returns it; its rules "
                "cannot be edited meanwhile.",
            )
            return redirect(_version_url(draft))
    summary, compile_problems = _case_summary(draft)
    return render(
        request,
        "rules/rulesetversion_submit.html",
        {
            "version": draft,
            "form": form,
            "refusal": refusal,
            "summary": summary,
            "compile_problems": compile_problems,
        },
    )


@rule_admin_only
@require_http_methods(["GET", "POST"])
def draft_approval(request: HttpRequest, version_uuid: str) -> HttpResponse:
    """The approver's page: the diff, the test results and the impact preview, then approve
    or return with a comment. The submitter sees it too, without the forms."""
    draft = selectors.draft_for(request.user, version_uuid)
    action = request.GET.get("action") if request.method == "POST" else None
    approve_form = ApproveForm(request.POST if action == "approve" else None)
    return_form = ReturnForm(request.POST if action == "return" else None)
    refusal: services.PublishRefused | None = None
    form = {"approve": approve_form, "return": return_form}.get(action or "")
    if form is not None and form.is_valid():
        try:
            if action == "approve":
                services.rule_set_approve(
                    draft=draft, user=request.user, note=form.cleaned_data["note"]
                )
                messages.success(request, "Draft approved: it can now be published.")
            else:
                services.rule_set_return(
                    draft=draft, user=request.user, comment=form.cleaned_data["comment"]
                )
                messages.success(request, "Draft returned with your comment.")
        except ValidationError as exc:
            _attach(form, exc)
        except services.PublishRefused as exc:
            refusal = exc
        except ServiceError as exc:
            messages.error(request, str(exc))
            return redirect("rules:approval", version_uuid=draft.uuid)
        else:
            return redirect(_version_url(draft))
    summary, compile_problems = _case_summary(draft)
    preview = selectors.latest_impact_preview(draft)
    diff = selectors.version_diff(draft.based_on, draft) if draft.based_on else None
    return render(
        request,
        "rules/rulesetversion_approval.html",
        {
            "version": draft,
            "diff": diff,
            "summary": summary,
            "compile_problems": compile_problems,
            "preview": preview,
            "preview_stale": preview is not None
            and preview.fingerprint != rules_fingerprint(draft),
            "refusal": refusal,
            "can_decide": draft.approval == RuleSetVersion.Approval.SUBMITTED
            and draft.submitted_by_id != request.user.pk,
            "approve_form": approve_form,
            "return_form": return_form,
            "compare_url": compare_url(draft.based_on, draft) if draft.based_on else "",
        },
    )


@rule_admin_only
@require_POST
def version_restore(request: HttpRequest, version_uuid: str) -> HttpResponse:
    """Start a draft from an earlier version: rolling back is a new version, never a rewrite."""
    version = selectors.version_for(request.user, version_uuid)
    try:
        draft = services.draft_start(
            rule_set=version.rule_set, user=request.user, from_version=version
        )
    except services.DraftExists as exc:
        messages.warning(request, str(exc))
        return redirect(_version_url(exc.draft))
    except ServiceError as exc:
        messages.error(request, str(exc))
        return redirect(_version_url(version))
    messages.success(
        request,
        f"Draft started from version {version.number}: a copy of its rules. Publishing it "
        "makes a new version; version history is kept.",
    )
    return redirect(_version_url(draft))


@rule_admin_only
@require_GET
def version_compare(request: HttpRequest, rule_set_uuid: str) -> HttpResponse:
    rule_set = selectors.rule_set_for(request.user, rule_set_uuid)
    versions = selectors.versions_for(request.user).filter(rule_set=rule_set)
    form = DiffForm(request.GET or None, versions=versions)
    diff = None
    if form.is_bound and form.is_valid():
        diff = selectors.version_diff(form.cleaned_data["old"], form.cleaned_data["new"])
    return render(
        request,
        "rules/rulesetversion_compare.html",
        {"rule_set": rule_set, "form": form, "diff": diff},
    )


def compare_url(old: RuleSetVersion, new: RuleSetVersion) -> str:
    """The compare page showing what changed from `old` to `new`."""
    query = urlencode({"old": old.uuid, "new": new.uuid})
    return f"{reverse('rules:compare', args=[old.rule_set.uuid])}?{query}"

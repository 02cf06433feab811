"""Reviewers' pages: the audit of past screenings. Read-only: every view is a GET for the
reviewer role, and every look at a patient's screening or export is itself an audit event."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import HttpResponse, QueryDict, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from rules import services as rule_services
from rules.engine import IntakeFacts
from rules.forms import RuleCaseForm
from rules.models import RuleSet
from screening import reevaluation
from screening.clinic.result_page import result_page_context
from screening.core.audit import audit_record, audit_verify, audit_view
from screening.core.http import SignedInRequest
from screening.core.pagination import row_count
from screening.core.permissions import permission_required
from screening.core.replica import reads_from_replica
from screening.ehr.selectors import cds_card_stats
from screening.labels import DISPOSITIONS, SEVERITIES, disposition_label, screening_row
from screening.models import Screening
from screening.prose import fact_label
from screening.review import analytics, as_test_case, exports
from screening.review.audit_prose import (
    EVENT_FAMILIES,
    EVENT_KINDS,
    OBJECT_TYPES,
    EventLine,
    audit_lines,
)
from screening.review.forms import (
    SEARCH_KEY_LENGTH,
    AuditFilterForm,
    PeriodForm,
    ScreeningFilterForm,
    ScreeningReferenceForm,
    ScreeningSearchForm,
)
from screening.review.selectors import (
    REVIEWER_PERMISSION,
    AuditFilters,
    InvalidCursor,
    Page,
    ScreeningFilters,
    as_filters,
    audit_cursor_at,
    audit_page,
    filtered_audit_events,
    filtered_screenings,
    last_page_cursor,
    review_screening_for,
    rule_titles,
    screening_page,
    trail_of,
)

reviewers_only = permission_required(REVIEWER_PERMISSION)
T = TypeVar("T", bound=Model)


@require_http_methods(["GET", "POST"])
@reviewers_only
def screening_list(request: SignedInRequest) -> HttpResponse:
    """Past screenings, filtered and a page at a time (keyset), newest or oldest first.

    A search for a patient (MRN or names) is POSTed: the term is kept in the session under a
    short random key and the list redirects to itself with `?search=<key>`, so the filters stay
    a bookmarkable URL and the MRN or name is never in a URL, a Location header or a log."""
    if request.method == "POST":
        return _patient_search(request)
    shown: HttpResponse = _screening_list(request)
    return shown


@reads_from_replica
def _screening_list(request: SignedInRequest) -> HttpResponse:
    form, filters = _screening_filters(request)
    page: Page[Screening] | None = None
    count = None
    if filters is not None:
        screenings = filtered_screenings(request.user, filters).defer("facts", "rule_texts")
        descending = filters.descending
        page = _page(
            request, lambda cursor: screening_page(screenings, cursor=cursor, descending=descending)
        )
        count = row_count(screenings)
    query = _list_query(request)
    return render(
        request,
        "screening/review/screening_list.html",
        {
            "form": form,
            "search_form": ScreeningSearchForm(
                initial={"q": filters.patient if filters is not None else ""}
            ),
            "searching": bool(filters is not None and filters.patient),
            "search_action": _url("screening:list", query),
            "clear_search_url": _url("screening:list", query, drop="search"),
            "rows": [_row(screening) for screening in page.rows] if page else [],
            "count": count,
            **_page_links(query, page),
            "export_query": query.urlencode(),
        },
    )


def _patient_search(request: SignedInRequest) -> HttpResponse:
    """Keep the patient searched for in the session and show the list filtered by it."""
    search = ScreeningSearchForm(request.POST)
    query = _list_query(request)
    query.pop("search", None)
    if not search.is_valid():
        messages.error(request, "A search is at most 100 characters: search again.")
    elif term := search.cleaned_data["q"].strip():
        query["search"] = _keep_search(request, term)
    return redirect(_url("screening:list", query))


@require_GET
@reviewers_only
@reads_from_replica
def screening_export_csv(request: SignedInRequest) -> HttpResponseBase:
    """The filtered list as CSV, streamed; the export and its filters are audited (a patient
    search only as being there: the trail holds no patient identifiers)."""
    form, filters = _screening_filters(request)
    if filters is None:
        return render(
            request,
            "screening/review/screening_list.html",
            {"form": form, "search_form": ScreeningSearchForm(), "rows": [], "export_query": ""},
            status=400,
        )
    audit_record(
        actor=request.user,
        action="export.csv",
        object_type="screening.screening",
        detail={"filters": filters.audited()},
    )
    response = StreamingHttpResponse(
        exports.csv_lines(filtered_screenings(request.user, filters)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="screenings.csv"'
    return response


@require_GET
@reviewers_only
def screening_review(request: SignedInRequest, screening_uuid: object) -> HttpResponse:
    """One screening as it was shown, with the facts entered, every review with its reason, the
    signature, amendments both ways and the audit trail of the screening and its intake."""
    screening = review_screening_for(request.user, screening_uuid)
    audit_view(request.user, screening, page="review")
    context = result_page_context(request.user, screening)
    context.update(
        {
            "facts_rows": _fact_rows(screening.facts),
            "reviews": screening.reviews.select_related("reviewed_by").order_by("reviewed_at"),
            "trail": audit_lines(trail_of(screening), rule_titles=rule_titles()),
            "trail_query": urlencode(
                {"object_type": "screening.screening", "object_id": str(screening.uuid)}
            ),
            "amends": screening.amends,
            "all_amended_by": Screening.objects.filter(amends=screening).order_by("run_at"),
        }
    )
    return render(request, "screening/review/screening_review.html", context)


@require_GET
@reviewers_only
def screening_reevaluate(request: SignedInRequest, screening_uuid: object) -> HttpResponse:
    """The stored outcome beside what the published rules say about the same facts today."""
    screening = review_screening_for(request.user, screening_uuid)
    audit_view(request.user, screening, page="reevaluate")
    comparison = reevaluation.screening_reevaluate(screening)
    return render(
        request,
        "screening/review/screening_reevaluate.html",
        {
            "screening": screening,
            "patient": screening.patient,
            "comparison": comparison,
            "before": disposition_label(comparison.disposition_before),
            "after": disposition_label(comparison.disposition_after),
        },
    )


@require_GET
@reviewers_only
def screening_export_json(request: SignedInRequest, screening_uuid: object) -> HttpResponse:
    screening = review_screening_for(request.user, screening_uuid)
    audit_record(actor=request.user, action="export.json", target=screening)
    body = json.dumps(exports.screening_document(screening), indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="screening-{screening.uuid}.json"'
    return response


@require_GET
@permission_required("core.view_auditevent")
def audit_log(request: SignedInRequest) -> HttpResponse:
    """The audit trail as sentences, searched by event kind, actor, object and date, newest
    first; each event's raw action code stays beside it for auditors."""
    form = AuditFilterForm(
        request.GET or None, kinds=EVENT_KINDS, families=EVENT_FAMILIES, object_types=OBJECT_TYPES
    )
    lines: list[EventLine] = []
    page: Page[Any] | None = None
    if not request.GET or form.is_valid():
        data = form.cleaned_data if request.GET else {}
        filters = AuditFilters(
            action=data.get("action") or "",
            actor=(data.get("actor") or "").strip(),
            object_type=data.get("object_type") or "",
            object_id=(data.get("object_id") or "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
        found = filtered_audit_events(request.user, filters).select_related("actor")
        page = _page(request, lambda cursor: audit_page(found, cursor=cursor))
        lines = audit_lines(page.rows, rule_titles=rule_titles())
    return render(
        request,
        "screening/review/audit_log.html",
        {"form": form, "lines": lines, **_page_links(_list_query(request), page)},
    )


@require_GET
@permission_required("core.view_auditevent")
def audit_verify_page(request: SignedInRequest) -> HttpResponse:
    """Verify the audit trail now (the chain, the checkpoints outside the database, the signed
    records) and say whether it is intact, or where it first breaks and what else is wrong."""
    verification = audit_verify()
    broken_url = ""
    if verification.first_broken_seq is not None:
        cursor = audit_cursor_at(verification.first_broken_seq)
        broken_url = reverse("screening:audit") + f"?cursor={cursor}"
    return render(
        request,
        "screening/review/audit_verify.html",
        {
            "verification": verification,
            "broken_url": broken_url,
            "more_findings": verification.findings[1:],
        },
    )


@require_GET
@reviewers_only
@reads_from_replica
def rule_analytics(request: SignedInRequest) -> HttpResponse:
    """Per rule over a period: fired, acknowledged, overridden, median time to review (superseded
    runs left out unless asked for), and the EHR's feedback on the CDS Hooks cards."""
    form = PeriodForm(request.GET or None)
    titles = rule_titles()
    stats: list[analytics.RuleStats] = []
    if not request.GET or form.is_valid():
        data = form.cleaned_data if request.GET else {}
        stats = analytics.rule_stats(
            request.user,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            include_superseded=bool(data.get("include_superseded")),
            titles=titles,
        )
    bars = analytics.chart_bars(stats)
    period = form.cleaned_data if request.GET and form.is_valid() else {}
    cds_stats = cds_card_stats(
        request.user, date_from=period.get("date_from"), date_to=period.get("date_to")
    )
    return render(
        request,
        "screening/review/rule_analytics.html",
        {
            "form": form,
            "stats": stats,
            "bars": bars,
            "chart_height": max(len(bars), 1) * analytics.ROW_HEIGHT,
            "label_width": analytics.LABEL_WIDTH,
            "bar_width": analytics.BAR_WIDTH,
            "chart_width": analytics.LABEL_WIDTH + analytics.BAR_WIDTH + 60,
            "high_override_percent": round(analytics.HIGH_OVERRIDE_RATE * 100),
            "severities": SEVERITIES,
            "cds_stats": [
                {
                    **row,
                    "title": titles.get(row["rule"], ""),
                    "unanswered": max(row["shown"] - row["accepted"] - row["overridden"], 0),
                }
                for row in cds_stats
            ],
            "include_superseded": bool(period.get("include_superseded")),
        },
    )


# --- helpers ------------------------------------------------------------------------------------


def _screening_filters(
    request: SignedInRequest,
) -> tuple[ScreeningFilterForm, ScreeningFilters | None]:
    """The bound filter form and its filters (None when the form has errors), with the patient
    search its `search` key names in the session."""
    params = request.GET.copy()
    params.pop("cursor", None)
    form = ScreeningFilterForm(params or None, dispositions=DISPOSITIONS, rules=rule_titles())
    if not params:
        return form, ScreeningFilters()
    if not form.is_valid():
        return form, None
    key = form.cleaned_data.get("search") or ""
    patient = _kept_searches(request).get(key, "") if key else ""
    if key and not patient:
        messages.warning(
            request,
            "That patient search is kept only while you stay signed in: search for the "
            "patient again.",
        )
    return form, as_filters(form.cleaned_data, patient=patient)


#: Where a reviewer's patient searches are kept: {opaque key: MRN or names}, newest last.
SEARCHES_SESSION_KEY = "review.patient_searches"
SEARCHES_KEPT = 20


def _kept_searches(request: SignedInRequest) -> dict[str, str]:
    kept = request.session.get(SEARCHES_SESSION_KEY)
    return dict(kept) if isinstance(kept, dict) else {}


def _keep_search(request: SignedInRequest, term: str) -> str:
    """The key `term` is kept under in the session (the same key for the same term)."""
    searches = _kept_searches(request)
    for key, kept in searches.items():
        if kept == term:
            return key
    key = secrets.token_urlsafe(12)[:SEARCH_KEY_LENGTH]
    searches[key] = term
    while len(searches) > SEARCHES_KEPT:
        del searches[next(iter(searches))]
    request.session[SEARCHES_SESSION_KEY] = searches
    return key


def _list_query(request: SignedInRequest) -> QueryDict:
    """The request's query without its cursor (the filters, and the search key if any)."""
    query = request.GET.copy()
    query.pop("cursor", None)
    return query


def _url(name: str, query: QueryDict, *, drop: str = "") -> str:
    query = query.copy()
    if drop:
        query.pop(drop, None)
    encoded = query.urlencode()
    return reverse(name) + (f"?{encoded}" if encoded else "")


def _page_links(query: QueryDict, page: Page[Any] | None) -> dict[str, str]:
    """The first, previous, next and last pages' query strings ("" where there is none)."""
    if page is None:
        return {"first_query": "", "previous_query": "", "next_query": "", "last_query": ""}
    return {
        "first_query": query.urlencode() if page.previous_cursor else "",
        "previous_query": _with(query, cursor=page.previous_cursor) if page.previous_cursor else "",
        "next_query": _with(query, cursor=page.next_cursor) if page.next_cursor else "",
        "last_query": _with(query, cursor=last_page_cursor()) if page.next_cursor else "",
    }


def _page(request: SignedInRequest, paginate: Callable[[str], Page[T]]) -> Page[T]:
    """The page the request's cursor names; the first page, with a warning, for a cursor that
    is not valid (edited by hand, or truncated)."""
    try:
        return paginate(request.GET.get("cursor", ""))
    except InvalidCursor:
        messages.warning(request, "That page link is not valid any more: back to page one.")
        return paginate("")


def _with(query: Any, **values: str) -> str:
    query = query.copy()
    for name, value in values.items():
        query[name] = value
    return str(query.urlencode())


def _row(screening: Screening) -> dict[str, Any]:
    return {**screening_row(screening), "flags": [flag.rule for flag in screening.outcome.flags]}


def _fact_rows(facts: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The facts snapshot as (question, stored name, value) rows, nested answers spelled out,
    then every other input fact of the data dictionary as not recorded (a snapshot leaves those
    out): an intake saved before a question existed shows it unanswered. The question is how
    the intake asked it; the stored name is what the API, the exports and the rules use."""
    rows: list[tuple[str, str, str]] = []
    unrecorded = [
        (fact_label(name), name, _show(None))
        for name in IntakeFacts.model_fields
        if name not in facts and name not in _NOT_SHOWN_WHEN_ABSENT
    ]
    for name, value in facts.items():
        if isinstance(value, dict):
            rows.extend(
                (fact_label(f"{name}.{key}"), f"{name}.{key}", _show(item))
                for key, item in value.items()
            )
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for position, item in enumerate(value, start=1):
                described = ", ".join(f"{key}: {_show(part)}" for key, part in item.items())
                rows.append((f"{fact_label(name)} {position}", f"{name} {position}", described))
        else:
            rows.append((fact_label(name), name, _show(value)))
    return rows + unrecorded


_NOT_SHOWN_WHEN_ABSENT = ("age_years", "date_of_birth", "screening_date")


def _show(value: Any) -> str:
    if value is None:
        return "not recorded"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "none"
    return str(value)


@require_http_methods(["GET", "POST"])
@permission_required(RuleSet.ADMIN_PERMISSION)
def screening_as_test_case(request: SignedInRequest, screening_uuid: object) -> HttpResponse:
    """A rule admin turns a past screening into a test case of its rule set: the facts without
    the patient's dates, the published rules' outcome offered as the expected one."""
    screening = as_test_case.screening_for_case(request.user, screening_uuid)
    draft = as_test_case.case_draft(screening)
    initial = {"name": draft.name, "facts": draft.facts, "expected": draft.expected}
    form = RuleCaseForm(
        request.POST or None,
        initial=initial,
        rule_set=draft.version.rule_set,
        submit="Add test case",
    )
    if request.method == "POST" and form.is_valid():
        try:
            case = rule_services.rule_case_create(
                rule_set=draft.version.rule_set, user=request.user, **form.cleaned_data
            )
        except ValidationError as exc:  # a name already taken, say: beside its field
            problems = exc.error_dict if hasattr(exc, "error_dict") else {None: exc.error_list}
            for name, said in problems.items():
                form.add_error(name if name in form.fields else None, said)
        else:
            messages.success(request, f"Test case {case.name} added.")
            return redirect("rules:case_list", rule_set_uuid=draft.version.rule_set.uuid)
    return render(
        request,
        "screening/review/as_test_case.html",
        {
            "draft": draft,
            "form": form,
            "disposition": disposition_label(draft.result.disposition) if draft.result else None,
        },
    )


@require_GET
@permission_required(RuleSet.ADMIN_PERMISSION)
def screening_as_test_case_find(request: SignedInRequest) -> HttpResponse:
    """The rule test cases page's "from a past screening" box: the reference a reviewer gave
    leads to that screening's test-case page; anything else is said beside the box."""
    form = ScreeningReferenceForm(request.GET if "screening" in request.GET else None)
    if form.is_valid():
        screening = as_test_case.screening_for_case(request.user, form.cleaned_data["screening"])
        return redirect("screening:as_test_case", screening_uuid=screening.uuid)
    return render(
        request,
        "screening/review/as_test_case_find.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )

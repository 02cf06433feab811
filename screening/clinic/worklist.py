"""The clinician's worklist: results awaiting their sign-off, the drafts they are working on
and every screening they ran (filtered by status and the days it ran), a keyset page at a time.

Its filters travel in the query string, so they carry nothing about a patient: a list name,
a status, dates and the page cursor (a run time and a row ID).
"""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from screening.core.http import SignedInRequest
from screening.core.pagination import InvalidCursor, Page
from screening.core.permissions import permission_required
from screening.labels import screening_row
from screening.models import Screening
from screening.selectors import (
    awaiting_sign_off_of,
    drafts_page,
    drafts_to_finish_of,
    screenings_page,
    screenings_run_by,
)

#: The worklist's lists, as the query string names them and the tabs say them.
LISTS = {
    "awaiting": "Awaiting my sign-off",
    "drafts": "My drafts",
    "all": "All my screenings",
}
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class WorklistFilterForm(forms.Form):
    """Which list, and for "all my screenings" the status and the days run (GET)."""

    list = forms.ChoiceField(choices=list(LISTS.items()), required=False, widget=forms.HiddenInput)
    status = forms.ChoiceField(
        choices=[("", "Any status"), *Screening.Status.choices], required=False
    )
    ran_from = forms.DateField(label="Run from", required=False, widget=DATE)
    ran_to = forms.DateField(label="Run to", required=False, widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper(self)
        self.helper.form_method = "get"
        self.helper.form_id = "worklist-filters"
        self.helper.layout = Layout(
            "list",
            Row(
                Column("status", css_class="col-12 col-sm-4"),
                Column("ran_from", css_class="col-6 col-sm-3"),
                Column("ran_to", css_class="col-6 col-sm-3"),
                Column(Submit("filter", "Filter", css_class="mt-sm-4"), css_class="col-sm-2"),
            ),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("ran_from"), data.get("ran_to")
        if start and end and start > end:
            self.add_error("ran_to", "The end date must not be before the start date.")
        return data


@require_safe
@permission_required("screening.add_screening")
def worklist(request: SignedInRequest) -> HttpResponse:
    """One of the clinician's lists, a page at a time."""
    params = request.GET.copy()
    cursor = params.pop("cursor", [""])[0]
    form = WorklistFilterForm(params)
    valid = form.is_valid()
    data = form.cleaned_data if valid else {}
    shown = data.get("list") or "awaiting"
    rows: list[Any] = []
    next_cursor = ""
    if valid:
        page = _page(request, shown, data, cursor)
        rows = (
            list(page.rows)
            if shown == "drafts"
            else [screening_row(screening) for screening in page.rows]
        )
        next_cursor = page.next_cursor
    first = params.copy()
    first.pop("filter", None)
    following = first.copy()
    following["cursor"] = next_cursor
    return render(
        request,
        "screening/worklist.html",
        {
            "form": form,
            "lists": LISTS,
            "shown": shown,
            "title": LISTS[shown],
            "rows": rows,
            "next_query": following.urlencode() if next_cursor else "",
            "first_query": first.urlencode(),
            "is_first_page": not cursor,
        },
    )


def _page(request: SignedInRequest, shown: str, data: dict[str, Any], cursor: str) -> Page[Any]:
    """The page `cursor` names; the first page, with a warning, for a cursor that is not valid
    (edited by hand, or truncated)."""
    user = request.user
    try:
        return _list_page(user, shown, data, cursor)
    except InvalidCursor:
        messages.warning(request, "That page link is not valid any more: back to page one.")
        return _list_page(user, shown, data, "")


def _list_page(user: Any, shown: str, data: dict[str, Any], cursor: str) -> Page[Any]:
    if shown == "drafts":
        return drafts_page(drafts_to_finish_of(user), cursor)
    if shown == "all":
        rows = screenings_run_by(
            user,
            status=data.get("status") or "",
            ran_from=data.get("ran_from"),
            ran_to=data.get("ran_to"),
        )
        return screenings_page(rows, cursor)
    return screenings_page(awaiting_sign_off_of(user), cursor)

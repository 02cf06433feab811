"""Nothing typed is lost to an expired session.

A page whose view is marked `keeps_post_across_sign_in` (the intake form) may be submitted after
the 15-minute idle session has ended. `LoginRequiredMiddleware` then sends the browser to the
sign-in page, and the POST would be gone. This middleware, placed just before it, first keeps the
submitted fields in the (new, anonymous) session, server-side: never in a URL, a cookie or a log.
Signing in keeps the session's data (Django's `login()` cycles the key), so when the browser is
sent back to the page, its view takes the fields with `take_held_post` and shows them again,
unsaved, for the clinician to check and save. A held submission is used once, and ignored after
`HELD_POST_MAX_AGE` seconds.

Only a POST that passed the CSRF check is held (CsrfViewMiddleware runs first), and only for the
path it was sent to; the view still checks the signed-in user's permission before showing it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone

SESSION_KEY = "held_posts"
#: How long a held submission waits for its author to sign in again (seconds).
HELD_POST_MAX_AGE = 30 * 60
#: Fields never held: the CSRF token is per session, and the sign-in rotates it.
NOT_HELD = frozenset({"csrfmiddlewaretoken"})
#: Why a submission was held: sent after the session ended, or it met a database fault
#: (`screening.core.outage`) and nothing was stored.
SIGNED_OUT = "signed_out"
INTERRUPTED = "interrupted"


def keeps_post_across_sign_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark `view` so that a POST reaching it after the session expired is held (outermost)."""
    view.keeps_post_across_sign_in = True  # type: ignore[attr-defined]
    return view


class HoldPostAcrossSignInMiddleware:
    """Keep a marked view's POST from a signed-out browser in its session (see module doc).
    Belongs after the CSRF and authentication middleware, before `LoginRequiredMiddleware`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> None:
        if (
            request.method == "POST"
            and not request.user.is_authenticated
            and getattr(view_func, "keeps_post_across_sign_in", False)
        ):
            hold_post(request, reason=SIGNED_OUT)


def hold_post(request: HttpRequest, *, reason: str) -> None:
    """Keep this POST's fields in the session for the next GET of the same path."""
    held = dict(request.session.get(SESSION_KEY) or {})
    held[request.path] = {
        "data": {name: values for name, values in request.POST.lists() if name not in NOT_HELD},
        "at": timezone.now().isoformat(),
        "reason": reason,
    }
    request.session[SESSION_KEY] = held


def has_held_post(request: HttpRequest) -> bool:
    return bool(getattr(request, "session", None) and request.session.get(SESSION_KEY))


def take_held_post(request: HttpRequest) -> tuple[QueryDict, datetime.datetime, str] | None:
    """The fields held for this page, when they were sent and why (`SIGNED_OUT` or
    `INTERRUPTED`), removed from the session; None
    when nothing is held or it is older than `HELD_POST_MAX_AGE`."""
    held = dict(request.session.get(SESSION_KEY) or {})
    entry = held.pop(request.path, None)
    if entry is None:
        return None
    if held:
        request.session[SESSION_KEY] = held
    else:
        del request.session[SESSION_KEY]
    sent = datetime.datetime.fromisoformat(entry["at"])
    if (timezone.now() - sent).total_seconds() > HELD_POST_MAX_AGE:
        return None
    data = QueryDict(mutable=True)
    for name, values in entry["data"].items():
        data.setlist(name, values)
    return data, sent, entry.get("reason", SIGNED_OUT)

"""Database faults a clinician survives: a 503 to try again, never a 500 or a lost form.

A primary failover, a pooler restart or a network blip closes the web workers' database
connections. Persistent connections are health-checked before a request reuses them
(`conn_health_checks` in settings), so a connection that died between requests is replaced
unnoticed. One that dies *during* a request raises `OperationalError` (or `InterfaceError` on
the next use); the transaction it was in is rolled back by the server, so nothing is
half-stored, and this module turns what reaches the browser into something to act on:

- `DatabaseUnavailableMiddleware` answers such an error with 503 and `Retry-After` (an HTML page
  with a "try again" link, or `{"code": "unavailable", "detail": …}` under /api/), logs one
  warning line naming the exception type and the view (never its message: it may quote an MRN),
  and closes the broken connection so the rest of the request (the session save) gets a new one.
  A POST to a view that keeps posts (`screening.core.held`, the intake form) is held in the
  session and the browser is sent back to the page, which shows what was typed, unsaved.
- `server_error` (the project's `handler500`) does the same for an error raised outside a view
  (a middleware reading the session or the user); the middleware then runs a GET once more.
- `screening.core.sessions.SessionStore` saves the session again on a fresh connection, and
  never turns a failed save into a 400 (`SessionInterrupted`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template import loader
from django.views import defaults

from screening.core import held

logger = logging.getLogger("screening.outage")

#: Database errors that mean "the connection or the server went away", not a bug in the query.
CONNECTION_ERRORS = (OperationalError, InterfaceError)
#: Seconds a client should wait before trying again.
RETRY_AFTER = 3
DETAIL = "The database is briefly unavailable. Nothing was stored by this request; try again."


def is_connection_error(exc: BaseException | None) -> bool:
    return isinstance(exc, CONNECTION_ERRORS)


def discard_broken_connections() -> None:
    """Close connections left unusable by the error, so the next query opens a new one (never
    inside a transaction: the block that failed must end first, and does, as it unwinds)."""
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and not connection.in_atomic_block:
            try:
                usable = connection.is_usable()
            except Exception:  # a broken connection may fail even to say so
                usable = False
            if not usable:
                connection.close()


def unavailable_json(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """The API's answer: `{"code": "unavailable", "detail": …}`, 503, Retry-After."""
    _log(request, exc)
    discard_broken_connections()
    # The API's one error shape (issue 16a): code, detail, and no field to blame.
    response = JsonResponse({"code": "unavailable", "detail": DETAIL, "errors": []}, status=503)
    return _finish(response)


def unavailable_page(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """503 with a "try again" page (or JSON under /api/); a kept POST goes back to its form."""
    if request.path.startswith("/api/"):
        return unavailable_json(request, exc)
    _log(request, exc)
    discard_broken_connections()
    if request.method == "POST" and getattr(request, "_keeps_post", False):
        try:
            held.hold_post(request, reason=held.INTERRUPTED)
        except Exception:  # the session is in the same database: the page below says try again
            logger.warning("database unavailable: the form could not be held")
        else:
            return _finish(HttpResponseRedirect(request.path))
    again = request.path if request.method in ("GET", "HEAD") else request.META.get("HTTP_REFERER")
    body = loader.render_to_string("503.html", {"again": _same_site(again) or "/"})
    return _finish(HttpResponse(body, status=503))


def _same_site(url: str | None) -> str | None:
    from django.utils.http import url_has_allowed_host_and_scheme

    if url and url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return url
    return None


def _finish(response: HttpResponse) -> HttpResponse:
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    # Logged here as a warning; Django would log any 5xx again as an error, with a traceback.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def _view_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None else "-"


def _log(request: HttpRequest, exc: BaseException) -> None:
    logger.warning(
        "database unavailable: %s during %s %s; asked to try again",
        type(exc).__name__,
        request.method,
        _view_name(request),
    )


#: Statements that store nothing (transaction control included).
NOT_WRITES = frozenset({"SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK", "SET", "SHOW", "BEGIN"})


class _Writes:
    """What the current request has stored so far: set by an execute wrapper on the default
    connection. `committed` once a write outside a transaction ran, or a transaction holding
    a write committed."""

    def __init__(self) -> None:
        self.committed = False

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        result = execute(sql, params, many, context)
        if sql.lstrip().split(None, 1)[0].upper() not in NOT_WRITES:
            connection = context["connection"]
            if connection.in_atomic_block:
                connection.on_commit(self._commit)
            else:
                self.committed = True
        return result

    def _commit(self) -> None:
        self.committed = True


def _during_commit(exc: BaseException) -> bool:
    """Whether the connection was lost while a COMMIT was on its way: it may have been stored."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name in ("commit", "_commit") and "django/db" in (
            tb.tb_frame.f_code.co_filename
        ):
            return True
        tb = tb.tb_next
    return False


class DatabaseUnavailableMiddleware:
    """First in MIDDLEWARE: a view that lost its database connection is run once more on a
    new one when nothing of the request can have been stored (nothing written yet, or only in
    the transaction that was lost; a GET always); otherwise, or if it fails again, the answer is
    `unavailable_page`. So is a connection lost while a later middleware loads the session's
    user (see module doc and `server_error`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        writes = _Writes()
        request._database_writes = writes  # type: ignore[attr-defined]
        with connections["default"].execute_wrapper(writes):
            response = self.get_response(request)
            if getattr(request, "_database_lost_outside_view", False) and _may_run_again(request):
                # Lost while a middleware read the session or the user (or outside the view in
                # any other way): a GET goes through every middleware once more, on a new
                # connection, as a GET whose view lost its connection is run again.
                request._database_retried = True  # type: ignore[attr-defined]
                request._database_lost_outside_view = False  # type: ignore[attr-defined]
                logger.warning(
                    "database connection lost outside the view during %s; running it again",
                    request.method,
                )
                response = self.get_response(request)
            return response

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        # What counts is whether the *view* stored something: the middlewares' own bookkeeping
        # before it (the session, allauth's per-request session row) is not repeated by
        # running the view again.
        writes = getattr(request, "_database_writes", None)
        if writes is not None:
            writes.committed = False
        request._keeps_post = getattr(view_func, "keeps_post_across_sign_in", False)  # type: ignore[attr-defined]
        request._database_view = (view_func, view_args, view_kwargs)  # type: ignore[attr-defined]
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_connection_error(exception):
            return None
        view = getattr(request, "_database_view", None)
        writes = getattr(request, "_database_writes", None)
        safe = request.method in ("GET", "HEAD") or (
            writes is not None and not writes.committed and not _during_commit(exception)
        )
        if view is not None and safe and not getattr(request, "_database_retried", False):
            request._database_retried = True  # type: ignore[attr-defined]
            discard_broken_connections()
            logger.warning(
                "database connection lost during %s %s; running it again on a new one",
                request.method,
                _view_name(request),
            )
            view_func, view_args, view_kwargs = view
            try:
                response: HttpResponse = view_func(request, *view_args, **view_kwargs)
            except CONNECTION_ERRORS as again:
                return unavailable_page(request, again)
            return response
        return unavailable_page(request, exception)


def _may_run_again(request: HttpRequest) -> bool:
    """A GET or HEAD not run again yet: it stores nothing a second run could repeat."""
    return request.method in ("GET", "HEAD") and not getattr(request, "_database_retried", False)


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """handler500: a connection error raised outside a view is a 503 too (which
    `DatabaseUnavailableMiddleware` replaces by a second run of a GET); anything else is
    Django's own 500 page."""
    exc = sys.exc_info()[1]
    if is_connection_error(exc):
        assert exc is not None
        # Only errors outside the view get here (process_exception answers the view's own).
        request._database_lost_outside_view = True  # type: ignore[attr-defined]
        return unavailable_page(request, exc)
    return defaults.server_error(request, template_name)

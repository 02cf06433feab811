"""The platform's own answers: keeping a signed-in session alive, the site's icon, the 403
page and the page for a form refused by the CSRF check."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import (
    HttpRequest,
    HttpResponseForbidden,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.template import loader
from django.templatetags.static import static
from django.views.decorators.http import require_POST, require_safe

from screening.core.permissions import RoleRequired


@require_POST
@login_not_required
def session_keepalive(request: HttpRequest) -> JsonResponse:
    """ "Stay signed in": the session's idle timer starts again (every request saves the session,
    `SESSION_SAVE_EVERY_REQUEST`). A session that already ended answers 401, for the page to
    say so, rather than a redirect to the sign-in page."""
    if not request.user.is_authenticated:
        return JsonResponse(
            {"code": "unauthorized", "detail": "Your session has ended: sign in again."},
            status=401,
        )
    return JsonResponse({"expires_in": settings.SESSION_COOKIE_AGE})


@require_safe
@login_not_required
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """`/favicon.ico`, which browsers and tools ask for on their own: the static icon (pages
    name it in base.html)."""
    return HttpResponsePermanentRedirect(static("favicon.ico"))


def permission_denied(request: HttpRequest, exception: PermissionDenied) -> HttpResponseForbidden:
    """The 403 page (`handler403`), in the site's layout. It says which roles open the page when
    the refusal is a `RoleRequired`; any other refusal's text stays out of the page, since it
    could quote a record (Django's own 403 view would show it)."""
    reason = str(exception) if isinstance(exception, RoleRequired) else ""
    return HttpResponseForbidden(loader.render_to_string("403.html", {"reason": reason}, request))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponseForbidden:
    """`CSRF_FAILURE_VIEW`: a form refused by the CSRF check (usually a page left open across
    a sign-out, a new sign-in or an ended session) says so in the site's layout and what to do,
    instead of Django's bare technical page. `reason` is for developers and is not shown."""
    return HttpResponseForbidden(loader.render_to_string("403_csrf.html", {}, request))

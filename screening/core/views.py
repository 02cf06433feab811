"""The platform's own answers: keeping a signed-in session alive, and the site's icon."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.http import require_POST, require_safe


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

"""Your sessions: every browser you are signed in with (browser, address, last activity), with
"sign out" for each and "sign out everywhere"."""

from __future__ import annotations

import re

from allauth.usersessions.models import UserSession
from django.contrib import messages
from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from screening.accounts import sessions as session_ends

BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
SYSTEMS = (
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def describe(user_agent: str) -> str:
    """ "Chrome on Linux": enough to recognise a device, from its User-Agent."""
    browser = next((name for token, name in BROWSERS if token in user_agent), "")
    if "HeadlessChrome" in user_agent:
        browser = "Chrome"
    system = next((name for token, name in SYSTEMS if token in user_agent), "")
    text = " on ".join(part for part in (browser, system) if part)
    return text or re.sub(r"\s+", " ", user_agent)[:60] or "Unknown browser"


def session_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if "everywhere" in request.POST:
            session_ends.end_all(request.user)
            logout(request)
            messages.success(request, "You are signed out everywhere.")
            return redirect("login")
        session = UserSession.objects.filter(
            user=request.user, pk=request.POST.get("session") or 0
        ).first()
        if session is None:
            raise Http404("No such session of yours.")
        if session.is_current():
            logout(request)
            return redirect("login")
        session.end()
        messages.success(request, "That session is signed out.")
        return redirect("usersessions_list")
    rows = [
        {"session": session, "device": describe(session.user_agent)}
        for session in UserSession.objects.purge_and_list(request.user)
    ]
    return render(request, "accounts/session_list.html", {"rows": rows})

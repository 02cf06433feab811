"""Sessions: an absolute lifetime beside the idle timeout, "your sessions" with sign-out per
session and everywhere, a password change ends the other sessions. Passwords: reset by e-mail
(the same answer whether the address exists, single-use link, rate-limited), breached passwords
refused from a local list, 64-character passwords welcome."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from allauth.usersessions.models import UserSession
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from screening.accounts.sessions import SIGNED_IN_AT

pytestmark = pytest.mark.django_db

LONG_PASSWORD = "correct horse battery staple and a quiet walk by the river Thames!"[:64]


def signed_in(
    username: str, password: str, agent: str = "Mozilla/5.0 (X11; Linux) Chrome/130"
) -> Client:
    browser = Client(HTTP_USER_AGENT=agent)
    response = browser.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302, response.content.decode()[:500]
    assert response["Location"] == reverse("home")
    return browser


def is_signed_in(browser: Client) -> bool:
    return browser.get(reverse("home")).status_code == 200


def test_a_session_ends_at_its_absolute_lifetime_however_active(clinician, password, settings):
    browser = signed_in("casey", password)
    assert timedelta(hours=12) == settings.SESSION_ABSOLUTE_LIFETIME
    session = browser.session
    session[SIGNED_IN_AT] = (timezone.now() - timedelta(hours=12, minutes=1)).isoformat()
    session.save()

    assert not is_signed_in(browser)


def test_a_session_within_its_lifetime_goes_on(clinician, password):
    browser = signed_in("casey", password)
    session = browser.session
    session[SIGNED_IN_AT] = (timezone.now() - timedelta(hours=11)).isoformat()
    session.save()

    assert is_signed_in(browser)


def test_your_sessions_lists_each_browser_and_signs_one_out(clinician, password):
    desk = signed_in("casey", password, "Mozilla/5.0 (Windows NT 10.0) Firefox/131.0")
    laptop = signed_in("casey", password, "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0")

    page = desk.get(reverse("usersessions_list")).content.decode()
    assert "Firefox on Windows" in page
    assert "Chrome on Linux" in page
    assert page.count('data-testid="session-row"') == 2

    other = UserSession.objects.get(user_agent__contains="Chrome")
    desk.post(reverse("usersessions_list"), {"session": other.pk})

    assert not is_signed_in(laptop)
    assert is_signed_in(desk)


def test_sign_out_everywhere(clinician, password):
    desk = signed_in("casey", password)
    laptop = signed_in("casey", password)

    desk.post(reverse("usersessions_list"), {"everywhere": "1"})

    assert not is_signed_in(desk)
    assert not is_signed_in(laptop)


def test_a_session_of_someone_else_cannot_be_ended(clinician, reviewer, password):
    desk = signed_in("casey", password)
    theirs = signed_in("riley", password)
    session = UserSession.objects.get(user=reviewer)

    assert desk.post(reverse("usersessions_list"), {"session": session.pk}).status_code == 404
    assert is_signed_in(theirs)


def test_a_password_change_ends_the_other_sessions(clinician, password):
    desk = signed_in("casey", password)
    laptop = signed_in("casey", password)

    response = desk.post(
        reverse("account_change_password"),
        {"oldpassword": password, "password1": LONG_PASSWORD, "password2": LONG_PASSWORD},
    )

    assert response.status_code == 302
    assert is_signed_in(desk)
    assert not is_signed_in(laptop)
    assert is_signed_in(signed_in("casey", LONG_PASSWORD))  # 64 characters are fine


def _reset_link() -> str:
    [message] = mail.outbox
    return re.search(r"https?://testserver(/accounts/password/reset/key/\S+/)", message.body).group(
        1
    )


def test_password_reset_answers_the_same_whether_the_address_exists(clinician, password):
    clinician.email = "casey@clinic.example"
    clinician.save()

    known = Client().post(reverse("account_reset_password"), {"email": "casey@clinic.example"})
    unknown = Client().post(reverse("account_reset_password"), {"email": "nobody@clinic.example"})

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    known_page = Client().get(known["Location"]).content.decode()
    assert "casey" not in known_page


def test_a_reset_link_sets_a_password_once(clinician, password):
    clinician.email = "casey@clinic.example"
    clinician.save()
    visitor = Client()
    visitor.post(reverse("account_reset_password"), {"email": "casey@clinic.example"})
    link = _reset_link()

    form = visitor.get(link, follow=True)
    action = form.redirect_chain[-1][0] if form.redirect_chain else link
    done = visitor.post(action, {"password1": LONG_PASSWORD, "password2": LONG_PASSWORD})
    assert done.status_code == 302

    assert is_signed_in(signed_in("casey", LONG_PASSWORD))
    again = Client().get(link, follow=True).content.decode()
    assert "invalid" in again.lower() or "expired" in again.lower()


def test_password_reset_requests_are_rate_limited(clinician):
    visitor = Client()
    answers = [
        visitor.post(
            reverse("account_reset_password"), {"email": "casey@clinic.example"}
        ).status_code
        for _ in range(8)
    ]
    assert 429 in answers


def test_a_breached_password_is_refused(clinician, password, settings, tmp_path):
    breached = "Summer-Holiday-2019-Brighton"
    listing = tmp_path / "breached.txt"
    listing.write_text(
        "0000000000000000000000000000000000000000:3\n"
        + hashlib.sha1(breached.encode(), usedforsecurity=False).hexdigest().upper()
        + ":12\n"
    )
    settings.BREACHED_PASSWORDS_FILE = str(listing)
    desk = signed_in("casey", password)

    response = desk.post(
        reverse("account_change_password"),
        {"oldpassword": password, "password1": breached, "password2": breached},
    )

    assert response.status_code == 200
    assert "exposed in data breaches" in response.content.decode()

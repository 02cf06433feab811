"""The 403, 404 and 500 pages: inside the site's layout (page language, navigation, a way home)
with a sentence saying why; the API's refusals stay JSON; the site's icon is served."""

import uuid

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


def page_text(response) -> str:
    """The page's HTML with runs of white space as one space."""
    return " ".join(response.content.decode().split())


def assert_in_layout(html: str) -> None:
    assert '<html lang="en-gb">' in html
    assert 'aria-label="Main navigation"' in html
    assert "/static/css/theme.css" in html
    assert 'href="/"' in html


def test_a_clinician_refused_rule_administration_is_told_it_is_for_rule_admins(client, clinician):
    client.force_login(clinician)

    response = client.get(reverse("rules:list"))

    assert response.status_code == 403
    html = page_text(response)
    assert_in_layout(html)
    assert "You cannot open this page" in html
    assert "This page is for rule admins; your role does not give access to it." in html
    assert "with the role clinician." in html
    assert ">Rule sets<" not in html  # the navigation still offers only the clinician's pages
    assert ">Patients<" in html


def test_a_reviewer_refused_patient_registration_is_told_it_is_for_clinicians(client, reviewer):
    client.force_login(reviewer)

    html = page_text(client.get(reverse("patients:register")))

    assert "This page is for clinicians; your role does not give access to it." in html


def test_a_page_open_to_several_roles_names_them_all(client, rule_admin):
    client.force_login(rule_admin)

    html = page_text(client.get(reverse("patients:list")))

    assert "This page is for clinicians and reviewers;" in html


def test_a_missing_page_says_not_found_or_not_yours_in_the_layout(client, clinician):
    client.force_login(clinician)
    missing = reverse("screening:detail", args=[uuid.uuid4()])

    response = client.get(missing)

    assert response.status_code == 404
    html = page_text(response)
    assert_in_layout(html)
    assert "Page not found" in html
    assert "not something your account can open" in html
    assert missing not in html


def test_a_missing_page_signed_out_is_styled_too(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    html = page_text(response)
    assert '<html lang="en-gb">' in html
    assert "Page not found" in html


def test_the_server_error_page_uses_the_layout_without_the_database():
    request = RequestFactory().get("/")

    with CaptureQueriesContext(connection) as queries:
        response = server_error(request)

    assert response.status_code == 500
    assert len(queries) == 0
    html = page_text(response)
    assert '<html lang="en-gb">' in html
    assert 'aria-label="Main navigation"' in html
    assert "Something went wrong" in html
    assert "Go to the home page" in html


def test_api_refusals_stay_json(client, clinician, rule_admin):
    client.force_login(clinician)
    missing = client.get(f"/api/v1/screenings/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing["Content-Type"].startswith("application/json")
    assert missing.json()["code"] == "not_found"

    client.force_login(rule_admin)
    refused = client.get("/api/v1/screenings")
    assert refused.status_code == 403
    assert refused["Content-Type"].startswith("application/json")
    assert refused.json()["code"] == "forbidden"


def test_favicon_ico_leads_to_the_static_icon_named_on_every_page(client, clinician):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/favicon.ico"
    assert finders.find("favicon.ico")
    assert finders.find("favicon.svg")
    client.force_login(clinician)
    html = page_text(client.get(reverse("home")))
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html


def test_a_form_refused_by_the_csrf_check_says_so_in_the_layout(clinician):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(clinician)

    response = browser.post(reverse("patients:register"), {"mrn": "CSRF-0001"})

    assert response.status_code == 403
    html = page_text(response)
    assert_in_layout(html)
    assert "This form was not sent" in html
    assert "Nothing from this request was saved." in html
    assert "CSRF-0001" not in html
    assert "CSRF verification failed" not in html  # Django's technical page


def test_a_signed_out_visitor_refused_by_the_csrf_check_is_offered_the_sign_in(db):
    response = Client(enforce_csrf_checks=True).post(reverse("login"), {"login": "x"})

    assert response.status_code == 403
    assert 'href="/login/"' in response.content.decode()

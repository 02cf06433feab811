"""Sign in, sign out, the home page per role, the local static files and the demo users."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db

ROLE_CARDS = {
    "clinician": 'id="role-clinician"',
    "reviewer": 'id="role-reviewer"',
    "rule_admin": 'id="role-rule-admin"',
}


# --- login and logout -------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login_with_next(client):
    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"


def test_login_page_renders_for_anonymous_visitor(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html
    assert 'name="password"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "Ketamine screening" in html


def test_signed_in_user_visiting_login_goes_home(client, clinician):
    client.force_login(clinician)

    response = client.get(reverse("login"))

    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_good_login_redirects_home_and_signs_in(client, clinician, password):
    response = client.post(reverse("login"), {"username": "casey", "password": password})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_good_login_follows_next(client, clinician, password):
    response = client.post(
        reverse("login"), {"username": "casey", "password": password, "next": "/"}
    )

    assert response["Location"] == "/"


def test_bad_login_shows_error_and_stays_anonymous(client, clinician):
    response = client.post(reverse("login"), {"username": "casey", "password": "wrong"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_logout_by_post_signs_out(client, clinician):
    client.force_login(clinician)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get(reverse("home")).status_code == 302


def test_logout_by_get_is_refused_and_keeps_session(client, clinician):
    client.force_login(clinician)

    response = client.get(reverse("logout"))

    assert response.status_code == 405
    assert client.get(reverse("home")).status_code == 200


def test_logout_by_post_without_session_lands_on_login(client):
    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("login")


def test_logout_form_posts_with_csrf_token(client, clinician):
    client.force_login(clinician)

    html = client.get(reverse("home")).content.decode()

    form = re.search(r'<form method="post" action="/logout/".*?</form>', html, re.S)
    assert form is not None
    assert 'name="csrfmiddlewaretoken"' in form.group(0)


# --- home page per role -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "role", "role_label"),
    [
        ("clinician", "clinician", "Clinician"),
        ("reviewer", "reviewer", "Reviewer"),
        ("rule_admin", "rule_admin", "Rule admin"),
    ],
)
def test_home_shows_only_the_card_for_the_users_role(client, request, person, role, role_label):
    user = request.getfixturevalue(person)
    client.force_login(user)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    html = response.content.decode()
    assert f"Signed in as <strong>{user.first_name}</strong>" in html
    assert f"— {role_label}" in html
    assert ROLE_CARDS[role] in html
    for other_role, card in ROLE_CARDS.items():
        if other_role != role:
            assert card not in html
    assert "account has no role yet" not in html


def test_home_shows_every_card_for_a_user_with_every_role(client, clinician, reviewer, rule_admin):
    clinician.groups.add(*reviewer.groups.all(), *rule_admin.groups.all())
    client.force_login(clinician)

    html = client.get(reverse("home")).content.decode()

    assert "— Clinician, Reviewer, Rule admin" in html
    for card in ROLE_CARDS.values():
        assert card in html


def test_home_uses_full_name_when_present(client, clinician):
    clinician.first_name, clinician.last_name = "Casey", "Okafor"
    clinician.save()
    client.force_login(clinician)

    html = client.get(reverse("home")).content.decode()

    assert "Signed in as <strong>Casey Okafor</strong>" in html


def test_user_without_role_sees_neutral_message_only(client, outsider):
    client.force_login(outsider)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Your account has no role yet" in html
    assert "contact an administrator" in html
    for card in ROLE_CARDS.values():
        assert card not in html


def test_navbar_shows_name_roles_and_sign_out(client, reviewer):
    client.force_login(reviewer)

    html = client.get(reverse("home")).content.decode()

    nav = html[html.index("<nav") : html.index("</nav>")]
    assert "Riley" in nav
    assert ">Reviewer</span>" in nav
    assert ">Clinician</span>" not in nav
    assert "Sign out" in nav


@pytest.mark.parametrize("person", ["clinician", "reviewer", "rule_admin", "outsider"])
def test_home_wording_is_neutral(client, request, person):
    client.force_login(request.getfixturevalue(person))

    html = client.get(reverse("home")).content.decode().lower()

    for word in ("cure", "coming soon", "todo", "lorem"):
        assert word not in html


# --- page shell and static files --------------------------------------------------------------


@pytest.mark.parametrize("signed_in", [False, True])
def test_pages_use_local_bootstrap_and_no_cdn(client, clinician, signed_in):
    if signed_in:
        client.force_login(clinician)
    url = reverse("home") if signed_in else reverse("login")

    html = client.get(url).content.decode()

    assert '<html lang="en-gb">' in html
    assert 'href="/static/vendor/bootstrap/bootstrap.min.css"' in html
    assert 'src="/static/vendor/bootstrap/bootstrap.bundle.min.js"' in html
    assert 'href="/static/css/app.css"' in html
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", html)


@pytest.mark.parametrize("signed_in", [False, True])
def test_pages_have_no_inline_script_or_event_handlers(client, clinician, signed_in):
    if signed_in:
        client.force_login(clinician)
    url = reverse("home") if signed_in else reverse("login")

    html = client.get(url).content.decode()

    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts
    for attributes, body in scripts:
        assert 'src="/static/' in attributes
        assert body.strip() == ""
    assert not re.search(r"\son[a-z]+\s*=", html)


def test_vendored_bootstrap_ships_without_source_map_comments(settings):
    vendor = settings.BASE_DIR / "static" / "vendor" / "bootstrap"

    for name in ("bootstrap.min.css", "bootstrap.bundle.min.js"):
        text = (vendor / name).read_text()
        assert "Bootstrap" in text[:200]
        assert "sourceMappingURL" not in text
    assert "MIT" in (vendor / "LICENSE").read_text()


def test_app_css_hides_navigation_when_printing(settings):
    css = (settings.BASE_DIR / "static" / "css" / "app.css").read_text()

    print_block = css[css.index("@media print") :]
    assert "nav" in print_block
    assert ".btn" in print_block
    assert "display: none" in print_block


# --- demo users -------------------------------------------------------------------------------


def _create_demo_users(*args: str) -> str:
    out = StringIO()
    call_command("create_demo_users", *args, stdout=out)
    return out.getvalue()


def _demo_users() -> dict[str, set[str]]:
    users = get_user_model().objects.filter(
        username__in=["clinician", "reviewer", "ruleadmin", "useradmin"]
    )
    return {user.username: {group.name for group in user.groups.all()} for user in users}


def test_demo_users_are_created_one_per_role(settings):
    settings.DEBUG = True

    output = _create_demo_users("--password", "demo-pass-4711")

    assert _demo_users() == {
        "clinician": {"clinician"},
        "reviewer": {"reviewer"},
        "ruleadmin": {"rule_admin"},
        "useradmin": {"user_admin"},
    }
    clinician = get_user_model().objects.get(username="clinician")
    assert clinician.get_full_name() == "Demo Clinician"
    assert clinician.check_password("demo-pass-4711")
    assert not clinician.is_staff
    assert not clinician.is_superuser
    lines = output.splitlines()
    assert lines[0].split() == ["Username", "Role", "Password"]
    assert "clinician  Clinician           demo-pass-4711" in output
    assert "reviewer   Reviewer            demo-pass-4711" in output
    assert "ruleadmin  Rule admin          demo-pass-4711" in output
    assert "useradmin  User administrator  demo-pass-4711" in output


def test_demo_users_command_is_idempotent_and_resets_passwords(settings):
    settings.DEBUG = True
    _create_demo_users("--password", "first-pass-4711")
    user_ids = set(get_user_model().objects.values_list("pk", flat=True))

    _create_demo_users("--password", "second-pass-4711")

    assert set(get_user_model().objects.values_list("pk", flat=True)) == user_ids
    assert len(user_ids) == 4
    assert _demo_users()["ruleadmin"] == {"rule_admin"}
    ruleadmin = get_user_model().objects.get(username="ruleadmin")
    assert ruleadmin.check_password("second-pass-4711")
    assert not ruleadmin.check_password("first-pass-4711")


def test_demo_users_take_password_from_environment(settings, monkeypatch):
    settings.DEBUG = True
    monkeypatch.setenv("DEMO_PASSWORD", "from-env-4711")

    output = _create_demo_users()

    assert get_user_model().objects.get(username="reviewer").check_password("from-env-4711")
    assert output.count("from-env-4711") == 4


def test_demo_users_get_fresh_random_passwords_without_one_given(settings, monkeypatch):
    settings.DEBUG = True
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)

    first = _create_demo_users()
    second = _create_demo_users()

    def passwords(output: str) -> dict[str, str]:
        rows = [line.split() for line in output.splitlines()[2:6]]
        return {row[0]: row[-1] for row in rows}

    first_passwords, second_passwords = passwords(first), passwords(second)
    assert set(first_passwords) == {"clinician", "reviewer", "ruleadmin", "useradmin"}
    assert len(set(first_passwords.values())) == 4
    assert first_passwords.keys() == second_passwords.keys()
    assert not set(first_passwords.values()) & set(second_passwords.values())
    clinician = get_user_model().objects.get(username="clinician")
    assert clinician.check_password(second_passwords["clinician"])


def test_demo_users_refused_when_debug_is_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="Refusing to create demo users with DEBUG off"):
        _create_demo_users("--password", "demo-pass-4711")

    assert _demo_users() == {}


def test_demo_users_created_with_debug_off_when_forced(settings):
    settings.DEBUG = False

    _create_demo_users("--password", "demo-pass-4711", "--force")

    assert set(_demo_users()) == {"clinician", "reviewer", "ruleadmin", "useradmin"}


def test_demo_users_reject_a_weak_password_and_create_nothing(settings):
    settings.DEBUG = True

    with pytest.raises(CommandError, match="Password rejected for clinician"):
        _create_demo_users("--password", "123")

    assert _demo_users() == {}

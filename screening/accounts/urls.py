"""Sign-in, sign-out, second factors, passwords and sessions: django-allauth's views, named
here one by one (not `allauth.urls` whole) so every page has a row in the authorization
matrix. `login` and `logout` keep their old addresses and names (`LOGIN_URL = "login"`)."""

from allauth.account import views as account_views
from allauth.socialaccount.providers.openid_connect import views as oidc_views
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path, re_path

from screening.accounts import session_views, views
from screening.accounts.views import local_passwords_required as passwords

urlpatterns = [
    path("login/", views.sign_in, name="login"),
    # LogoutView is not exempt from LoginRequiredMiddleware by itself. Exempting it lets a
    # tab whose session already expired still sign out cleanly (POST lands on the login
    # page) instead of bouncing through login?next=/logout/, which would end on a GET (405).
    path("logout/", login_not_required(auth_views.LogoutView.as_view()), name="logout"),
    # allauth's own names for the same pages, which its views and templates reverse.
    # (the same address: allauth sends people to `account_login`, and they land on /login/)
    path("login/", views.sign_in, name="account_login"),
    path("accounts/logout/", account_views.logout, name="account_logout"),
    path("accounts/inactive/", account_views.account_inactive, name="account_inactive"),
    path("accounts/reauthenticate/", account_views.reauthenticate, name="account_reauthenticate"),
    path(
        "accounts/password/change/",
        passwords(account_views.password_change),
        name="account_change_password",
    ),
    path(
        "accounts/password/reset/",
        passwords(account_views.password_reset),
        name="account_reset_password",
    ),
    path(
        "accounts/password/reset/done/",
        passwords(account_views.password_reset_done),
        name="account_reset_password_done",
    ),
    re_path(
        r"^accounts/password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$",
        passwords(account_views.password_reset_from_key),
        name="account_reset_password_from_key",
    ),
    path(
        "accounts/password/reset/key/done/",
        passwords(account_views.password_reset_from_key_done),
        name="account_reset_password_from_key_done",
    ),
    path("accounts/2fa/", include("allauth.mfa.urls")),
    # Single sign-on (OpenID Connect; 404 while OIDC_ISSUER is unset). The sign-in page POSTs
    # to the first; the identity provider sends the browser back to the second (the redirect
    # URI to register there: https://<host>/oidc/sso/login/callback/).
    path("oidc/<str:provider_id>/login/", oidc_views.login, name="openid_connect_login"),
    path(
        "oidc/<str:provider_id>/login/callback/",
        oidc_views.callback,
        name="openid_connect_callback",
    ),
    path("accounts/sessions/", session_views.session_list, name="usersessions_list"),
]

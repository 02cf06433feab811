"""The web shell: sign in, sign out, the home page and the site's icon.

These names stay un-namespaced because settings refer to them (`LOGIN_URL = "login"`,
`LOGIN_REDIRECT_URL = "home"`, `LOGOUT_REDIRECT_URL = "login"`).
"""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import path

from screening.clinic import views
from screening.core.views import favicon, session_keepalive

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    # LogoutView is not exempt from LoginRequiredMiddleware by itself. Exempting it lets a
    # tab whose session already expired still sign out cleanly (POST lands on the login
    # page) instead of bouncing through login?next=/logout/, which would end on a GET (405).
    path("logout/", login_not_required(auth_views.LogoutView.as_view()), name="logout"),
    path("session/keepalive/", session_keepalive, name="session_keepalive"),
    path("favicon.ico", favicon, name="favicon"),
    path("", views.home, name="home"),
]

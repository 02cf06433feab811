"""The web shell: the home page, the session's keepalive and the site's icon (signing in and
out, with their un-namespaced names `login` and `logout`, are `screening.accounts.urls`).
"""

from django.urls import path

from screening.clinic import views
from screening.core.views import favicon, session_keepalive

urlpatterns = [
    path("session/keepalive/", session_keepalive, name="session_keepalive"),
    path("favicon.ico", favicon, name="favicon"),
    path("", views.home, name="home"),
]

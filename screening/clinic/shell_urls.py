"""The web shell: the home page and the session's keepalive (signing in and out, with their
un-namespaced names `login` and `logout`, are `screening.accounts.urls`).
"""

from django.urls import path

from screening.clinic import views
from screening.core.views import session_keepalive

urlpatterns = [
    path("session/keepalive/", session_keepalive, name="session_keepalive"),
    path("", views.home, name="home"),
]

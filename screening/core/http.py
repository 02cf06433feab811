"""Request types shared by the pages."""

from django.contrib.auth.models import User
from django.http import HttpRequest


class SignedInRequest(HttpRequest):
    """A request on a page that requires login (LoginRequiredMiddleware): the user is real."""

    user: User

"""The API tokens page: a signed-in user creates named tokens (each shown once), sees their own
tokens and revokes them."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from screening.api.forms import ApiTokenForm
from screening.api.models import ApiToken
from screening.api.services import api_token_create, api_token_revoke
from screening.core.errors import ServiceError
from screening.core.http import SignedInRequest


@require_http_methods(["GET", "POST"])
def token_list(request: SignedInRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    new_token = new_row = None
    if request.method == "POST" and form.is_valid():
        new_row, new_token = api_token_create(
            user=request.user,
            name=form.cleaned_data["name"],
            lifetime_days=form.cleaned_data["lifetime_days"],
        )
        form = ApiTokenForm()
    response = render(
        request,
        "api/tokens.html",
        {
            "form": form,
            "new_token": new_token,
            "new_row": new_row,
            "tokens": ApiToken.objects.filter(user=request.user),
        },
    )
    if new_token:
        # The only response that ever carries the token: keep it out of every cache.
        response["Cache-Control"] = "no-store"
    return response


@require_POST
def token_revoke(request: SignedInRequest, token_uuid: object) -> HttpResponse:
    token = get_object_or_404(ApiToken, uuid=token_uuid, user=request.user)
    try:
        api_token_revoke(token=token, user=request.user)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
    return redirect("api_tokens:list")

"""Forms of the user administrator's pages."""

from __future__ import annotations

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator

from screening.core.permissions import Role


class RolesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: object) -> None:
        super().__init__(choices=Role.choices, required=False, label="Roles", **kwargs)  # type: ignore[arg-type]


class InviteForm(forms.Form):
    username = forms.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    name = forms.CharField(max_length=150, label="Full name")
    email = forms.EmailField(label="E-mail address")
    roles = RolesField()


class RolesForm(forms.Form):
    roles = RolesField()

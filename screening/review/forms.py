"""Reviewers' filter forms (all GET: they change nothing and their URLs can be bookmarked)."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.contrib.auth.models import Permission, User
from django.core.exceptions import ValidationError
from django.db.models import Q

from rules.models import RuleSetVersion
from screening.core.audit import ACTION_PATTERN

#: The length of the opaque key a patient search is kept under in the session.
SEARCH_KEY_LENGTH = 16
YES_NO_ANY = (("", "Any"), ("yes", "Yes"), ("no", "No"))
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class YesNoAnyField(forms.TypedChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            choices=YES_NO_ANY,
            coerce=lambda value: value == "yes",
            empty_value=None,
            required=False,
            **kwargs,
        )


class DateRangeForm(forms.Form):
    date_from = forms.DateField(label="From", required=False, widget=DATE)
    date_to = forms.DateField(label="To", required=False, widget=DATE)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date must not be before the start date.")
        return data


class VersionChoiceField(forms.ModelChoiceField[RuleSetVersion]):
    """A published rule-set version named in the URL by its rule set and number (`ketamine-2`),
    never by its primary key."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, RuleSetVersion):
            return f"{value.rule_set.name}-{value.number}"
        return super().prepare_value(value)

    def to_python(self, value: Any) -> RuleSetVersion | None:
        if value in self.empty_values:
            return None
        name, _, number = str(value).rpartition("-")
        if not name or not number.isdigit():
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        versions = self.queryset if self.queryset is not None else RuleSetVersion.objects.none()
        try:
            return versions.get(rule_set__name=name, number=int(number))
        except RuleSetVersion.DoesNotExist:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None


class ScreeningFilterForm(DateRangeForm):
    """The reviewer's list: narrow by run date, clinician, outcome, flags and rule set version."""

    # Named in the URL by username, never by primary key.
    clinician = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="Any clinician",
        to_field_name="username",
    )
    disposition = forms.ChoiceField(required=False)
    urgent = YesNoAnyField(label="Urgent")
    rule_id = forms.ChoiceField(label="Rule fired", required=False)
    overridden_stop = forms.BooleanField(label="Has an overridden stop flag", required=False)
    version = VersionChoiceField(
        queryset=RuleSetVersion.objects.none(),
        required=False,
        empty_label="Any version",
        label="Rule set version",
    )
    signed = YesNoAnyField(label="Signed")
    sort = forms.ChoiceField(
        choices=(("newest", "Newest first"), ("oldest", "Oldest first")), required=False
    )
    # The opaque key of a patient search kept in the session (`ScreeningSearchForm`), carried
    # along when the filters change; never the MRN or name itself.
    search = forms.CharField(required=False, max_length=SEARCH_KEY_LENGTH, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, dispositions: dict[str, Any], rules: dict[str, str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rule_id"].choices = [  # type: ignore[attr-defined]
            ("", "Any rule"),
            *((rule_id, f"{rule_id} — {title}") for rule_id, title in sorted(rules.items())),
        ]
        # Whoever may run a screening, by group or directly (not superusers by that alone).
        run = Permission.objects.get(content_type__app_label="screening", codename="add_screening")
        runs = Q(groups__permissions=run) | Q(user_permissions=run)
        clinicians = User.objects.filter(runs).distinct().order_by("username")
        self.fields["clinician"].queryset = clinicians  # type: ignore[attr-defined]
        self.fields["clinician"].label_from_instance = _person  # type: ignore[attr-defined]
        self.fields["disposition"].choices = [  # type: ignore[attr-defined]
            ("", "Any"),
            *((code, label.text) for code, label in dispositions.items()),
        ]
        versions = (
            RuleSetVersion.objects.select_related("rule_set")
            .exclude(number=None)
            .order_by("rule_set__name", "-number")
        )
        self.fields["version"].queryset = versions  # type: ignore[attr-defined]
        self.fields["version"].label_from_instance = _version  # type: ignore[attr-defined]
        self.helper = FormHelper(self)
        self.helper.form_method = "get"
        self.helper.form_id = "screening-filters"
        self.helper.layout = Layout(
            Row(
                Column("date_from", css_class="col-md-2"),
                Column("date_to", css_class="col-md-2"),
                Column("clinician", css_class="col-md-3"),
                Column("disposition", css_class="col-md-3"),
                Column("urgent", css_class="col-md-2"),
            ),
            Row(
                Column("rule_id", css_class="col-md-3"),
                Column("version", css_class="col-md-3"),
                Column("signed", css_class="col-md-2"),
                Column("sort", css_class="col-md-2"),
                Column("overridden_stop", css_class="col-md-2 pt-md-4"),
            ),
            "search",
            Submit("filter", "Filter", css_class="btn-primary"),
        )


class ScreeningSearchForm(forms.Form):
    """A patient's MRN or names: POSTed, so they never appear in a URL (or an access log)."""

    q = forms.CharField(
        label="Patient MRN or name",
        max_length=100,
        required=False,
        help_text="The whole MRN (any case), or part of the family or given names.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(
            {"autocomplete": "off", "spellcheck": "false", "aria-describedby": "search-help"}
        )


class EventKindField(forms.ChoiceField):
    """An event kind from the picker, or any other well-formed action code or family (a kind
    newer than the picker's list, typed into the URL by an auditor)."""

    def valid_value(self, value: Any) -> bool:
        code = str(value)
        return super().valid_value(value) or bool(
            ACTION_PATTERN.fullmatch(code) or ACTION_PATTERN.fullmatch(code.rstrip(".") + ".x")
        )


class AuditFilterForm(DateRangeForm):
    """The audit log: narrow by event kind (or family), actor, object and date."""

    action = EventKindField(label="Event", required=False)
    actor = forms.CharField(required=False, max_length=150, help_text="A username.")
    object_type = forms.ChoiceField(label="Object", required=False)
    object_id = forms.CharField(
        label="Object ID",
        required=False,
        max_length=64,
        help_text="A screening's, intake's or patient's ID (from its page's address).",
    )

    def __init__(
        self,
        *args: Any,
        kinds: dict[str, str],
        families: dict[str, str],
        object_types: dict[str, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [  # type: ignore[attr-defined]
            ("", "Any event"),
            ("Families of events", list(families.items())),
            ("Events", sorted(kinds.items(), key=lambda item: item[1])),
        ]
        asked = str(self.data.get("action") or "") if self.is_bound else ""
        if asked and asked not in kinds and asked not in families:
            field = self.fields["action"]
            field.choices = [*field.choices, (asked, asked)]  # type: ignore[attr-defined]
        self.fields["object_type"].choices = [  # type: ignore[attr-defined]
            ("", "Any object"),
            *object_types.items(),
        ]
        self.helper = FormHelper(self)
        self.helper.form_method = "get"
        self.helper.form_id = "audit-filters"
        self.helper.layout = Layout(
            Row(
                Column("action", css_class="col-md-3"),
                Column("actor", css_class="col-md-2"),
                Column("object_type", css_class="col-md-2"),
                Column("object_id", css_class="col-md-3"),
            ),
            Row(
                Column("date_from", css_class="col-md-2"),
                Column("date_to", css_class="col-md-2"),
            ),
            Submit("search", "Search", css_class="btn-primary"),
        )


class PeriodForm(DateRangeForm):
    """The period rule analytics cover (screenings run in it), and whether superseded runs
    count."""

    include_superseded = forms.BooleanField(
        label="Include superseded runs",
        required=False,
        help_text="Runs replaced by a later run of the same intake are left out unless ticked.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper(self)
        self.helper.form_method = "get"
        self.helper.form_id = "analytics-period"
        self.helper.layout = Layout(
            Row(
                Column("date_from", css_class="col-md-3"),
                Column("date_to", css_class="col-md-3"),
                Column("include_superseded", css_class="col-md-4 pt-md-4"),
            ),
            Submit("show", "Show", css_class="btn-primary"),
        )


def _person(user: User) -> str:
    return user.get_full_name() or user.get_username()


def _version(version: RuleSetVersion) -> str:
    return f"{version.rule_set.name}, version {version.number}"


class ScreeningReferenceForm(forms.Form):
    """A screening named by its reference (its UUID, which names no patient)."""

    screening = forms.UUIDField(
        label="Screening reference",
        error_messages={
            "invalid": "Enter a screening reference as the reviewer's record shows it "
            "(8-4-4-4-12 letters and digits).",
            "required": "Enter the screening's reference.",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.add_input(Submit("submit", "Open"))

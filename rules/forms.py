"""Forms of the rule administration pages, with their crispy layouts.

Forms check what they can show beside a field (through `rules.validators`, the adapter to the
engine); the services check the same again, and a `ValidationError` they raise is attached to
the form's fields by the view.
"""

from __future__ import annotations

import json
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Fieldset, Layout, Submit
from django import forms
from django.utils import timezone

from rules import labels
from rules.engine import CONDITIONS
from rules.models import Rule, RuleSet, RuleSetVersion, RuleTestCase
from rules.selectors import condition_titles
from rules.validators import (
    INPUT_FACTS,
    RULE_ID_MAX_LENGTH,
    TEXT_LIMITS,
    clean_expected,
    validate_case_facts,
    validate_rule_id,
    validate_rule_values,
)

LOGIC_HELP = (
    "Rule language, e.g. <code>bp_elevated and not bp_crisis</code> or "
    '<code>pregnancy_status = "pregnant"</code>. Checked against the facts when you save.'
)
NOTE_MAX_LENGTH = 2000


def _logic_field(label: str, help_text: str = LOGIC_HELP) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=TEXT_LIMITS["logic"],
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
    )


def _text_fields() -> dict[str, forms.Field]:
    return {
        "title": forms.CharField(label="Title", max_length=TEXT_LIMITS["title"]),
        "message": forms.CharField(
            label="Message",
            required=False,
            max_length=TEXT_LIMITS["message"],
            help_text="What the clinician reads when the rule applies. Plain text.",
            widget=forms.Textarea(attrs={"rows": 3}),
        ),
        "evidence": forms.CharField(
            label="Evidence note",
            required=False,
            max_length=TEXT_LIMITS["evidence"],
            widget=forms.Textarea(attrs={"rows": 2}),
        ),
        "source": forms.CharField(label="Source", required=False, max_length=TEXT_LIMITS["source"]),
    }


def _helper(submit: str, *fields: str) -> FormHelper:
    helper = FormHelper()
    helper.form_method = "post"
    helper.layout = Layout(
        *(
            Field(name, css_class="font-monospace") if name.endswith("logic") else Field(name)
            for name in fields
        )
    )
    helper.add_input(Submit("submit", submit))
    return helper


class RuleForm(forms.Form):
    """Edit a draft rule. Indication rules have a diagnosis test; consideration rules a
    severity. An indication rule's condition and a rule's ID and kind are fixed."""

    EDITABLE = ("title", "message", "evidence", "source", "severity", "diagnosis_logic", "logic")

    def __init__(self, *args: Any, rule: Rule, **kwargs: Any) -> None:
        # `initial` given (the text as typed, re-shown after trying it) overrides the rule's.
        kwargs["initial"] = {
            **{name: getattr(rule, name) for name in self.EDITABLE},
            **(kwargs.get("initial") or {}),
        }
        super().__init__(*args, **kwargs)
        self.kind = rule.kind
        self.fields.update(_text_fields())
        if rule.kind == Rule.Kind.INDICATION:
            self.fields["diagnosis_logic"] = _logic_field(
                "Diagnosis test",
                "When this is false the condition is not indicated; when unknown, undetermined. "
                + LOGIC_HELP,
            )
            self.fields["logic"] = _logic_field(
                "Criteria", "Decides indicated (true) or possible (false). " + LOGIC_HELP
            )
            order = ("title", "message", "evidence", "source", "diagnosis_logic", "logic")
        else:
            self.fields["severity"] = forms.ChoiceField(
                label="Severity", choices=Rule.Severity.choices
            )
            self.fields["logic"] = _logic_field("Logic: the rule flags when this is true")
            order = ("title", "message", "evidence", "source", "severity", "logic")
        self.order_fields(order)
        self.helper = _helper("Save rule", *order)
        # The page draws the <form> itself: the try-it controls post the same fields elsewhere.
        self.helper.form_tag = False

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        checked = {name: cleaned[name] for name in self.fields if name in cleaned}
        validate_rule_values(self.kind, checked)
        return cleaned


class RuleAddForm(forms.Form):
    """Add a consideration rule to a draft."""

    FIELDS = ("rule_id", "severity", "title", "message", "evidence", "source", "logic")

    rule_id = forms.CharField(
        label="Rule ID",
        max_length=RULE_ID_MAX_LENGTH,
        help_text="Stable and unique: results and audits refer to it, e.g. REV-NEW-CHECK.",
        validators=[validate_rule_id],
    )
    severity = forms.ChoiceField(label="Severity", choices=Rule.Severity.choices)

    def __init__(self, *args: Any, draft: RuleSetVersion, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.draft = draft
        self.fields.update(_text_fields())
        self.fields["logic"] = _logic_field("Logic: the rule flags when this is true")
        self.order_fields(self.FIELDS)
        self.helper = _helper("Add rule", *self.FIELDS)

    def clean_rule_id(self) -> str:
        rule_id: str = self.cleaned_data["rule_id"]
        if self.draft.rules.filter(rule_id=rule_id).exists():
            raise forms.ValidationError(
                f"{rule_id} is already a rule of this draft: choose another ID."
            )
        return rule_id

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        checked = {name: cleaned[name] for name in self.FIELDS[1:] if name in cleaned}
        validate_rule_values(Rule.Kind.CONSIDERATION, checked)
        return cleaned


class CaseChoiceField(forms.ModelChoiceField[RuleTestCase]):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class RuleTryForm(forms.Form):
    """Which test case to try the rule's logic against, and the logic as typed (not saved).

    Its fields sit inside the rule form (the same <form>, posted to the try-it URL by the
    "Try the logic" button), so the logic fields are the rule form's own."""

    try_case = CaseChoiceField(
        label="Test case",
        queryset=RuleTestCase.objects.none(),
        to_field_name="uuid",
        empty_label=None,
        help_text="The logic as typed above is evaluated on this case's facts. Nothing is saved.",
        widget=forms.Select(attrs={"class": "form-select", "aria-describedby": "try-case-help"}),
    )
    logic = forms.CharField(required=False, strip=False, max_length=TEXT_LIMITS["logic"])
    diagnosis_logic = forms.CharField(
        required=False, strip=False, max_length=TEXT_LIMITS["diagnosis_logic"]
    )

    def __init__(self, *args: Any, cases: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["try_case"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = cases


class RuleFilterForm(forms.Form):
    """Search and filters of a version's rule list (a GET form; every field optional)."""

    q = forms.CharField(
        label="Search rules",
        required=False,
        max_length=200,
        help_text="Rule ID, title, or any text of the rule (message, evidence, source, logic).",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    severity = forms.ChoiceField(
        label="Severity",
        required=False,
        choices=[("", "Any severity"), *Rule.Severity.choices],
    )
    changed = forms.BooleanField(label="Changed only", required=False)

    def __init__(self, *args: Any, changed_label: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if changed_label:
            self.fields["changed"].label = changed_label
        else:
            del self.fields["changed"]
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "row g-2 align-items-end mb-3"
        self.helper.form_id = "rule-filter"
        self.helper.attrs = {"role": "search", "aria-label": "Rules of this version"}
        fields = [
            Field("q", wrapper_class="col-md-5"),
            Field("severity", wrapper_class="col-md-3"),
        ]
        if changed_label:
            fields.append(Field("changed", wrapper_class="col-md-auto"))
        self.helper.layout = Layout(*fields)
        self.helper.add_input(Submit("filter", "Show", css_class="mb-3"))

    @property
    def filters(self) -> dict[str, Any]:
        """The valid filters (empty ones left out); an invalid form filters nothing."""
        if not self.is_bound or not self.is_valid():
            return {}
        return {name: value for name, value in self.cleaned_data.items() if value}


def _change_note_field() -> forms.CharField:
    return forms.CharField(
        label="Change note",
        max_length=NOTE_MAX_LENGTH,
        help_text="What changed and why. Shown in the version history.",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Write a change note: it tells clinicians what changed and why."
        },
    )


class PublishForm(forms.Form):
    """Publish now or at an effective time. A draft approved by a second rule admin keeps the
    change note it was approved with (`approved=True` leaves the field out)."""

    change_note = _change_note_field()
    effective_at = forms.DateTimeField(
        label="Effective from (optional)",
        required=False,
        help_text="Leave empty to publish now. A later date and time (clinic time) is published "
        "by the background worker then.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, approved: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: tuple[str, ...] = ("change_note", "effective_at")
        if approved:
            del self.fields["change_note"]
            fields = ("effective_at",)
        self.helper = _helper("Publish", *fields)

    def clean_effective_at(self) -> Any:
        value = self.cleaned_data.get("effective_at")
        if value is not None and value <= timezone.now():
            raise forms.ValidationError(
                "Choose a time in the future, or leave it empty to publish now."
            )
        return value


class SubmitForm(forms.Form):
    change_note = _change_note_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Submit for approval", "change_note")


class ApproveForm(forms.Form):
    note = forms.CharField(
        label="Approval note (optional)",
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Approve", "note")
        self.helper.form_action = "?action=approve"


class ReturnForm(forms.Form):
    comment = forms.CharField(
        label="What should change",
        max_length=NOTE_MAX_LENGTH,
        help_text="The submitter reads this on the draft. Kept in the audit trail.",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say what should change: the comment is audited."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Return with comment", "comment")
        self.helper.form_action = "?action=return"


class ExpectationUpdateForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=NOTE_MAX_LENGTH,
        help_text="Why the draft's outcome is the right one for this case. Kept in the audit trail.",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": "Say why this outcome is now the expected one: the reason is audited."
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Accept the draft's outcome", "reason")


class PrettyJSONField(forms.JSONField):
    """JSON shown indented, so a case's facts read one per line; text that is not JSON is
    refused with the line and column where reading it stopped."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False)

    def to_python(self, value: Any) -> Any:
        try:
            return super().to_python(value)
        except forms.ValidationError:
            if not isinstance(value, str):
                raise
            try:
                json.loads(value)
            except json.JSONDecodeError as error:
                raise forms.ValidationError(
                    "This is not valid JSON: %(problem)s at line %(line)d, column %(column)d.",
                    code="invalid",
                    params={"problem": error.msg, "line": error.lineno, "column": error.colno},
                ) from None
            raise


def _indication_field(condition: str) -> str:
    return f"indication_{condition}"


def flag_choices(rule_set: RuleSet | None, also: list[str]) -> list[tuple[str, str]]:
    """The rules that can flag: the consideration rules of the rule set's published version
    and of its open draft (by position, each ID once), and any ID in `also` (a case's stored
    flags) that neither has, so editing a case never drops a flag it expects."""
    choices: dict[str, str] = {}
    if rule_set is not None:
        rules = (
            Rule.objects.filter(
                version__rule_set=rule_set,
                version__status__in=(RuleSetVersion.Status.PUBLISHED, RuleSetVersion.Status.DRAFT),
                kind=Rule.Kind.CONSIDERATION,
            )
            .order_by("version__status", "position")
            .values_list("rule_id", "title")
        )
        for rule_id, title in rules:
            choices.setdefault(rule_id, f"{rule_id}: {title}")
    for rule_id in also:
        choices.setdefault(rule_id, f"{rule_id} (not a rule of the published version or draft)")
    return list(choices.items())


class RuleCaseForm(forms.Form):
    """A test case: facts (an input document, as JSON) and the outcome every version must give,
    edited part by part: disposition, urgent, each condition's status, the flags and the missing
    facts. The cleaned data has the stored shape (`name`, `description`, `facts`, `expected`),
    checked by `clean_expected`, so the services and everything that reads cases are unchanged.

    `initial` may give `expected` as stored; its parts fill the fields.
    """

    name = forms.SlugField(
        label="Name", max_length=80, help_text="Lower-case words joined by hyphens."
    )
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    facts = PrettyJSONField(
        label="Facts",
        initial=dict,
        help_text="The input document (JSON), as the screen command reads it, e.g. "
        '<code>{"age_years": 40, "diagnoses": ["mdd"], "phq9_total": 19}</code>. Use age_years, '
        "or date_of_birth together with screening_date, so the case gives the same age every day.",
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
    )
    disposition = forms.ChoiceField(
        label="Disposition",
        choices=[("", "Choose the disposition"), *labels.DISPOSITIONS.items()],
    )
    urgent = forms.BooleanField(
        label="Urgent",
        required=False,
        help_text="Checked when the result must be marked urgent (an urgent flag fires).",
    )
    flags = forms.MultipleChoiceField(
        label="Flags",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The rules that must flag, and no others.",
    )
    missing = forms.MultipleChoiceField(
        label="Missing facts",
        required=False,
        choices=[(fact, fact) for fact in sorted(INPUT_FACTS)],
        widget=forms.CheckboxSelectMultiple,
        help_text="The facts the result must report as missing, and no others.",
    )

    def __init__(
        self, *args: Any, rule_set: RuleSet | None = None, submit: str = "Save case", **kwargs: Any
    ) -> None:
        initial = dict(kwargs.pop("initial", None) or {})
        expected = initial.get("expected")
        if isinstance(expected, dict):
            initial.update(self.expected_initial(expected))
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        titles = condition_titles(rule_set) if rule_set is not None else {}
        for condition in CONDITIONS:
            self.fields[_indication_field(condition)] = forms.ChoiceField(
                label=titles.get(condition, condition),
                choices=list(labels.STATUSES.items()),
                initial="not_indicated",
            )
        stored_flags = list(initial.get("flags") or [])
        flags = self.fields["flags"]
        assert isinstance(flags, forms.MultipleChoiceField)
        flags.choices = flag_choices(rule_set, stored_flags)
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.layout = Layout(
            Field("name"),
            Field("description"),
            Field("facts", css_class="font-monospace"),
            Fieldset(
                "Expected outcome",
                HTML(
                    '<p class="small text-body-secondary">What every version must give for '
                    "these facts. A draft cannot be published while a case gets another "
                    "outcome.</p>"
                ),
                Field("disposition"),
                Field("urgent"),
                Fieldset(
                    "Conditions",
                    Div(
                        *(
                            Div(Field(_indication_field(c)), css_class="col-sm-6 col-lg-3")
                            for c in CONDITIONS
                        ),
                        css_class="row",
                    ),
                ),
                Div(Field("flags"), css_class="app-choice-columns"),
                Div(Field("missing"), css_class="app-choice-columns"),
            ),
        )
        self.helper.add_input(Submit("submit", submit))

    @staticmethod
    def expected_initial(expected: dict[str, Any]) -> dict[str, Any]:
        """A stored expected outcome as the fields' initial values."""
        values: dict[str, Any] = {
            "disposition": expected.get("disposition", ""),
            "urgent": bool(expected.get("urgent")),
            "flags": list(expected.get("flags") or []),
            "missing": list(expected.get("missing") or []),
        }
        for condition, status in (expected.get("indications") or {}).items():
            values[_indication_field(condition)] = status
        return values

    def clean_facts(self) -> Any:
        facts = self.cleaned_data["facts"]
        validate_case_facts(facts, today=timezone.localdate())
        return facts

    def clean(self) -> dict[str, Any]:
        """The stored shape: name, description, facts and the expected outcome assembled from
        its fields (and checked by `clean_expected`, as every other door checks it)."""
        cleaned = super().clean() or {}
        parts = ("disposition", *(_indication_field(c) for c in CONDITIONS))
        if any(name in self.errors for name in parts):
            return cleaned
        document = {
            "disposition": cleaned["disposition"],
            "urgent": bool(cleaned.get("urgent")),
            "indications": {c: cleaned[_indication_field(c)] for c in CONDITIONS},
            "flags": list(cleaned.get("flags") or []),
            "missing": list(cleaned.get("missing") or []),
        }
        try:
            expected = clean_expected(document)
        except forms.ValidationError as exc:
            self.add_error(None, exc)
            return cleaned
        values: dict[str, Any] = {
            name: cleaned[name] for name in ("name", "description", "facts") if name in cleaned
        }
        return {**values, "expected": expected}


class VersionChoiceField(forms.ModelChoiceField[RuleSetVersion]):
    def label_from_instance(self, obj: Any) -> str:
        return version_label(obj)


class DiffForm(forms.Form):
    """Two versions of one rule set to compare (a GET form)."""

    old = VersionChoiceField(
        label="From", queryset=RuleSetVersion.objects.none(), to_field_name="uuid"
    )
    new = VersionChoiceField(
        label="To", queryset=RuleSetVersion.objects.none(), to_field_name="uuid"
    )

    def __init__(self, *args: Any, versions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("old", "new"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = versions
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "row g-3 align-items-end"
        self.helper.layout = Layout(
            Field("old", wrapper_class="col-sm-4"), Field("new", wrapper_class="col-sm-4")
        )
        self.helper.add_input(Submit("compare", "Compare", css_class="mb-3"))


def version_label(version: RuleSetVersion) -> str:
    if version.number is None:
        return "Draft"
    return f"Version {version.number} ({version.get_status_display().lower()})"

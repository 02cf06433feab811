"""Forms of the result page: acknowledging a review/urgent flag, overriding a stop flag.

The services check the same things again (a reason, a coded reason); the forms are here so that a
missing answer is shown beside its field instead of as a message at the top of the page. One
result page carries a form per flag, so each form gets its flag's ID in its element IDs.
"""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout, Submit
from django import forms
from django.urls import reverse

from screening.models import FlagReview

REASON_MAX_LENGTH = 2000


class FlagReviewForm(forms.Form):
    """Base for the per-flag forms: element IDs and the form's target carry the rule ID."""

    url_name = ""
    #: The review this form saves (`FlagReview.Kind`) and how the page says it was saved.
    kind = ""
    done = ""
    submit_label = ""
    revise_label = ""

    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Give a reason: it is kept with the screening."},
    )
    # The flag's review as this page showed it (`services.review_seen`), so that saving does not
    # replace a review another clinician made after the page was opened. Absent (a client other
    # than the page) means no check.
    seen = forms.CharField(widget=forms.HiddenInput, required=False, empty_value=None)

    def __init__(
        self,
        *args: Any,
        screening_uuid: object,
        rule_id: str,
        revising: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("auto_id", f"id_{rule_id}_%s")
        super().__init__(*args, **kwargs)
        self.rule_id = rule_id
        self.helper = FormHelper(self)
        self.helper.form_method = "post"
        # The server's error summary, at this form, rather than the browser's own bubbles.
        self.helper.attrs = {"novalidate": ""}
        # The flag's anchor: after saving, or with an error, the page opens at this flag.
        self.helper.form_action = (
            reverse(f"screening:{self.url_name}", args=[screening_uuid, rule_id])
            + f"#flag-{rule_id}"
        )
        self.helper.form_id = f"{self.url_name}-{rule_id}"
        self.helper.form_class = "app-flag-form"
        self.helper.layout = self.layout()
        self.helper.render_hidden_fields = True
        label = self.revise_label if revising else self.submit_label
        self.helper.add_input(Submit("submit", label, css_class="btn-sm"))

    def layout(self) -> Layout:
        return Layout(Field("reason"))


class AcknowledgeForm(FlagReviewForm):
    """Acknowledge an urgent or review flag: the clinician's reason is required."""

    url_name = "acknowledge"
    kind = FlagReview.Kind.ACKNOWLEDGED
    done = "acknowledged"
    submit_label = "Acknowledge"
    revise_label = "Save revised acknowledgement"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = "Reason for acknowledging"
        self.fields["reason"].help_text = "For example, what was assessed and what was decided."


class OverrideForm(FlagReviewForm):
    """Override a stop flag: a coded reason and a free-text explanation, both required."""

    url_name = "override"
    kind = FlagReview.Kind.OVERRIDDEN
    done = "overridden with a documented reason"
    submit_label = "Override"
    revise_label = "Save revised override"

    reason_code = forms.ChoiceField(
        label="Coded reason",
        choices=[("", "Choose a reason…"), *FlagReview.OverrideReason.choices],
        error_messages={"required": "Choose a coded reason for overriding a stop flag."},
    )

    field_order = ["reason_code", "reason"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = "Documented reason"
        self.fields["reason"].help_text = "Kept with the screening and shown on the printed result."

    def layout(self) -> Layout:
        return Layout(Field("reason_code"), Field("reason"))


class BulkAcknowledgeForm(forms.Form):
    """One reason for several review flags not yet reviewed (`choices`: rule ID → title).

    Only review flags: a stop flag is overridden with its own coded reason, and an urgent flag
    is acknowledged on its own."""

    rule_ids = forms.MultipleChoiceField(
        label="Flags to acknowledge",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Tick the flags to acknowledge.",
            "invalid_choice": "A ticked flag is no longer waiting for an acknowledgement: "
            "reload the page.",
        },
    )
    reason = forms.CharField(
        label="Reason for acknowledging these flags",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept with each flag ticked, as if given to each one.",
        error_messages={"required": "Give a reason: it is kept with each flag ticked."},
    )

    def __init__(
        self, *args: Any, screening_uuid: object, choices: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        kwargs.setdefault("auto_id", "id_bulk_%s")
        super().__init__(*args, **kwargs)
        field = self.fields["rule_ids"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = choices
        self.helper = FormHelper(self)
        self.helper.form_method = "post"
        self.helper.attrs = {"novalidate": ""}
        self.helper.form_action = (
            reverse("screening:acknowledge_several", args=[screening_uuid]) + "#flags"
        )
        self.helper.form_id = "acknowledge-several-form"
        self.helper.form_class = "app-flag-form app-no-print"
        self.helper.add_input(
            Submit("submit", "Acknowledge selected flags", css_class="btn-sm btn-outline-primary")
        )


class SignForm(forms.Form):
    """Sign-off: nothing more for a result computed under the published rules with nothing a
    safety rule needed left missing; otherwise the reasons signing asks for (`SignOff`)."""

    ALL = "incomplete_reason_all"

    def __init__(
        self,
        *args: Any,
        screening_uuid: object,
        stale: bool,
        reasons_for: tuple[str, ...],
        labels: dict[str, str],
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("auto_id", "id_sign_%s")
        super().__init__(*args, **kwargs)
        self.stale, self.reasons_for = stale, reasons_for
        if stale:
            self.fields["stale_reason"] = forms.CharField(
                label="Reason for signing under the rules it was run with",
                max_length=REASON_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 2}),
                error_messages={
                    "required": "Say why you sign this result without running it again under "
                    "the current rules, or run it again."
                },
            )
        if reasons_for:
            self.fields[self.ALL] = forms.CharField(
                label="Why the missing information could not be obtained (for all items)",
                required=False,
                max_length=REASON_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            for fact in reasons_for:
                self.fields[self.field_for(fact)] = forms.CharField(
                    label=f"Why “{labels.get(fact, fact)}” could not be obtained",
                    required=False,
                    max_length=REASON_MAX_LENGTH,
                )
        self.helper = FormHelper(self)
        self.helper.form_method = "post"
        # The server's error summary, at this form, rather than the browser's own bubbles.
        self.helper.attrs = {"novalidate": ""}
        self.helper.form_action = reverse("screening:sign", args=[screening_uuid]) + "#sign-off"
        self.helper.form_id = "sign-form"
        self.helper.form_class = "app-no-print"
        self.helper.add_input(Submit("submit", "Sign"))

    @staticmethod
    def field_for(fact: str) -> str:
        return f"incomplete_reason__{fact}"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.reasons_for and not (cleaned.get(self.ALL) or "").strip():
            for fact in self.reasons_for:
                if not (cleaned.get(self.field_for(fact)) or "").strip():
                    self.add_error(
                        self.field_for(fact),
                        "Give a reason for this item, or one reason for all of them above.",
                    )
        return cleaned

    @property
    def stale_reason(self) -> str:
        return str(self.cleaned_data.get("stale_reason") or "")

    @property
    def incomplete_reasons(self) -> dict[str, str]:
        reasons = {"*": self.cleaned_data.get(self.ALL) or ""}
        for fact in self.reasons_for:
            reasons[fact] = self.cleaned_data.get(self.field_for(fact)) or ""
        return reasons


class AmendForm(forms.Form):
    """Amending a signed screening starts with its reason, kept on both records."""

    reason = forms.CharField(
        label="Reason for the amendment",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown on the signed screening and on the screening that amends it.",
        error_messages={"required": "Say why the signed screening is being amended."},
    )

    def __init__(self, *args: Any, screening_uuid: object, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_amend_%s")
        super().__init__(*args, **kwargs)
        self.helper = FormHelper(self)
        self.helper.form_method = "post"
        # The server's error summary, at this form, rather than the browser's own bubbles.
        self.helper.attrs = {"novalidate": ""}
        self.helper.form_action = reverse("screening:amend", args=[screening_uuid]) + "#sign-off"
        self.helper.form_id = "amend-form"
        self.helper.form_class = "app-no-print"
        self.helper.add_input(Submit("submit", "Amend", css_class="btn-outline-primary"))

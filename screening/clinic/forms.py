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
        self.helper.form_action = reverse(
            f"screening:{self.url_name}", args=[screening_uuid, rule_id]
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

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=80, help_text="What the token is for, so you can tell your tokens apart."
    )
    lifetime_days = forms.IntegerField(
        label="Expires after (days)",
        min_value=1,
        required=False,
        help_text="The token stops working after this many days; create a new one then.",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["lifetime_days"]
        field.initial = settings.API_TOKEN_LIFETIME_DAYS
        field.validators.append(MaxValueValidator(settings.API_TOKEN_MAX_LIFETIME_DAYS))
        field.widget.attrs["max"] = settings.API_TOKEN_MAX_LIFETIME_DAYS
        field.help_text += f" At most {settings.API_TOKEN_MAX_LIFETIME_DAYS} days."
        self.helper = FormHelper()
        self.helper.add_input(Submit("create", "Create token"))

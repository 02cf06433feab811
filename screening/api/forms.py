from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=80, help_text="What the token is for, so you can tell your tokens apart."
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.helper = FormHelper()
        self.helper.add_input(Submit("create", "Create token"))

"""The "Start from EHR data" form: a FHIR R4 Bundle, pasted or uploaded."""

from __future__ import annotations

import json
from typing import Any

from django import forms

#: A Bundle larger than this is refused (a patient's recent data is far smaller).
MAX_BUNDLE_BYTES = 2_000_000


class BundleForm(forms.Form):
    bundle_text = forms.CharField(
        label="Paste a FHIR R4 Bundle (JSON)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "class": "font-monospace"}),
        max_length=MAX_BUNDLE_BYTES,
    )
    bundle_file = forms.FileField(label="or upload it", required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("bundle_file")
        text = data.get("bundle_text") or ""
        if upload is not None:
            if upload.size > MAX_BUNDLE_BYTES:
                raise forms.ValidationError("The file is larger than 2 MB.", code="invalid")
            try:
                text = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError("The file is not UTF-8 text.", code="invalid") from None
        if not text.strip():
            raise forms.ValidationError("Paste a Bundle or choose a file.", code="required")
        try:
            data["bundle"] = json.loads(text)
        except ValueError:
            raise forms.ValidationError("This is not valid JSON.", code="invalid") from None
        return data

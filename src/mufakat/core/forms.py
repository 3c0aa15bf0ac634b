"""Forms of the core: log-in second step, sharing groups, sharing of a record, API tokens."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mufakat.core.choices import TLP, Distribution
from mufakat.core.models import Organisation, SharingGroup


class TotpForm(forms.Form):
    code = forms.CharField(
        label=_("Authentication code"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class ReenrolForm(TotpForm):
    """Replacing the second factor: the password and a code from the current device."""

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class SharingGroupForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    members = forms.ModelMultipleChoiceField(
        label=_("Member organisations"),
        queryset=Organisation.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class SharingForm(forms.Form):
    """Distribution + marking for any shared record; choices limited to what the user may use."""

    distribution = forms.ChoiceField(label=_("Distribution"), choices=Distribution.choices)
    tlp = forms.ChoiceField(label=_("TLP marking"), choices=TLP.choices)
    shared_with = forms.ModelMultipleChoiceField(
        label=_("Named organisations"),
        queryset=Organisation.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    sharing_group = forms.ModelChoiceField(
        label=_("Sharing group"), queryset=SharingGroup.objects.none(), required=False
    )

    def __init__(self, *args: Any, groups: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if groups is not None:
            self.fields["sharing_group"].queryset = groups  # type: ignore[attr-defined]


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=100)
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=365, initial=90)

"""Forms of the member portal."""

from django import forms


class CardForm(forms.Form):
    card_number = forms.CharField(
        label="Card number",
        max_length=23,
        widget=forms.TextInput(attrs={"autocomplete": "cc-number", "inputmode": "numeric"}),
    )

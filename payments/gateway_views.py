"""Gateway webhooks (for gateways, no session, no CSRF) and the payment-link page (for
members, no login: the signed link is the credential for that one invoice)."""

from django import forms
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt

from ledger.errors import BillingError
from ledger.services import system_actor

from .gateways.base import SIGNATURE_HEADER
from .gateways.sandbox import CARD_CHARGEBACK, CARD_DECLINE, CARD_SUCCESS
from .models import LinkState
from .services import pay_link, resolve_link
from .services.gateway_flows import open_link
from .services.webhooks import receive

MAX_BODY = 64 * 1024


@csrf_exempt
def webhook(request, name: str):
    if request.method != "POST":
        return JsonResponse(
            {"error": "method_not_allowed", "detail": "POST only.", "field": None}, status=405
        )
    if len(request.body) > MAX_BODY:
        return JsonResponse(
            {"error": "too_large", "detail": "Body too large.", "field": None}, status=400
        )
    status, body = receive(name, request.body, request.headers.get(SIGNATURE_HEADER))
    return JsonResponse(body, status=status)


class CardForm(forms.Form):
    card_number = forms.CharField(
        label="Card number",
        max_length=23,
        widget=forms.TextInput(attrs={"autocomplete": "cc-number", "inputmode": "numeric"}),
    )


def pay(request, token: str):
    link = resolve_link(token)
    if link is None:
        raise Http404("No such payment link.")
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    open_link(link)
    link.refresh_from_db()
    form = CardForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            pay_link(
                link=link,
                card_number=form.cleaned_data["card_number"],
                actor=system_actor("payment-link"),
            )
        except BillingError as exc:
            error = exc.detail
        else:
            return redirect(request.path)
    link.refresh_from_db()
    invoice = link.invoice
    return render(
        request,
        "payments/pay_link.html",
        {
            "link": link,
            "invoice": invoice,
            "form": form,
            "error": error,
            "state": link.state,
            "LinkState": LinkState,
            "payment": link.payment,
            "test_cards": [CARD_SUCCESS, CARD_DECLINE, CARD_CHARGEBACK],
        },
    )

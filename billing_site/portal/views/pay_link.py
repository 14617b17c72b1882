"""The payment-link page: for members, no login (the signed link is the credential
for that one invoice). The member types a card; the gateway answers asynchronously."""

from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render

from billing_site.portal.forms import CardForm
from ledger.errors import BillingError
from ledger.services import system_actor
from payments import gateways
from payments.gateways.sandbox import CARD_CHARGEBACK, CARD_DECLINE, CARD_SUCCESS, SandboxGateway
from payments.models import LinkState
from payments.services import pay_link, resolve_link
from payments.services.gateway_flows import open_link


def _card_gateway():
    try:
        return gateways.for_method("card")
    except LookupError:
        return None


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
    gateway = _card_gateway()
    if request.method == "POST" and gateway is None:
        error = "Card payments are not available at the moment."
    elif request.method == "POST" and form.is_valid():
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
    top_up = link.payment if invoice is None else None  # a top-up's link
    return render(
        request,
        "member/pay_link.html",
        {
            "link": link,
            "invoice": invoice,
            "top_up": top_up,
            "amount": top_up.amount if top_up is not None else invoice.amount_due,
            "form": form,
            "error": error,
            "state": link.state,
            "LinkState": LinkState,
            "payment": link.payment,
            "card_payments": gateway is not None,
            # Test cards only where the sandbox takes the cards (never a real gateway).
            "test_cards": (
                [CARD_SUCCESS, CARD_DECLINE, CARD_CHARGEBACK]
                if isinstance(gateway, SandboxGateway)
                else []
            ),
        },
    )

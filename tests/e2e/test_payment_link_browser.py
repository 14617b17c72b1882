"""Issue 7 in a real browser: a member opens a payment link, pays the invoice by card
through the sandbox gateway, the gateway's signed webhooks arrive, and the member's
statement shows the payment."""

import pytest
from django.core.management import call_command

from ledger import services as ledger
from payments import services as pay
from payments.models import PaymentLink
from tests.members.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_member_pays_through_a_link_and_sees_it_on_the_statement(
    page, live_server, e2e_settings, django_user_model, screenshots
):
    actor = ledger.system_actor("e2e")
    member = django_user_model.objects.create_user(username="bob", password=PASSWORD)
    account = ledger.create_account(
        name="Link Payer Ltd",
        email="bob@members.test",
        currency="GBP",
        actor=actor,
        members=[member],
    )
    invoice = ledger.create_invoice(
        account=account, actor=actor, lines=[ledger.LineSpec("Studio hire", "2", "62.50")]
    )
    invoice = pay.issue_invoice(invoice=invoice, actor=actor)
    link = pay.create_payment_link(invoice=invoice, actor=actor)

    page.goto(f"{live_server.url}/pay/{pay.link_token(link)}/")
    assert page.get_by_test_id("amount-due").inner_text() == "£125.00"
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Pay £125.00").click()
    page.get_by_test_id("processing").wait_for()
    page.screenshot(path=screenshots / "member-payment-link.png")

    call_command("deliver_sandbox_events", "--all")  # the gateway answers (signed webhooks)
    page.reload()
    assert "Paid — thank you" in page.content()
    link.refresh_from_db()
    assert link.state == "paid"
    assert PaymentLink.objects.get(pk=link.pk).payment.status == "completed"

    page.goto(f"{live_server.url}/login/?next=/accounts/{account.pk}/statement/")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("#statement")
    rows = page.locator("#statement tbody tr").all_inner_texts()
    newest = rows[0]
    # the payment reads PAYM-<invoice number>, as on the staff payments tab
    assert f"PAYM-{invoice.number}" in newest and "£125.00" in newest and "Card" in newest
    assert page.locator(".balance .amount").inner_text() == "£0.00"

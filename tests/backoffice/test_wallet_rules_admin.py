"""The wallet page's *Low-balance alert*, *Automatic top-up* and *Clear automatic top-up*
(issue 14 item 5), through the URL on PostgreSQL with each request committing: the
threshold set (an alert event and, when asked, an email after commit on a crossing), a
bad threshold keeps the form and changes nothing; a rule set, used by a crossing without
a mandate (a waiting top-up, the member emailed), cleared."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from events.models import Event
from ledger import services as ledger
from payments.models import Payment
from tests.composition.admin_pages import page_errors, run_action, superuser_client
from tests.payments.conftest import fresh
from wallets import services as wallets
from wallets.models import AutoTopUp

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ACTOR = ledger.system_actor("admin-tests")


@pytest.fixture(autouse=True)
def verified_ledger(transactional_db):
    yield
    call_command("verify_ledger", verbosity=0)


@pytest.fixture
def admin():
    return superuser_client()


@pytest.fixture
def wallet(account):
    w = wallets.create_wallet(account=account, name="Metered", actor=ACTOR)
    wallets.top_up(wallet=w, amount="1000.00", actor=ACTOR, grant=True)
    return w


def test_set_the_low_balance_alert_then_a_crossing_alerts_and_emails(
    admin, account, wallet, mailoutbox
):
    data = {"threshold": "500.00", "email": "on"}
    done = run_action(admin, "wallets_wallet", wallet, "low_balance_alert", data)
    assert done.text() == ["Low-balance alert of wallet 'Metered' set at £500.00."]
    page = admin.get(reverse("admin:wallets_wallet_action", args=[wallet.pk, "low_balance_alert"]))
    assert f"£500.00, emailed to {account.email}" in page.content.decode()
    wallets.usage_drawdown(wallet=wallet.pk, amount="600.00", reference="u1", actor=ACTOR)
    assert Event.objects.filter(type="wallet.low_balance").count() == 1
    [mail] = mailoutbox
    assert mail.to == [account.email] and "£400.00" in mail.subject


def test_a_bad_threshold_keeps_the_form_and_changes_nothing(admin, wallet):
    url = reverse("admin:wallets_wallet_action", args=[wallet.pk, "low_balance_alert"])
    response = admin.post(url, {"threshold": "-3.00"})
    assert response.status_code == 200
    assert "An amount cannot be negative." in page_errors(response)
    assert fresh(wallet).low_balance_threshold is None


def test_set_use_and_clear_the_automatic_top_up(admin, account, wallet, mailoutbox):
    run_action(admin, "wallets_wallet", wallet, "low_balance_alert", {"threshold": "500.00"})
    data = {"trigger": "below_threshold", "amount": "300.00", "enabled": "on"}
    done = run_action(admin, "wallets_wallet", wallet, "auto_top_up", data)
    assert done.text() == [
        "Automatic top-up of wallet 'Metered': £300.00, when available falls below the threshold."
    ]
    wallets.usage_drawdown(wallet=wallet.pk, amount="600.00", reference="u1", actor=ACTOR)
    [payment] = Payment.objects.filter(wallet=wallet, type="top_up")
    assert (payment.status, payment.amount.amount) == ("waiting_for_payment", 300)
    assert [m.to for m in mailoutbox] == [[account.email]]
    assert payment.number in mailoutbox[0].body
    done = run_action(admin, "wallets_wallet", wallet, "clear_auto_top_up")
    assert done.text() == ["Automatic top-up of wallet 'Metered' cleared."]
    assert not AutoTopUp.objects.exists()


def test_a_rule_without_threshold_is_refused_in_the_form(admin, wallet):
    url = reverse("admin:wallets_wallet_action", args=[wallet.pk, "auto_top_up"])
    response = admin.post(url, {"trigger": "below_threshold", "amount": "300.00"})
    assert response.status_code == 200
    assert "no low-balance threshold" in " ".join(page_errors(response))
    assert not AutoTopUp.objects.exists()

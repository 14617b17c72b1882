"""Privacy of the member pages (SPEC section 7, "Private"): a member of another account
gets 404 for every page and download, an anonymous visitor is sent to the login page,
and the staff admin is not reachable by members."""

import pytest
from django.urls import reverse

from ledger import services as ledger

pytestmark = pytest.mark.django_db


def member_urls(history) -> dict[str, str]:
    """Every member page and download of the history's account, by name."""
    a = history.account.pk
    return {
        "statement": reverse("member-statement", args=[a]),
        "statement csv": reverse("member-statement-csv", args=[a]),
        "statement pdf": reverse("member-statement-pdf", args=[a]),
        "invoices": reverse("member-invoices", args=[a]),
        "invoice": reverse("member-invoice", args=[a, history.invoice_part.pk]),
        "invoice pdf": reverse("member-invoice-pdf", args=[a, history.invoice_part.pk]),
        "wallets": reverse("member-wallets", args=[a]),
        "wallet": reverse("member-wallet", args=[a, history.wallet.pk]),
        "receipts": reverse("member-receipts", args=[a]),
        "receipt pdf": reverse("member-receipt-pdf", args=[a, history.receipt.pk]),
    }


def test_the_member_can_open_every_page(member_client, history):
    for name, url in member_urls(history).items():
        response = member_client.get(url)
        assert response.status_code == 200, name


def test_a_member_of_another_account_gets_404_everywhere(client, history, other_member):
    client.force_login(other_member)
    for name, url in member_urls(history).items():
        assert client.get(url).status_code == 404, name
    home = client.get(reverse("member-home")).content.decode()
    assert history.account.name not in home


def test_documents_of_one_account_under_another_accounts_url_are_404(
    client, history, other_member, other_account
):
    """The member's own account id does not unlock another account's invoice, wallet
    or receipt id put after it."""
    client.force_login(other_member)
    o = other_account.pk
    for url in (
        reverse("member-invoice", args=[o, history.invoice_part.pk]),
        reverse("member-invoice-pdf", args=[o, history.invoice_part.pk]),
        reverse("member-wallet", args=[o, history.wallet.pk]),
        reverse("member-receipt-pdf", args=[o, history.receipt.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.get(reverse("member-statement", args=[o])).status_code == 200


def test_a_staff_user_who_is_not_a_member_gets_404_too(client, history, make_user):
    client.force_login(make_user("finance", is_staff=True, is_superuser=True))
    for name, url in member_urls(history).items():
        assert client.get(url).status_code == 404, name


def test_anonymous_visitors_are_sent_to_login(client, history):
    for name, url in {**member_urls(history), "home": reverse("member-home")}.items():
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"] == f"/login/?next={url}", name


def test_a_member_gets_the_admin_login_page_not_the_admin(member_client, history):
    change = f"/admin/ledger/account/{history.account.pk}/change/"
    for url in ("/admin/", "/admin/ledger/account/", change):
        response = member_client.get(url, follow=True)
        assert response.status_code == 200
        assert response.redirect_chain[-1][0].startswith("/admin/login/?next=")
        html = response.content.decode()
        assert "not authorized to access this page" in html
        assert history.account.name not in html


def test_drafts_are_not_shown_to_members(member_client, history):
    draft = ledger.create_invoice(
        account=history.account,
        actor=ledger.system_actor("tests"),
        lines=[ledger.LineSpec("Draft line", "1", "10.00")],
    )
    url = reverse("member-invoice", args=[history.account.pk, draft.pk])
    assert member_client.get(url).status_code == 404
    listing = member_client.get(reverse("member-invoices", args=[history.account.pk]))
    assert f"/invoices/{draft.pk}/" not in listing.content.decode()


def test_group_admin_members_see_the_groups_accounts_and_others_do_not(client, make_user):
    actor = ledger.system_actor("tests")
    boss, worker = make_user("boss"), make_user("worker")
    group = ledger.create_group(name="Coworkers", actor=actor)
    head = ledger.create_account(
        name="Head Office",
        email="h@x.test",
        currency="GBP",
        actor=actor,
        group=group,
        members=[boss],
    )
    desk = ledger.create_account(
        name="Desk 7",
        email="d@x.test",
        currency="GBP",
        actor=actor,
        group=group,
        members=[worker],
    )
    group.admin_account = head
    group.save(update_fields=["admin_account"])

    client.force_login(boss)
    assert client.get(reverse("member-statement", args=[desk.pk])).status_code == 200
    home = client.get(reverse("member-home")).content.decode()
    assert "Head Office" in home and "Desk 7" in home

    client.force_login(worker)
    assert client.get(reverse("member-statement", args=[head.pk])).status_code == 404
    assert "Head Office" not in client.get(reverse("member-home")).content.decode()


def test_logout_is_a_post_and_ends_the_session(member_client, history):
    assert member_client.get("/logout/").status_code == 405
    response = member_client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert member_client.get(reverse("member-home")).status_code == 302

"""The account page's Members picker lists the people who read the member pages: active
users without staff access. Staff work in the admin; a staff member already linked stays
listed (so saving the page never drops them silently) until someone removes them."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db


def picker_choices(admin, account) -> set[str]:
    page = admin.get(reverse("admin:ledger_account_change", args=[account.pk]))
    assert page.status_code == 200
    field = page.context["adminform"].form.fields["members"]
    return {user.username for user in field.queryset}


def test_the_members_picker_lists_members_not_staff(admin, account):
    users = get_user_model().objects
    users.create_user("reader", password="x")
    users.create_user("clerk", password="x", is_staff=True)
    users.create_user("left", password="x", is_active=False)
    choices = picker_choices(admin, account)
    assert "reader" in choices
    assert not choices & {"clerk", "left", "boss"}


def test_a_staff_user_already_a_member_stays_listed(admin, account):
    clerk = get_user_model().objects.create_user("clerk", password="x", is_staff=True)
    account.members.add(clerk)
    assert "clerk" in picker_choices(admin, account)

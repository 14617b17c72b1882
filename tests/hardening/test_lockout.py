"""Finding: nothing limited password guessing — any number of wrong passwords could be
tried on the admin login and the member login. Now (django-axes): after
LOGIN_FAILURE_LIMIT failures for one username from one address, that pair is locked
for LOGIN_COOLOFF_MINUTES — the right password included — with a lockout page in the
look of the login used; another address, or another username, is not locked; a billing
admin sees the attempts in the admin and unlocks by deleting them."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client

from tests.hardening.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.20"
LOGINS = {"admin": "/admin/login/", "member": "/login/"}


@pytest.fixture(params=sorted(LOGINS))
def login(request, staff, member):
    """``(url, user)``: the admin login with a billing admin, the member login with a
    member."""
    return LOGINS[request.param], staff if request.param == "admin" else member


def attempt(url, username, password, address=ATTACKER):
    client = Client(REMOTE_ADDR=address)
    response = client.post(url, {"username": username, "password": password})
    response.logged_in = SESSION_KEY in client.session
    return response


def lock_out(url, username):
    responses = [attempt(url, username, "wrong") for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert all(not r.logged_in for r in responses)
    assert [r.status_code for r in responses[:-1]] == [200] * (len(responses) - 1)
    return responses[-1]


def test_settings_lock_by_username_and_address():
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_FAILURE_LIMIT == 5
    cool_off = settings.AXES_COOLOFF_TIME
    assert cool_off == timedelta(minutes=15)


def test_repeated_wrong_passwords_lock_that_user_from_that_address(login):
    url, user = login
    assert attempt(url, user.username, PASSWORD).logged_in  # the password is right

    locked = lock_out(url, user.username)

    assert locked.status_code == 429
    assert locked["Retry-After"] == str(15 * 60)
    page = locked.content.decode()
    assert "Too many failed logins" in page and "15 minutes" in page
    if url.startswith("/admin/"):
        assert "admin/css/login" in page  # the admin's look
    else:
        assert "member/site.css" in page  # the member pages' look

    # During the cool-off the right password is refused too, with the same page...
    again = attempt(url, user.username, PASSWORD)
    assert again.status_code == 429 and not again.logged_in
    # ...but only for that username from that address.
    assert attempt(url, user.username, PASSWORD, address=ELSEWHERE).logged_in


def test_another_username_from_the_same_address_is_not_locked(staff, member):
    lock_out("/login/", member.username)
    assert attempt("/admin/login/", staff.username, PASSWORD).logged_in


def test_the_lock_ends_after_the_cool_off(login):
    url, user = login
    lock_out(url, user.username)
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
    )
    assert attempt(url, user.username, PASSWORD).logged_in


def test_a_billing_admin_sees_the_attempts_and_unlocks(login, staff, make_user):
    url, user = login
    lock_out(url, user.username)
    assert not attempt(url, user.username, PASSWORD).logged_in

    admin = Client(REMOTE_ADDR=ELSEWHERE)
    admin.force_login(staff)  # a billing admin, not a superuser
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert user.username in listing.content.decode() and ATTACKER in listing.content.decode()
    attempt_row = AccessAttempt.objects.get(username=user.username)
    confirm = admin.post(f"/admin/axes/accessattempt/{attempt_row.pk}/delete/", {"post": "yes"})
    assert confirm.status_code == 302
    assert not AccessAttempt.objects.exists()

    assert attempt(url, user.username, PASSWORD).logged_in


def test_a_clerk_cannot_see_the_attempts(make_user):
    from django.contrib.auth.models import Group

    from payments.roles import BILLING_CLERK

    clerk = make_user("clerk", is_staff=True)
    clerk.groups.add(Group.objects.get(name=BILLING_CLERK))
    client = Client()
    client.force_login(clerk)
    assert client.get("/admin/axes/accessattempt/").status_code == 403


def test_axes_reset_command_unlocks(login):
    from django.core.management import call_command

    url, user = login
    lock_out(url, user.username)
    call_command("axes_reset_username", user.username, verbosity=0)
    assert attempt(url, user.username, PASSWORD).logged_in


def test_test_client_login_still_works_and_skips_no_lockout(member):
    """``Client.login()`` (no request) authenticates; it is not a way around a lockout
    of the login pages, which always have a request."""
    assert Client().login(username=member.username, password=PASSWORD)
    lock_out("/login/", member.username)
    assert attempt("/login/", member.username, PASSWORD).status_code == 429

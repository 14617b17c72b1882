"""A logged-in superuser driving the admin like a browser: open the page, find the
button, open the action's form, POST it, follow the redirect."""

import re
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse


@dataclass
class Done:
    """A successful admin POST: where it redirected and the messages it left."""

    url: str
    messages: list[tuple[int, str]]

    def text(self, level=messages.SUCCESS) -> list[str]:
        return [text for lvl, text in self.messages if lvl == level]


def page_errors(response) -> list[str]:
    """The form errors and messages a re-rendered admin page shows (for failures)."""
    html = response.content.decode(errors="replace")
    found = re.findall(r'class="(?:errorlist|errornote|error)[^"]*"[^>]*>(.*?)</', html, re.S)
    return [re.sub(r"<[^>]+>", " ", text).strip() for text in found] or [html[:500]]


def superuser_client() -> Client:
    user = get_user_model().objects.create_superuser(
        username="boss", email="boss@billfold.test", password="x"
    )
    client = Client()
    client.force_login(user)
    return client


def buttons(client: Client, url_name: str, obj) -> list[str]:
    page = client.get(reverse(f"admin:{url_name}_change", args=[obj.pk]))
    assert page.status_code == 200, page.status_code
    return re.findall(r"billfold-action-(\w+)", page.content.decode())


def succeeded(client: Client, response, *, level=messages.SUCCESS) -> Done:
    """The POST redirected (no 500, no form re-rendered with errors), left a message of
    ``level`` and no error, and the page it redirected to renders."""
    assert response.status_code == 302, (response.status_code, page_errors(response))
    found = [(m.level, str(m)) for m in get_messages(response.wsgi_request)]
    errors = [text for lvl, text in found if lvl >= messages.ERROR]
    assert not errors, errors
    assert any(lvl == level for lvl, _ in found), found
    landing = client.get(response.url)
    assert landing.status_code == 200, (response.url, landing.status_code)
    return Done(url=response.url, messages=found)


def run_action(client: Client, url_name: str, obj, action: str, data=None) -> Done:
    """An object action as staff run it: offered on the page, its form renders, the POST
    succeeds."""
    assert action in buttons(client, url_name, obj), f"{action} not offered on {obj}"
    url = reverse(f"admin:{url_name}_action", args=[obj.pk, action])
    form = client.get(url)
    assert form.status_code == 200, form.status_code
    return succeeded(client, client.post(url, data or {}))


def run_bulk(client: Client, url_name: str, action: str, objects, **data) -> Done:
    """A changelist action, confirmation page first when it has one."""
    url = reverse(f"admin:{url_name}_changelist")
    ids = [str(obj.pk) for obj in objects]
    posted = {"action": action, "_selected_action": ids, **data}
    return succeeded(client, client.post(url, posted))


class RefusingEmailBackend:
    """An SMTP server that is down: every send raises, as smtplib would."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")

"""Webhooks go to the internet, never to this network's own machines (server-side
request forgery): a private or loopback address typed as the host is refused when the
endpoint is saved, and a host name resolving to one is not sent to (checked at each
send, after resolution). This machine is allowed only with BILLFOLD_WEBHOOK_HTTP_LOCAL."""

import socket

import pytest

from billing_site.webhooks import endpoints, sender
from ledger.errors import InvalidInput

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.5/hook",
        "https://192.168.1.20/hook",
        "https://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "https://[fd00::1]/hook",
        "https://127.0.0.1/hook",
    ],
)
def test_a_private_address_is_refused_when_saved(settings, url):
    settings.BILLFOLD_WEBHOOK_HTTP_LOCAL = False
    with pytest.raises(InvalidInput, match="not a public address") as refused:
        endpoints.clean_url(url)
    assert refused.value.field == "url"


def fake_resolution(monkeypatch, address):
    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(sender.socket, "getaddrinfo", getaddrinfo)


def test_a_name_resolving_to_a_private_address_is_not_sent_to(settings, monkeypatch):
    settings.BILLFOLD_WEBHOOK_HTTP_LOCAL = False
    fake_resolution(monkeypatch, "10.1.2.3")
    outcome = sender.post("https://hooks.example.com/in", b"{}", secret="s" * 32, headers={})
    assert outcome.status_code is None and not outcome.succeeded
    assert "resolves to 10.1.2.3, not a public address" in outcome.error


def test_a_public_address_passes_the_check(settings, monkeypatch):
    settings.BILLFOLD_WEBHOOK_HTTP_LOCAL = False
    fake_resolution(monkeypatch, "93.184.216.34")
    sender._public_only("hooks.example.com", 443)  # no exception: it would be sent

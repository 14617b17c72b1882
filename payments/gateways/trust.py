"""Whether a gateway's webhook secret can be trusted: never empty, short or well known.

A webhook is only as trustworthy as its secret: anyone who knows it can sign a
``payment.succeeded``. ``secret_problem`` says what is wrong with one (or None); the
system check ``payments.E001`` (``payments.checks``) reports it with DEBUG off and the
webhook endpoint refuses every event of such a gateway (``services.webhooks``).
"""

MIN_SECRET_LENGTH = 32
MIN_DISTINCT_CHARACTERS = 10
# Defaults that were shipped or documented, and the obvious words.
WELL_KNOWN = frozenset(
    {
        "sandbox-webhook-secret",
        "webhook-secret",
        "webhook_secret",
        "secret",
        "changeme",
        "change-me",
        "password",
        "sandbox",
        "test",
        "default",
    }
)


def secret_problem(secret) -> str | None:
    """What makes ``secret`` unfit to verify webhooks, in words; None when it is fine."""
    if not isinstance(secret, str) or not secret.strip():
        return "is missing"
    lowered = secret.strip().lower()
    if lowered in WELL_KNOWN or any(word in lowered for word in ("sandbox-webhook-secret",)):
        return "is a well-known default"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    if len(set(secret)) < MIN_DISTINCT_CHARACTERS:
        return f"has fewer than {MIN_DISTINCT_CHARACTERS} different characters"
    return None

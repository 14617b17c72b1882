"""schemathesis against a live gunicorn (``gunicorn.conf.py``, DEBUG off, PostgreSQL),
over the whole schema as ``/api/v1/schema/`` serves it, with a key holding every scope,
in two phases against one server, as schemathesis' own runner does:

- every operation, ``EXAMPLES`` generated cases each (positive and negative data, half
  of them steered to real objects), then
- the stateful phase: schemathesis' state machine chaining operations through the
  links it infers from the schema (a created or listed object's id fed to the
  operations that take it), ``SCENARIOS`` scenarios of up to ``STEPS`` calls.

Checks: no 5xx, and every response conforms to the schema (status code, content type,
body). Afterwards ``verify_ledger`` passes. The static files are served with DEBUG off.
"""

import itertools
import multiprocessing
import threading
import traceback
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ledger import services as ledger
from ledger.services import LineSpec
from payments import services as pay
from tests.live.server import STATIC_PROBE
from wallets import services as wallets

EXAMPLES = 25  # per operation
FUZZ_PROCESSES = 2  # operations fuzzed at once
FUZZ_POOL_SECONDS = 300  # the forked pool as a whole; what it has not done by then runs here
SCENARIOS = 40  # stateful scenarios
STEPS = 6  # calls per scenario at most (schemathesis' default)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
HYPOTHESIS = {
    "deadline": None,
    "suppress_health_check": list(HealthCheck),
    "derandomize": True,
    "database": None,
}

# As schemathesis runs its stateful phase: generation only (a replay against a server
# whose state has moved on would not mean the same), not derandomized.
STATEFUL = {
    "phases": [Phase.generate],
    "stateful_step_count": STEPS,
    "deadline": None,
    "suppress_health_check": list(HealthCheck),
    "database": None,
}

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@dataclass
class Live:
    server: object
    auth: str
    ids: dict
    turn: itertools.count = field(default_factory=itertools.count)
    calls: Counter = field(default_factory=Counter)
    reached: set = field(default_factory=set)  # operations the stateful phase called
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, what: str):
        with self.lock:
            self.calls[what] += 1

    @property
    def headers(self):
        return {"Authorization": self.auth}


def seed() -> dict:
    """Accounts (one in a group, one in EUR), a draft and an issued invoice, a payment,
    a wallet with a grant applied to the issued invoice (a credit memo)."""
    actor = ledger.system_actor("live fuzz")
    group = ledger.create_group(name="Fuzz group", actor=actor)
    account = ledger.create_account(
        name="Fuzz", email="fuzz@example.test", currency="GBP", actor=actor, group=group
    )
    euro = ledger.create_account(
        name="Fuzz EUR", email="eur@example.test", currency="EUR", actor=actor
    )
    pay.record_payment(account=account, amount="500.00", method="cash", actor=actor)
    draft = ledger.create_invoice(account=account, actor=actor, lines=[LineSpec("A", "1", "40")])
    issued = pay.issue_invoice(
        invoice=ledger.create_invoice(
            account=account, actor=actor, lines=[LineSpec("B", "2", "450")]
        ),
        actor=actor,
    )
    wallet = wallets.create_wallet(account=account, name="Fuzz wallet", actor=actor)
    wallets.top_up(wallet=wallet, amount="1000.00", actor=actor, grant=True)
    pay.apply_wallet(wallet=wallet, invoice=issued, amount="10.00", actor=actor)
    return {
        "accounts": [account.pk, euro.pk],
        "account-groups": [group.pk],
        "invoices": [draft.pk, issued.pk],
        "payments": [issued.payments.order_by("-id").first().pk],
        "wallets": [wallet.pk],
        "credit-memos": [issued.credit_memos.first().pk],
    }


@pytest.fixture
def live(gunicorn_server, full_key):
    ids = seed()
    server = gunicorn_server()
    live = Live(server=server, auth=full_key[1], ids=ids)
    yield live
    reached = f", {len(live.reached)} operations reached statefully" if live.reached else ""
    print(f"\nlive fuzz: {dict(live.calls)}{reached}")
    call_command("verify_ledger", verbosity=0)  # whatever the fuzz did, the ledger adds up


@pytest.fixture
def live_schema(live):
    return schemathesis.openapi.from_url(f"{live.server.base_url}/api/v1/schema/", timeout=60)


def steer(case, live: Live):
    """Every other example: point path ids and body references at real objects."""
    if next(live.turn) % 2:
        return
    resource = case.operation.path.split("/")[3]
    if "id" in (case.path_parameters or {}) and resource in live.ids:
        choices = live.ids[resource]
        case.path_parameters["id"] = choices[next(live.turn) % len(choices)]
    if isinstance(case.body, dict):
        for name, resource in (("account", "accounts"), ("invoice", "invoices")):
            if name in case.body and isinstance(case.body[name], int):
                case.body[name] = live.ids[resource][0]


def fuzz(operation, live: Live) -> str | None:
    """``EXAMPLES`` cases of one operation, positive and negative data; the failure
    (hypothesis' shrunk counterexample, with schemathesis' curl to replay it) or None."""
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @settings(max_examples=EXAMPLES, **HYPOTHESIS)
    @given(case=cases)
    def run(case):
        steer(case, live)
        response = case.call(headers=live.headers, timeout=60)
        live.count("stateless")
        case.validate_response(response, checks=CHECKS, headers=live.headers)

    try:
        run()
    except Exception as failure:  # reported per operation by the test
        return "".join(traceback.format_exception(failure))
    return None


_FORKED = None  # (operations, live): what the forked fuzzing processes inherit


def fuzz_forked(index: int) -> tuple[int, str | None]:
    operations, live = _FORKED
    before = live.calls["stateless"]
    failure = fuzz(operations[index], live)
    return live.calls["stateless"] - before, failure


def _in_forked_processes(count: int) -> list[tuple[int, str | None]]:
    """``fuzz_forked`` for each index, ``FUZZ_PROCESSES`` at once. A forked process that
    dies (forking a process that has threads can leave a child stuck on a lock) breaks
    the pool instead of hanging it (``multiprocessing.Pool`` waited forever for the lost
    task), and so does a pool that stops making progress: whatever it did not finish is
    then fuzzed here, in this process, one operation after another."""
    results: list = [None] * count
    pool = ProcessPoolExecutor(FUZZ_PROCESSES, mp_context=multiprocessing.get_context("fork"))
    try:
        futures = {pool.submit(fuzz_forked, index): index for index in range(count)}
        for future in as_completed(futures, timeout=FUZZ_POOL_SECONDS):
            results[futures[future]] = future.result()
    except (BrokenProcessPool, TimeoutError):
        pass  # finished below
    finally:
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()  # a stuck child must not keep the shutdown waiting
        pool.shutdown(wait=False, cancel_futures=True)
    for index, result in enumerate(results):
        if result is None:
            _operations, live = _FORKED
            results[index] = fuzz_forked(index)
            live.calls["stateless"] -= results[index][0]  # counted by the caller, once
    return results


def fuzz_every_operation(live_schema, live, subtests):
    """Every operation of the schema, each reported as a subtest of its own.

    ``FUZZ_PROCESSES`` operations at once, in forked processes (one generates cases
    while another waits for the server): not threads, as CPython 3.11's ``ast.parse``,
    which hypothesis calls while it builds strategies, is not thread-safe (gh-106905).
    They only speak HTTP: the Django connection they inherit is never used. (And not
    ``schemathesis.pytest.from_fixture``: it needs a private attribute pytest 9 dropped.)
    """
    global _FORKED
    operations = [result.ok() for result in live_schema.get_all_operations()]
    assert len(operations) >= 40, [o.label for o in operations]
    _FORKED = (operations, live)
    try:
        results = _in_forked_processes(len(operations))
    finally:
        _FORKED = None
    live.calls["stateless"] += sum(calls for calls, _ in results)
    live.calls["operations"] = len(operations)
    for operation, (_, failure) in zip(operations, results, strict=True):
        with subtests.test(msg=operation.label):
            if failure is not None:
                pytest.fail(failure, pytrace=False)


def run_stateful_phase(live_schema, live):
    """schemathesis' state machine: scenarios of calls chained by the links it infers."""

    class LiveMachine(live_schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": live.headers, "timeout": 60}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            live.count("stateful calls")
            live.reached.add(case.operation.label)
            case.validate_response(
                response, checks=CHECKS, transport_kwargs=kwargs, recorder=self.recorder
            )

        def teardown(self):
            live.count("stateful scenarios")
            super().teardown()

    # The server's state moves on between scenarios, so hypothesis may find that a
    # prefix it replays no longer draws the same rules (FlakyStrategyDefinition: a
    # bundle that was full is empty now). schemathesis' own runner starts the phase
    # again when that happens; so does this loop, until SCENARIOS have run. A failed
    # check is a FailureGroup (or FlakyFailure when it did not happen again): it fails.
    for _ in range(10):
        left = SCENARIOS - live.calls["stateful scenarios"]
        if left <= 0:
            break
        try:
            LiveMachine.run(settings=settings(max_examples=left, **STATEFUL))
        except FlakyStrategyDefinition:
            live.count("stateful restarts")
    assert live.calls["stateful scenarios"] >= SCENARIOS, live.calls


def assert_refusals_documented(live):
    """The fuzz is not throttled and the database stays up, but a 429 or a 503 must
    conform too: every operation documents both (test_faults sees real 503s)."""
    paths = live.server.request("GET", "/api/v1/schema/?format=json").json()["paths"]
    missing = [
        f"{method.upper()} {path}"
        for path, operations in paths.items()
        for method, operation in operations.items()
        if not {"429", "503"} <= set(operation["responses"])
    ]
    assert not missing, missing


def test_live_fuzz(live_schema, live, subtests):
    css = live.server.request("GET", STATIC_PROBE)  # DEBUG is off: WhiteNoise serves it
    assert css.status == 200 and css.headers["Content-Type"].startswith("text/css"), css
    assert b"body" in css.body
    assert_refusals_documented(live)
    fuzz_every_operation(live_schema, live, subtests)
    run_stateful_phase(live_schema, live)

"""Benchmark: what the transactional outbox costs (issue 14), outbox on vs off in the
same run, one process, in many short rounds, on and off back to back in each (which goes
first alternates): a round's cost compares two blocks run moments apart, so a load that
comes and goes on a shared machine hits both; the cost is the median of the rounds', the
rates the medians of each mode's.

* ``posting``: ``payments.record_payment`` — a ``PAYM`` posting and its
  ``payment.completed`` event (the payment rendered as the API shows it);
* ``drawdown``: ``wallets.usage_drawdown`` — writes no event today (``wallet.low_balance``
  and ``wallet.depleted`` are the wallet alerts' work), so on and off should be equal;
* ``drawdown + wallet event``: the drawdown and one wallet event in its transaction,
  the cost an alert adds when it fires;
* ``emit alone``: one ``events.emit`` of a wallet in its own transaction.

"Off" is ``settings.BILLFOLD_OUTBOX = False`` (bench only: ``emit`` writes nothing).

    DATABASE_URL=postgres://... .venv/bin/python bench/outbox_bench.py  # markdown out
    BENCH_OUTBOX_OPS=50 BENCH_OUTBOX_ROUNDS=15 (defaults) set the size.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django  # noqa: E402

OPS = int(os.environ.get("BENCH_OUTBOX_OPS") or 50)
ROUNDS = int(os.environ.get("BENCH_OUTBOX_ROUNDS") or 15)
TARGET = 0.15  # the issue's: at most 15 % slower with the outbox on


def _world():
    from ledger import services as ledger
    from wallets import services as wallets

    actor = ledger.system_actor("bench:outbox")
    account = ledger.create_account(
        name=f"Outbox bench {time.time_ns()}", email="b@example.test", currency="GBP", actor=actor
    )
    wallet = wallets.create_wallet(account=account, name="Meter", actor=actor)
    wallets.top_up(wallet=wallet, amount="1000000.00", actor=actor, grant=True)
    return actor, account, wallet


def _operations(actor, account, wallet) -> dict:
    from django.db import transaction

    from events import services as events
    from payments import services as pay
    from wallets import services as wallets

    counter = iter(range(10**9))

    def posting():
        pay.record_payment(account=account.pk, amount="1.00", method="cash", actor=actor)

    def drawdown():
        wallets.usage_drawdown(
            wallet=wallet.pk, amount="0.01", reference=f"m-{next(counter)}", actor=actor
        )

    def drawdown_and_event():
        with transaction.atomic():
            drawdown()
            events.emit_wallet_low_balance(wallet)

    def emit_alone():
        with transaction.atomic():
            events.emit_wallet_depleted(wallet)

    return {
        "posting": posting,
        "drawdown": drawdown,
        "drawdown + wallet event": drawdown_and_event,
        "emit alone": emit_alone,
    }


def _rate(op, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        op()
    return n / (time.perf_counter() - start)


def measure(ops: int = OPS, rounds: int = ROUNDS) -> dict:
    from django.test import override_settings

    from events.models import Event

    operations = _operations(*_world())
    rates = {(name, mode): [] for name in operations for mode in ("on", "off")}
    costs = {name: [] for name in operations}
    for op in operations.values():  # warm up: caches, prepared statements
        _rate(op, 10)
    for r in range(rounds):
        for name, op in operations.items():
            got = {}
            for mode in ("on", "off") if r % 2 == 0 else ("off", "on"):
                with override_settings(BILLFOLD_OUTBOX=mode == "on"):
                    got[mode] = _rate(op, ops)
                rates[name, mode].append(got[mode])
            costs[name].append((got["off"] - got["on"]) / got["off"])
    figures = {key: statistics.median(values) for key, values in rates.items()}
    cost = {name: statistics.median(values) for name, values in costs.items()}
    return {"figures": figures, "cost": cost, "events": Event.objects.count()}


def render(result: dict, ops: int = OPS, rounds: int = ROUNDS) -> tuple[str, bool]:
    best, costs = result["figures"], result["cost"]
    names = dict.fromkeys(name for name, _mode in best)
    lines = [
        "## Outbox: events written in the operation's transaction, on vs off",
        "",
        f"One process, {rounds} rounds of {ops} operations, on and off back to back in each "
        "round (alternating which first); rates: medians; cost: the median of the rounds' "
        "costs. Target: posting and drawdown at most 15 % slower with the outbox on.",
        "",
        "| operation | outbox on (ops/s) | outbox off (ops/s) | cost | events/s (on) |",
        "|---|---:|---:|---:|---:|",
    ]
    ok = True
    for name in names:
        on, off = best[name, "on"], best[name, "off"]
        cost = costs[name]
        events = on if name != "drawdown" else 0.0
        if name in ("posting", "drawdown") and cost > TARGET:
            ok = False
        lines.append(f"| {name} | {on:,.0f} | {off:,.0f} | {cost:+.1%} | {events:,.0f} |")
    lines += ["", f"Target met: {'yes' if ok else 'NO'}."]
    return "\n".join(lines) + "\n", ok


def main() -> int:
    setup_django()
    text, ok = render(measure())
    sys.stdout.write(text)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Faults under load: a burst of mark-paid and wallet drawdowns, each with its own
``Idempotency-Key``, from several client threads against a live gunicorn; during the
burst a worker is killed with SIGKILL and PostgreSQL (the cluster the test database is
on, found from the test's own connection) is restarted.

Every request is retried with the same key until it gets an answer below 500 (a lock
timeout's 409 is retried too). Afterwards: no answer was a 500 (a refusal is a 503
with ``Retry-After``, or the connection dropped), every key had exactly one effect (one
``PAYM`` entry per mark-paid, one wallet transaction per drawdown) and replays without
another, and ``verify_ledger`` passes.
"""

import http.client
import itertools
import os
import queue
import random
import shlex
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection, connections

from ledger import services as ledger
from ledger.models import EntryKind, LedgerEntry
from ledger.services import LineSpec
from payments import services as pay
from payments.models import Payment
from wallets import services as wallets
from wallets.models import Wallet, WalletTransaction

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ACCOUNTS = 4
INVOICES_PER_ACCOUNT = 12  # 48 invoices, each marked paid twice (two part payments)
WALLETS = 4
DRAWDOWNS_PER_WALLET = 26  # 104 drawdowns
CLIENTS = 8
KILL_AT, RESTART_AT = 0.15, 0.4  # share of the requests answered when each fault fires
OUTAGE = 1.5  # seconds PostgreSQL stays down
GIVE_UP_AFTER = 120  # seconds a single request may keep being retried


@dataclass
class Job:
    kind: str  # "mark-paid" | "drawdown"
    path: str
    body: dict
    key: str
    expect: int
    attempts: list = field(default_factory=list)  # (seconds into the burst, outcome)
    final: object = None


# -- The cluster the test database lives on ----------------------------------------------


@dataclass
class Cluster:
    data_dir: Path
    port: int
    pg_ctl: Path
    options: str  # the server's command-line options, from postmaster.opts
    owner: str

    def pg_ctl_run(self, log: Path, *args: str) -> None:
        command = [str(self.pg_ctl), "-D", str(self.data_dir), "-w", "-t", "60", *args]
        if os.geteuid() == 0 and self.owner != "root":
            command = ["runuser", "-u", self.owner, "--", *command]
        with open(log, "ab") as out:
            done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, timeout=90)
        assert done.returncode == 0, log.read_text()

    def restart(self, log: Path, down_for: float) -> float:
        """Stop (``-m fast``: every backend is terminated, open transactions roll back),
        stay down ``down_for`` seconds (new connections are refused), start again with
        the same options. Returns the seconds it was not answering."""
        started = time.monotonic()
        try:
            self.pg_ctl_run(log, "-m", "fast", "stop")
            time.sleep(down_for)
        finally:  # whatever happened, the rest of the suite needs its database back
            server_log = str(self.data_dir / "server.log")
            self.pg_ctl_run(log, "-l", server_log, "-o", self.options, "start")
        return time.monotonic() - started


def throwaway_cluster() -> Cluster:
    """The cluster of this connection, if it is a throw-away one of ``scripts/pg.sh`` on
    this machine that we may restart (never a developer's own server)."""
    if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1) > 1:
        pytest.skip("other pytest-xdist workers use this PostgreSQL: not restarting it")
    with connection.cursor() as cursor:
        cursor.execute("SHOW data_directory")
        data_dir = Path(cursor.fetchone()[0])
        cursor.execute("SHOW port")
        port = int(cursor.fetchone()[0])
    ours = {Path(f"/tmp/billfold-pg-{port}")}
    if os.environ.get("BILLFOLD_PG_DATA"):
        ours.add(Path(os.environ["BILLFOLD_PG_DATA"]))
    if data_dir not in ours:
        pytest.skip(f"{data_dir} is not a throw-away cluster of scripts/pg.sh: not restarting it")
    opts = data_dir / "postmaster.opts"
    pid_file = data_dir / "postmaster.pid"
    if not (opts.exists() and pid_file.exists()):
        pytest.skip(f"PostgreSQL's data directory {data_dir} is not on this machine")
    assert pid_file.read_text().splitlines()[3] == str(port)  # the server we talk to
    # postmaster.opts: the server's command line, `/usr/lib/.../postgres "-D" "<dir>" ...`
    postgres, *args = shlex.split(opts.read_text())
    pg_ctl = Path(postgres).with_name("pg_ctl")
    assert pg_ctl.exists(), pg_ctl
    if "-D" in args:
        del args[args.index("-D") : args.index("-D") + 2]  # pg_ctl passes its own -D
    owner = data_dir.owner()
    if os.geteuid() not in (0, data_dir.stat().st_uid):
        pytest.skip(f"cannot restart PostgreSQL: {data_dir} belongs to {owner}")
    return Cluster(data_dir, port, pg_ctl, options=shlex.join(args), owner=owner)


# -- Seed and requests -------------------------------------------------------------------


def money(amount: str) -> dict:
    return {"amount": amount, "currency": "GBP"}


def seed() -> list[Job]:
    actor = ledger.system_actor("live faults")
    jobs = []
    for a in range(ACCOUNTS):
        account = ledger.create_account(
            name=f"Burst {a}", email=f"burst{a}@example.test", currency="GBP", actor=actor
        )
        for i in range(INVOICES_PER_ACCOUNT):
            invoice = ledger.create_invoice(
                account=account, actor=actor, lines=[LineSpec(f"Usage {i}", "1", "100.00")]
            )
            invoice = pay.issue_invoice(invoice=invoice, actor=actor)
            for part in range(2):
                key = f"mark-paid-{invoice.pk}-{part}"
                body = {"method": "bank_transfer", "amount": money("10.00"), "reference": key}
                path = f"/api/v1/invoices/{invoice.pk}/mark-paid/"
                jobs.append(Job("mark-paid", path, body, key, expect=200))
        if a < WALLETS:
            wallet = wallets.create_wallet(account=account, name=f"Meter {a}", actor=actor)
            wallets.top_up(wallet=wallet, amount="1000.00", actor=actor, grant=True)
            for d in range(DRAWDOWNS_PER_WALLET):
                key = f"drawdown-{wallet.pk}-{d}"
                body = {"amount": money("1.00"), "reference": key, "description": "burst"}
                path = f"/api/v1/wallets/{wallet.pk}/drawdowns/"
                jobs.append(Job("drawdown", path, body, key, expect=201))
    random.Random(13).shuffle(jobs)
    return jobs


def retryable(answer) -> bool:
    if answer.status >= 500:
        return True
    return answer.status == 409 and (answer.json() or {}).get("error") == "lock_timeout"


def send_until_answered(server, auth, job: Job, t0: float) -> None:
    """The same request, same key, until it gets an answer below 500 (not a lock timeout)."""
    headers = {"Authorization": auth, "Idempotency-Key": job.key}
    give_up = time.monotonic() + GIVE_UP_AFTER
    while True:
        try:
            answer = server.request("POST", job.path, job.body, headers, timeout=60)
        except (OSError, http.client.HTTPException) as dropped:
            job.attempts.append((time.monotonic() - t0, type(dropped).__name__, None))
            wait = 0.2
        else:
            job.attempts.append((time.monotonic() - t0, answer.status, answer))
            if not retryable(answer):
                job.final = answer
                return
            # Retry-After is 2-30 s; a client may come back sooner, the burst is short.
            wait = min(float(answer.headers.get("Retry-After") or 1), 0.5)
        if time.monotonic() > give_up:
            job.final = job.attempts[-1][1]
            return
        time.sleep(wait)


@dataclass
class Faults:
    killed: list = field(default_factory=list)
    restart_at: float = 0.0
    restart_seconds: float = 0.0
    errors: list = field(default_factory=list)


def inject(server, cluster, progress, total, faults, t0, log):
    """Kill a worker at ``KILL_AT`` of the answers, restart PostgreSQL at ``RESTART_AT``."""

    def wait_for(share):
        deadline = time.monotonic() + GIVE_UP_AFTER
        while progress() < share * total:
            assert time.monotonic() < deadline, f"the burst stalled at {progress()} answers"
            time.sleep(0.01)

    try:
        wait_for(KILL_AT)
        victim = server.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        faults.killed.append((time.monotonic() - t0, victim))
        wait_for(RESTART_AT)
        faults.restart_at = time.monotonic() - t0
        faults.restart_seconds = cluster.restart(log, down_for=OUTAGE)
    except BaseException as exc:  # reported by the test
        faults.errors.append(exc)


def burst(server, auth, jobs, cluster, log) -> Faults:
    todo = queue.Queue()
    for job in jobs:
        todo.put(job)
    answered = itertools.count()
    counter = {"n": 0}
    lock = threading.Lock()
    t0 = time.monotonic()

    def client():
        while True:
            try:
                job = todo.get_nowait()
            except queue.Empty:
                return
            send_until_answered(server, auth, job, t0)
            with lock:
                counter["n"] = next(answered) + 1

    faults = Faults()
    injector = threading.Thread(
        target=inject,
        args=(server, cluster, lambda: counter["n"], len(jobs), faults, t0, log),
        daemon=True,
    )
    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    injector.start()
    for thread in threads:
        thread.start()
    for thread in [*threads, injector]:
        thread.join(GIVE_UP_AFTER + 120)
        assert not thread.is_alive(), "the burst did not finish"
    assert not faults.errors, faults.errors
    return faults


# -- The test ----------------------------------------------------------------------------


def effects(job: Job) -> int:
    if job.kind == "drawdown":
        return WalletTransaction.objects.filter(usage_reference=job.key).count()
    payments = Payment.objects.filter(reference=job.key).values("pk")
    return LedgerEntry.objects.filter(
        kind=EntryKind.PAYMENT,
        source_type=ContentType.objects.get_for_model(Payment),
        source_id__in=payments,
    ).count()


def outcomes(jobs, since=0.0, until=float("inf")) -> Counter:
    """``"200"``, ``"503 database_unavailable"``, ``"RemoteDisconnected"``... -> how many
    attempts ended so, between ``since`` and ``until`` seconds into the burst."""
    seen = Counter()
    for job in jobs:
        for at, outcome, answer in job.attempts:
            if since <= at <= until:
                error = (
                    (answer.json() or {}).get("error") if answer and answer.status >= 300 else None
                )
                seen[f"{outcome} {error}" if error else str(outcome)] += 1
    return seen


def replayed(jobs) -> int:
    """Requests whose answer was a replay: an earlier attempt had had its effect (say,
    committed just before its worker was killed) though its answer never arrived."""
    return sum(
        getattr(job.final, "headers", {}).get("Idempotent-Replayed") == "true" for job in jobs
    )


TEMPLATES = {
    "mark-paid": "/api/v1/invoices/{id}/mark-paid/",
    "drawdown": "/api/v1/wallets/{id}/drawdowns/",
}


def assert_no_500(jobs, server, summary):
    """Every refusal was a 503 (or a lock timeout's 409) with Retry-After in the API's
    error shape, as the schema documents it, or a dropped connection; and the server
    logged no 500."""
    statuses = {o for job in jobs for _, o, _ in job.attempts if isinstance(o, int)}
    assert statuses <= {200, 201, 409, 503}, summary
    paths = server.request("GET", "/api/v1/schema/?format=json").json()["paths"]
    refusals = ("lock_timeout", "database_unavailable", "statement_timeout")
    for job in jobs:
        documented = paths[TEMPLATES[job.kind]]["post"]["responses"]
        for _, status, answer in job.attempts:
            if status in (409, 503):
                assert answer.headers.get("Retry-After"), (job.key, answer)
                assert answer.headers["Content-Type"] == "application/json"
                body = answer.json() or {}
                assert body.get("error") in refusals and set(body) == {"error", "detail", "field"}
                assert str(status) in documented, (job.kind, status)
    assert "Internal Server Error" not in server.output()


def assert_one_effect_per_key(jobs, server, auth, summary):
    unanswered = [(j.key, j.final) for j in jobs if getattr(j.final, "status", None) != j.expect]
    assert not unanswered, (unanswered[:5], summary)
    assert {j.key: effects(j) for j in jobs} == {j.key: 1 for j in jobs}
    # A retry now replays the first answer and changes nothing.
    for job in jobs[:: len(jobs) // 20]:
        headers = {"Authorization": auth, "Idempotency-Key": job.key}
        again = server.request("POST", job.path, job.body, headers)
        assert again.status == job.expect and again.headers.get("Idempotent-Replayed") == "true"
        assert again.json() == job.final.json()
        assert effects(job) == 1
    # And the money adds up.
    for wallet in Wallet.objects.all():
        assert wallet.consumed.amount == Decimal(DRAWDOWNS_PER_WALLET)
    paym = LedgerEntry.objects.filter(kind=EntryKind.PAYMENT)
    assert paym.count() == sum(j.kind == "mark-paid" for j in jobs)


def test_kill_a_worker_and_restart_postgres_during_a_burst(gunicorn_server, full_key, tmp_path):
    cluster = throwaway_cluster()
    jobs = seed()
    # Connections kept between requests (as README "Deploy" suggests under gunicorn):
    # after the restart every one of them is dead, and must be a 503, not a 500.
    server = gunicorn_server(CONN_MAX_AGE="60")
    workers_before = server.worker_pids()
    connections.close_all()  # this process' own connection dies with the restart

    started = time.monotonic()
    faults = burst(server, full_key[1], jobs, cluster, tmp_path / "pg_ctl.log")
    seconds = time.monotonic() - started
    connections.close_all()

    seen = outcomes(jobs)
    # Answers that arrived while PostgreSQL was down, or within 2 s after.
    outage = outcomes(jobs, faults.restart_at, faults.restart_at + faults.restart_seconds + 2)
    summary = (
        f"{len(jobs)} requests in {seconds:.1f} s, {sum(seen.values())} attempts {dict(seen)}, "
        f"{replayed(jobs)} answered by a replay; "
        f"killed {faults.killed}, PostgreSQL stopped at {faults.restart_at:.1f} s "
        f"for {faults.restart_seconds:.1f} s, answers meanwhile (+2 s) {dict(outage)}"
    )
    print(f"\nfaults: {summary}")
    # The faults happened and were felt.
    assert faults.killed and faults.restart_seconds, summary
    assert seen["503 database_unavailable"] > 0, summary
    workers_after = server.worker_pids()
    assert len(workers_after) == len(workers_before)
    assert faults.killed[0][1] not in workers_after  # the master replaced the killed one

    assert_no_500(jobs, server, summary)
    assert_one_effect_per_key(jobs, server, full_key[1], summary)
    call_command("verify_ledger", verbosity=0)

"""Hand-off acceptance under load: Relais against a floor doing the same writes, on gunicorn and
a populated PostgreSQL database.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/relais-10k RELAIS_ENV=development \\
        .venv/bin/python bench/handoff_load.py [--clients 8 16] [--seconds 8] [--rounds 3]

The database must hold the demo network and a synthetic caseload (``flask --app app db
upgrade && flask --app app demo load && flask --app app demo generate --people 10000``), made
with the development keys of this checkout's instance folder. The script starts two gunicorn
servers with the repository's ``gunicorn.conf.py`` (``--workers``, 4 by default): Relais, and
the floor of ``bench/handoff_floor.py`` (the same session cookie check, then the same writes in
raw SQL in one transaction, or one UPDATE). Every client is a process of its own, signed in as
one of four receiving caseworkers with a session of its own; it posts as fast as answers come.

After a short warm-up of each variant (not counted: each worker's first requests load its
templates and catalogs), each round, for each number of clients, runs in turn (interleaved):

* ``relais``: ``POST /handoffs/<id>/accept`` as the page's form does (CSRF token included);
* ``floor``: ``POST /floor/accept/<id>`` with the same cookie;
* ``one-update``: ``POST /floor/one-update/<id>`` with the same cookie (reference only).

The pending hand-offs are written for the bench before each run (raw SQL: the demo's Mission
Locale sends people of the caseload to the four receivers, purpose training); those a run
leaves pending are deleted after it. Afterwards every hand-off acknowledged by Relais or by the
floor is checked in the database: accepted, with its transition, the receiver's follow-up,
the sender's mail and the person's pathway state counting the day. ``--verify-audit`` then runs ``flask audit verify`` (the floor chains its
audit rows as Relais does). Each run's line also gives its CPU per answer, read from ``/proc``
(``bench/process_cpu.py``): the server's gunicorn workers, PostgreSQL (its server processes and
the bench database's connections) and the client processes - the three share the machine, so
throughput follows their sum; the medians by variant are printed at the end. The ratio printed
last is the median, over rounds and numbers of clients, of Relais's accepts per second divided
by the floor's in the same round.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from process_cpu import cpu_of  # noqa: E402

from app.demo.data.network import DEMO_PASSWORD  # noqa: E402

SENDER = "conseil@ml90.demo"
RECEIVERS = (
    "conseil@ft90.demo",
    "conseil@e2c90.demo",
    "conseil@plie90.demo",
    "conseil@unis90.demo",
)
VARIANTS = ("relais", "floor", "one-update")
LOGS = Path(tempfile.gettempdir())  # the servers' output, when one does not start
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass(frozen=True)
class Client:
    """A signed-in session of one receiving caseworker."""

    email: str
    structure_id: int
    cookies: dict[str, str]
    csrf: str


@dataclass
class Run:
    variant: str
    clients: int
    done: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    # CPU seconds the run cost, by whom: "server" (its gunicorn's workers), "postgres"
    # (PostgreSQL's server processes and the bench database's connections) and "clients".
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0


def _libpq(url: str) -> str:
    scheme, _sep, rest = url.partition("://")
    if not scheme.startswith("postgresql"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL database (postgresql+psycopg://...)")
    return f"postgresql://{rest}"


@dataclass(frozen=True)
class Meter:
    """Whose CPU a run counts: the gunicorn masters' process ids by variant, the database."""

    servers: dict[str, int]
    database: str

    def read(self, variant: str) -> dict[str, float]:
        return cpu_of(self.servers["relais" if variant == "relais" else "floor"], self.database)


# -- servers ---------------------------------------------------------------------------------


def _start(
    name: str, port: int, workers: int, target: str, chdir: Path | None
) -> subprocess.Popen[bytes]:
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "-c",
        str(ROOT / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--no-control-socket",  # one per user by default: two servers, and other benches
    ]
    if chdir is not None:
        command += ["--chdir", str(chdir)]
    env = {**os.environ, "RELAIS_ANONYMOUS_POST_LIMIT": ""}  # sixteen sign-ins in a row
    log = (LOGS / f"relais-handoff-load-{name}.log").open("wb")  # noqa: SIM115 - the server's
    # Our own gunicorn with fixed arguments.
    return subprocess.Popen([*command, target], cwd=ROOT, env=env, stdout=log, stderr=log)  # noqa: S603


def _wait(url: str, ok: set[int], server: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise SystemExit(
                f"the server of {url} stopped (see relais-handoff-load-*.log in {LOGS})"
            )
        try:
            if requests.post(url, timeout=2).status_code in ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} does not answer")


# -- the bench's data ------------------------------------------------------------------------


def _account(db: psycopg.Connection[Any], email: str) -> tuple[int, int]:
    found = db.execute("SELECT id, structure_id FROM users WHERE email = %s", (email,)).fetchone()
    if found is None:
        raise SystemExit(f"{email} is missing: is the demo loaded?")
    return int(found[0]), int(found[1])


def prepare(db: psycopg.Connection[Any], receiver: int, count: int) -> list[str]:
    """``count`` pending hand-offs from the sender's structure to ``receiver``, of people of the
    caseload who have none pending there (the unique index of pending hand-offs)."""
    sender, sender_structure = _account(db, SENDER)
    rows = db.execute(
        """
        INSERT INTO handoffs (id, beneficiary_id, from_structure_id, from_user_id, to_structure_id,
            purpose_stage_id, consent_confirmed, status, sent_at, version)
        SELECT gen_random_uuid(), b.id, %(from)s, %(sender)s, %(to)s, stage.id, true, 'sent',
            now(), 1
        FROM beneficiaries b, reference_items stage
        WHERE stage.kind = 'stage' AND stage.code = 'training' AND b.erased_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM handoffs h WHERE h.beneficiary_id = b.id
              AND h.from_structure_id = %(from)s AND h.to_structure_id = %(to)s
              AND h.purpose_stage_id = stage.id AND h.status = 'sent')
        ORDER BY random() LIMIT %(count)s
        RETURNING id
        """,
        {"from": sender_structure, "sender": sender, "to": receiver, "count": count},
    ).fetchall()
    db.commit()
    if len(rows) < count:
        raise SystemExit(
            f"only {len(rows)} people to send to structure {receiver}; lower --per-client"
        )
    return [row[0].hex for row in rows]


def forget_pending(db: psycopg.Connection[Any], ids: list[str]) -> None:
    """Delete the bench's hand-offs a run left pending (nothing else refers to them)."""
    db.execute(
        "DELETE FROM handoffs WHERE id = ANY(%s) AND status = 'sent'",
        ([uuid.UUID(i) for i in ids],),
    )
    db.commit()


def check(db: psycopg.Connection[Any], ids: list[str]) -> int:
    """How many of ``ids`` are accepted with their transition, their receiver's open follow-up,
    the sender's mail and the person's pathway state counting the day."""
    found = db.execute(
        """
        SELECT count(*) FROM handoffs h
        WHERE h.id = ANY(%s) AND h.status = 'accepted'
          AND EXISTS (SELECT 1 FROM handoff_transitions t WHERE t.handoff_id = h.id
              AND t.event = 'accept')
          AND EXISTS (SELECT 1 FROM follow_ups f WHERE f.beneficiary_id = h.beneficiary_id
              AND f.structure_id = h.to_structure_id AND f.ended_on IS NULL)
          AND EXISTS (SELECT 1 FROM mail_outbox m WHERE m.handoff_id = h.id
              AND m.kind = 'handoff_accepted')
          AND EXISTS (SELECT 1 FROM beneficiaries b WHERE b.id = h.beneficiary_id
              AND b.last_event_on >= h.answered_on)
        """,
        ([uuid.UUID(i) for i in ids],),
    ).fetchone()
    return int(found[0]) if found else 0


# -- clients ---------------------------------------------------------------------------------


def sign_in(base: str, email: str, structure_id: int) -> Client:
    http = requests.Session()
    page = http.get(f"{base}/login", timeout=30).text
    token = TOKEN.search(page)
    assert token, "no CSRF token on /login"
    answer = http.post(
        f"{base}/login",
        data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 302 or answer.headers["Location"].endswith("/login/code"):
        raise SystemExit(f"cannot sign in as {email} (HTTP {answer.status_code})")
    page = http.get(f"{base}/account/contact", timeout=30).text
    token = TOKEN.search(page)
    assert token, "no CSRF token once signed in"
    cookies = {name: value or "" for name, value in http.cookies.get_dict().items()}
    return Client(email, structure_id, cookies, token.group(1))


def _client(
    variant: str,
    base: str,
    floor: str,
    client: Client,
    ids: list[str],
    start: Event,
    seconds: float,
    results: Any,
) -> None:
    http = requests.Session()
    # Every request carries the cookie of the sign-in, and what the answers set is dropped: a
    # browser follows the redirect and the page shows (and removes) the confirmation, while a
    # client that kept the cookie would carry every confirmation not shown yet, a cookie
    # growing with each accept.
    http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    latencies: list[float] = []
    accepted: list[str] = []
    errors = 0
    start.wait()
    began = time.perf_counter()
    deadline = began + seconds
    # The one UPDATE consumes nothing: it goes round its first rows until the time is up.
    sequence = itertools.cycle(ids[:64]) if variant == "one-update" else iter(ids)
    for handoff_id in sequence:
        if time.perf_counter() >= deadline:
            break
        sent = time.perf_counter()
        if variant == "relais":
            answer = http.post(
                f"{base}/handoffs/{handoff_id}/accept",
                data={"accept-csrf_token": client.csrf},
                cookies=client.cookies,
                allow_redirects=False,
                timeout=60,
            )
            ok = answer.status_code == 302 and handoff_id in answer.headers.get("Location", "")
        elif variant == "floor":
            answer = http.post(
                f"{floor}/floor/accept/{handoff_id}", cookies=client.cookies, timeout=60
            )
            ok = answer.status_code == 204
        else:
            answer = http.post(
                f"{floor}/floor/one-update/{handoff_id}", cookies=client.cookies, timeout=60
            )
            ok = answer.status_code == 204
        latencies.append(time.perf_counter() - sent)
        if ok:
            accepted.append(handoff_id)
        else:
            errors += 1
    results.put((accepted, errors, latencies, time.perf_counter() - began))


def run(
    variant: str,
    base: str,
    floor: str,
    clients: list[Client],
    batches: list[list[str]],
    seconds: float,
    meter: Meter,
) -> Run:
    """``clients`` answer their ``batches`` for ``seconds``; the CPU the run cost is counted
    from the start signal to the last client's exit (the server's workers, PostgreSQL's
    processes, the clients)."""
    context = multiprocessing.get_context("fork")
    start, results = context.Event(), context.Queue()
    processes = [
        context.Process(
            target=_client,
            args=(variant, base, floor, client, batch, start, seconds, results),
        )
        for client, batch in zip(clients, batches, strict=True)
    ]
    for process in processes:
        process.start()
    time.sleep(0.5)  # every client is ready before the first request
    before, clients_before = meter.read(variant), resource.getrusage(resource.RUSAGE_CHILDREN)
    start.set()
    outcome = Run(variant, len(clients))
    for _ in processes:
        accepted, errors, latencies, took = results.get()
        outcome.done += len(accepted)
        outcome.errors += errors
        outcome.latencies += latencies
        outcome.seconds = max(outcome.seconds, took)
        if variant != "one-update":  # its rows are not accepted: nothing to check
            outcome.accepted += accepted
    for process in processes:
        process.join()
    after, clients_after = meter.read(variant), resource.getrusage(resource.RUSAGE_CHILDREN)
    outcome.cpu = {name: after[name] - before[name] for name in after}
    outcome.cpu["clients"] = (clients_after.ru_utime + clients_after.ru_stime) - (
        clients_before.ru_utime + clients_before.ru_stime
    )
    return outcome


# -- the bench -------------------------------------------------------------------------------


def _batches(
    db: psycopg.Connection[Any],
    variant: str,
    clients: list[Client],
    per_client: int,
    pool: dict[int, list[str]],
) -> list[list[str]]:
    """What each client answers: fresh pending hand-offs of its structure (one UPDATE: rows of
    the pool, which it does not change)."""
    if variant == "one-update":
        return [
            pool[c.structure_id][(i * 64) % len(pool[c.structure_id]) :][:64]
            or pool[c.structure_id][:64]
            for i, c in enumerate(clients)
        ]
    by_structure: dict[int, list[Client]] = {}
    for client in clients:
        by_structure.setdefault(client.structure_id, []).append(client)
    fresh = {s: prepare(db, s, per_client * len(cs)) for s, cs in by_structure.items()}
    batches = []
    taken: dict[int, int] = {}
    for client in clients:
        n = taken.get(client.structure_id, 0)
        batches.append(fresh[client.structure_id][n * per_client : (n + 1) * per_client])
        taken[client.structure_id] = n + 1
    return batches


def _line(outcome: Run) -> str:
    cut = (
        statistics.quantiles(outcome.latencies, n=20) if len(outcome.latencies) > 1 else [0.0] * 19
    )
    return (
        f"{outcome.variant:>10} {outcome.per_second:7.1f}/s  p50 {cut[9] * 1000:6.1f} ms  "
        f"p95 {cut[18] * 1000:6.1f} ms  errors {outcome.errors}  CPU per answer (ms): "
        + ", ".join(f"{name} {ms:.1f}" for name, ms in _cpu_per_answer(outcome).items())
    )


def _cpu_per_answer(outcome: Run) -> dict[str, float]:
    done = max(outcome.done, 1)
    return {name: seconds * 1000 / done for name, seconds in outcome.cpu.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--per-client", type=int, default=600, help="hand-offs ready per client")
    parser.add_argument("--port", type=int, default=8431)
    parser.add_argument("--verify-audit", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    db = psycopg.connect(_libpq(url))
    base, floor = f"http://127.0.0.1:{args.port}", f"http://127.0.0.1:{args.port + 1}"
    servers = [
        _start("relais", args.port, args.workers, "app:create_app()", None),
        _start(
            "floor", args.port + 1, args.workers, "handoff_floor:create_floor()", ROOT / "bench"
        ),
    ]
    meter = Meter({"relais": servers[0].pid, "floor": servers[1].pid}, str(db.info.dbname))
    try:
        _wait(f"{base}/login", {400, 200}, servers[0])
        _wait(f"{floor}/floor/one-update/{uuid.uuid4().hex}", {403}, servers[1])
        _bench(args, db, base, floor, meter)
    finally:
        for server in servers:
            server.send_signal(signal.SIGQUIT)  # a quick shutdown
        for server in servers:
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()  # its workers are gone; the master lingers


def _bench(
    args: argparse.Namespace, db: psycopg.Connection[Any], base: str, floor: str, meter: Meter
) -> None:
    most = max(args.clients)
    accounts = [_account(db, RECEIVERS[i % len(RECEIVERS)]) for i in range(most)]
    signed = [sign_in(base, RECEIVERS[i % len(RECEIVERS)], accounts[i][1]) for i in range(most)]
    pool = {
        s: [
            row[0].hex
            for row in db.execute(
                "SELECT id FROM handoffs WHERE to_structure_id = %s ORDER BY id LIMIT 2048", (s,)
            )
        ]
        for s in {a[1] for a in accounts}
    }
    print(f"{most} sessions signed in; {args.workers} gunicorn workers each; load {_load()}")
    # Each worker's first requests load what it keeps afterwards (templates, catalogs, the
    # statements psycopg prepares): a short run of each variant first, not counted.
    warm = [
        _measure(db, variant, base, floor, signed, 20, pool, min(args.seconds, 3.0), meter)
        for variant in VARIANTS
    ]
    runs: list[Run] = []
    ratios: dict[int, list[float]] = {n: [] for n in args.clients}
    bare: dict[int, list[float]] = {n: [] for n in args.clients}
    for round_number in range(1, args.rounds + 1):
        for n in args.clients:
            clients = signed[:n]
            seen: dict[str, Run] = {}
            for variant in VARIANTS:
                seen[variant] = _measure(
                    db, variant, base, floor, clients, args.per_client, pool, args.seconds, meter
                )
                runs.append(seen[variant])
            print(f"round {round_number}, {n} clients (load {_load()}):")
            for variant in VARIANTS:
                print("  " + _line(seen[variant]))
            ratios[n].append(seen["relais"].per_second / seen["floor"].per_second)
            bare[n].append(seen["relais"].per_second / seen["one-update"].per_second)
    _report(db, args, runs, ratios, bare, warm)


def _measure(
    db: psycopg.Connection[Any],
    variant: str,
    base: str,
    floor: str,
    clients: list[Client],
    per_client: int,
    pool: dict[int, list[str]],
    seconds: float,
    meter: Meter,
) -> Run:
    """One run of ``variant``: its hand-offs written, answered, the rest deleted."""
    batches = _batches(db, variant, clients, per_client, pool)
    outcome = run(variant, base, floor, clients, batches, seconds, meter)
    if variant != "one-update":
        forget_pending(db, [i for b in batches for i in b])
    return outcome


def _report(
    db: psycopg.Connection[Any],
    args: argparse.Namespace,
    runs: list[Run],
    ratios: dict[int, list[float]],
    bare: dict[int, list[float]],
    warm: list[Run],
) -> None:
    for variant in ("relais", "floor"):
        acknowledged = [i for r in runs + warm if r.variant == variant for i in r.accepted]
        complete = check(db, acknowledged)
        print(
            f"{variant}: {complete} of {len(acknowledged)} acknowledged accepts complete in the database"
        )
        if complete != len(acknowledged):
            raise SystemExit("an acknowledged accept is missing a write")
    if args.verify_audit:
        verified = subprocess.run(  # noqa: S603 - our own flask command
            [str(Path(sys.executable).with_name("flask")), "--app", "app", "audit", "verify"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        print(f"audit verify: exit {verified.returncode}: {verified.stdout.strip()[-200:]}")
    print(f"load average at the end: {_load()}")
    for n in args.clients:
        per = {
            v: statistics.median(r.per_second for r in runs if r.variant == v and r.clients == n)
            for v in VARIANTS
        }
        print(
            f"{n} clients, medians of {args.rounds} rounds: relais {per['relais']:.1f}/s, "
            f"floor {per['floor']:.1f}/s, one-update {per['one-update']:.1f}/s; "
            f"relais/floor {min(ratios[n]):.2f}-{max(ratios[n]):.2f}"
        )
    for variant in VARIANTS:
        spent = [_cpu_per_answer(r) for r in runs if r.variant == variant]
        print(
            f"{variant} CPU per answer, median of the runs (ms): "
            + ", ".join(
                f"{name} {statistics.median(s[name] for s in spent):.2f}"
                for name in ("server", "postgres", "clients")
            )
        )
    every_bare = [r for n in args.clients for r in bare[n]]
    print(f"accept throughput vs one-UPDATE endpoint: {statistics.median(every_bare):.2f}")
    every = [r for n in args.clients for r in ratios[n]]
    print(f"accept throughput vs same-writes floor: {statistics.median(every):.2f}")


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


if __name__ == "__main__":
    main()

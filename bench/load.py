"""Mixed load on gunicorn + PostgreSQL with locust (headless, bounded in time), then a check that
every acknowledged write is in the database and that the audit chain verifies.

    pip install -e ".[bench]"          # locust, once
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/h8_10k RELAIS_ENV=development \\
        .venv/bin/python bench/load.py [--users 10,25,50] [--duration 60] [--workers 4]

The database holds the demo network and a synthetic caseload (``flask --app app demo load``
then ``flask --app app demo generate --people 10000``) made with this checkout's development
keys (``instance/relais-keys.json``). The script starts gunicorn (``gunicorn.conf.py``, on
``--port``, ``--workers`` workers, development settings with the anonymous-post limit off so
that sign-ins from one address are not throttled), signs every demo account in once (the users
of an account share its session: the runs measure no password hashing, and the coordinator's
second factor is answered once), then, for each number of users, runs locust for
``--duration`` seconds with every user spawned at once:

- caseworkers (four users in five), each one of the demo structures' caseworkers in turn:
  search the caseload by name, the caseload, a person's page, send a hand-off of that person (form, then post), the inbox of hand-offs waiting for an answer, one of them, accept it
  and record the first contact;
- coordinators (one user in five): dashboard, pathways (two pages), steering index.

Each user waits 0.5 to 2 s between two steps. A write counts as acknowledged when the
application answers it with its redirect to the hand-off (``303``/``302``); a form shown again
(a person without consent, a hand-off already answered by a colleague) is counted apart as
"refused", not as an error. Afterwards the script checks that each acknowledged hand-off exists
and each acknowledged accept and first contact has its transition, runs ``flask --app app
audit verify``, and prints per run and endpoint: requests, errors, p50/p95/p99 (ms) and
requests per second. The last line is ``load at N users: X req/s, p95 Y ms, E errors, M of W
acknowledged writes (all runs) missing, audit verify ok|FAILED``, one per run.
"""

from __future__ import annotations

# locust patches the standard library with gevent: it is imported first.
from locust import HttpUser, SequentialTaskSet, between, events, task  # isort: skip
from locust.env import Environment  # isort: skip

import argparse
import itertools
import os
import random
import re
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import gevent

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from app.demo.data.network import DEMO_PASSWORD  # noqa: E402
from app.domain.handoffs import HandoffEvent  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Beneficiary, Handoff, HandoffTransition, User  # noqa: E402
from app.services.security import second_factor  # noqa: E402

COORDINATOR = "coordination@relais.demo"
SURNAMES = ("Martin", "Bernard", "Petit", "Durand", "Moreau", "Laurent", "Garcia", "Roux")
PERSON = re.compile(r'href="/people/(P-[A-Z0-9]{4}-[A-Z0-9]{4})"')
HANDOFF = re.compile(r'href="/handoffs/([0-9a-f]{32})"')
REDIRECT = (302, 303)
ACKNOWLEDGED: list[tuple[str, str]] = []  # (what, hand-off id) answered with a redirect
REFUSED: Counter[str] = Counter()  # writes answered with the form shown again
SESSIONS: dict[str, dict[str, str]] = {}  # email: the cookies of its session
CASEWORKERS: list[str] = []
_next_caseworker = itertools.count()


class Forms(HTMLParser):
    """The forms of a page: their action, and the values a browser would send by default
    (hidden inputs, the first option of each select, the first radio of each group)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": {}, "options": {}})
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            fields = self.forms[-1]["fields"]
            kind = a.get("type", "text")
            if kind == "hidden" or (kind == "radio" and a["name"] not in fields):
                fields[a["name"]] = a.get("value", "")
            if kind == "radio":
                self.forms[-1]["options"].setdefault(a["name"], []).append(a.get("value", ""))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select and a.get("value"):
            self.forms[-1]["options"].setdefault(self._select, []).append(a["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def forms_of(html: str) -> list[dict[str, Any]]:
    parser = Forms()
    parser.feed(html)
    return parser.forms


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    return found.group(1) if found else ""


def acknowledged(response: Any, what: str, handoff_id: str | None = None) -> str:
    """Record a write answered with the redirect to its hand-off; "refused" for a form shown
    again (marked a success: the application said no, cleanly)."""
    if response.status_code in REDIRECT:
        found = re.search(r"/handoffs/([0-9a-f]{32})", response.headers.get("Location", ""))
        if found or handoff_id:
            ACKNOWLEDGED.append((what, handoff_id or found.group(1)))  # type: ignore[union-attr]
            response.success()
            return "ok"
    if response.status_code == 200:
        response.success()
        REFUSED[what] += 1
        return "refused"
    response.failure(f"HTTP {response.status_code}")
    return "error"


class CaseworkerJourney(SequentialTaskSet):
    person: str | None = None

    @task
    def search(self) -> None:
        page = self.client.get("/people/", name="caseload").text
        self.client.post(
            "/people/",
            data={"csrf_token": csrf(page), "q": random.choice(SURNAMES)},
            name="search",
        )

    @task
    def caseload(self) -> None:
        page = self.client.get("/people/?sort=idle", name="caseload").text
        people = PERSON.findall(page)
        self.person = random.choice(people) if people else None

    @task
    def person_page(self) -> None:
        if self.person:
            self.client.get(f"/people/{self.person}", name="person page")

    @task
    def send(self) -> None:
        if not self.person:
            return
        page = self.client.get(f"/handoffs/new/{self.person}", name="send: form").text
        found = [f for f in forms_of(page) if "to_structure" in f["options"]]
        if not found or not found[0]["options"].get("purpose"):
            return
        form = found[0]
        data = dict(form["fields"])
        data["to_structure"] = random.choice(form["options"]["to_structure"])
        data["purpose"] = random.choice(form["options"]["purpose"])
        data.update(consent_confirmed="y", send_anyway="y", send_to_full="y")
        with self.client.post(
            f"/handoffs/new/{self.person}",
            data=data,
            name="send",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            acknowledged(response, "send")

    @task
    def inbox_accept_first_contact(self) -> None:
        page = self.client.get("/handoffs/?status=sent", name="inbox").text
        waiting = HANDOFF.findall(page)
        if not waiting:
            return
        handoff = random.choice(waiting)
        for event in (HandoffEvent.ACCEPT, HandoffEvent.FIRST_CONTACT):
            detail = self.client.get(f"/handoffs/{handoff}", name="hand-off page").text
            action = f"/handoffs/{handoff}/{event.value}"
            form = next((f for f in forms_of(detail) if f["action"] == action), None)
            if form is None:
                return  # answered by a colleague meanwhile, or not the receiver's to answer
            data = {**form["fields"], "on": date.today().isoformat()}  # noqa: DTZ011
            with self.client.post(
                action, data=data, name=event.value, allow_redirects=False, catch_response=True
            ) as response:
                if acknowledged(response, event.value, handoff) != "ok":
                    return


class Caseworker(HttpUser):
    weight = 4
    wait_time = between(0.5, 2)
    tasks = [CaseworkerJourney]

    def on_start(self) -> None:
        email = CASEWORKERS[next(_next_caseworker) % len(CASEWORKERS)]
        for name, value in SESSIONS[email].items():
            self.client.cookies.set(name, value)


class Coordinator(HttpUser):
    weight = 1
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        for name, value in SESSIONS[COORDINATOR].items():
            self.client.cookies.set(name, value)

    @task
    def steering(self) -> None:
        for path, name in (
            ("/dashboard/", "dashboard"),
            ("/pathways/", "pathways"),
            ("/pathways/?page=2", "pathways"),
            ("/steering/", "steering"),
        ):
            self.client.get(path, name=name)
            gevent.sleep(random.uniform(0.5, 2))


def start_gunicorn(port: int, workers: int) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "RELAIS_ANONYMOUS_POST_LIMIT": "",
        "RELAIS_LOGIN_FRESH_CLIENT_DELAY_SECONDS": "0",
    }
    server = subprocess.Popen(  # noqa: S603 - this checkout's gunicorn, fixed arguments
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "app:create_app()",
        ],
        cwd=ROOT,
        env=environment,
    )
    for _ in range(120):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):  # noqa: S310
                return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("gunicorn did not answer /health within a minute")


def prepare(app: Any) -> tuple[int, str]:
    """The people count, the caseworkers' emails, and a fresh second factor for the
    coordinator (sealed with this checkout's keys); returns (people, TOTP seed)."""
    with app.app_context():
        session = db.session()
        people = session.scalar(select(func.count()).select_from(Beneficiary)) or 0
        CASEWORKERS[:] = session.scalars(
            select(User.email)
            .where(User.email.like("conseil@%.demo"), User.active.is_(True))
            .order_by(User.email)
        ).all()
        user = session.scalars(select(User).where(User.email == COORDINATOR)).one()
        second_factor.reset(session, None, user, end_sessions=False)
        seed = second_factor.enrol_now(
            session, app.extensions["relais_vault"].keys, None, user, now=datetime.now(UTC)
        ).seed
        session.commit()
        db.session.remove()
    return people, seed


def sign_in(host: str, email: str, seed: str | None = None) -> None:
    """Sign ``email`` in once (the second factor from ``seed``) and keep its session's cookies:
    the users of an account share its session, and the runs measure no password hashing."""
    import requests

    client = requests.Session()
    page = client.get(f"{host}/login").text
    done = client.post(
        f"{host}/login", data={"csrf_token": csrf(page), "email": email, "password": DEMO_PASSWORD}
    )
    if seed is not None:
        page = client.get(f"{host}/login/code").text
        code = second_factor.code_at(seed, second_factor.time_step(datetime.now(UTC)))
        done = client.post(f"{host}/login/code", data={"csrf_token": csrf(page), "code": code})
    if "/login" in done.url:
        raise SystemExit(f"{email} could not sign in")
    SESSIONS[email] = {name: value or "" for name, value in client.cookies.get_dict().items()}


def run(host: str, users: int, duration: int) -> dict[str, Any]:
    environment = Environment(user_classes=[Caseworker, Coordinator], events=events, host=host)
    runner = environment.create_local_runner()
    runner.start(users, spawn_rate=users)
    gevent.spawn_later(duration, runner.quit)
    runner.greenlet.join()
    rows = []
    for entry in sorted(environment.stats.entries.values(), key=lambda e: e.name):
        rows.append(
            (
                entry.name,
                entry.method,
                entry.num_requests,
                entry.num_failures,
                entry.get_response_time_percentile(0.5),
                entry.get_response_time_percentile(0.95),
                entry.get_response_time_percentile(0.99),
                entry.num_requests / duration,
            )
        )
    total = environment.stats.total
    return {
        "rows": rows,
        "requests": total.num_requests,
        "errors": total.num_failures,
        "p95": total.get_response_time_percentile(0.95),
        "rps": total.num_requests / duration,
    }


def missing_writes(app: Any) -> int:
    """How many acknowledged writes are not in the database."""
    missing = 0
    with app.app_context():
        session = db.session()
        for what, hex_id in ACKNOWLEDGED:
            handoff_id = __import__("uuid").UUID(hex_id)
            if what == "send":
                query = select(func.count()).select_from(Handoff).where(Handoff.id == handoff_id)
            else:
                query = (
                    select(func.count())
                    .select_from(HandoffTransition)
                    .where(
                        HandoffTransition.handoff_id == handoff_id,
                        HandoffTransition.event == HandoffEvent(what),
                    )
                )
            if not session.scalar(query):
                missing += 1
                print(f"  missing: {what} {hex_id}")
        db.session.remove()
    return missing


def audit_verifies() -> bool:
    done = subprocess.run(  # noqa: S603 - this checkout's flask, fixed arguments
        [str(Path(sys.executable).parent / "flask"), "--app", "app", "audit", "verify"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    print(f"audit verify (exit {done.returncode}): {done.stdout.strip().splitlines()[-1:]}")
    return done.returncode == 0


def print_run(users: int, result: dict[str, Any], load: str) -> None:
    print(f"\n{users} users, load average before: {load}")
    print(
        f"{'endpoint':16} {'method':6} {'reqs':>6} {'errors':>6} {'p50':>6} {'p95':>6} "
        f"{'p99':>6} {'req/s':>6}"
    )
    for name, method, n, errors, p50, p95, p99, rps in result["rows"]:
        print(
            f"{name:16} {method:6} {n:6d} {errors:6d} {p50:6.0f} {p95:6.0f} {p99:6.0f} {rps:6.1f}"
        )
    print(
        f"{'total':23} {result['requests']:6d} {result['errors']:6d} "
        f"{'':6} {result['p95']:6.0f} {'':6} {result['rps']:6.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="10,25,50")
    parser.add_argument("--duration", type=int, default=60, help="seconds per run")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=8091)
    args = parser.parse_args()
    counts = [int(n) for n in args.users.split(",")]
    app = create_app()
    with app.app_context():
        dialect = db.engine.dialect.name
    if dialect != "postgresql":
        raise SystemExit("bench/load.py runs against PostgreSQL: set DATABASE_URL")
    people, seed = prepare(app)
    host = f"http://127.0.0.1:{args.port}"
    server = start_gunicorn(args.port, args.workers)
    results = []
    try:
        sign_in(host, COORDINATOR, seed)
        for email in CASEWORKERS:
            sign_in(host, email)
        print(f"{people} people, gunicorn {args.workers} workers, {args.duration} s per run")
        for users in counts:
            load = Path("/proc/loadavg").read_text().strip()
            result = run(host, users, args.duration)
            print_run(users, result, load)
            results.append((users, result))
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()  # workers still busy with the last requests
            server.wait()
    writes = len(ACKNOWLEDGED)
    missing = missing_writes(app)
    kinds = {k: sum(1 for w, _ in ACKNOWLEDGED if w == k) for k in ("send", "accept")}
    print(
        f"\nacknowledged writes: {writes} ({kinds['send']} sends, {kinds['accept']} accepts, "
        f"{writes - kinds['send'] - kinds['accept']} first contacts), missing: {missing}"
    )
    print(f"refused (form shown again): {dict(REFUSED) or 'none'}")
    verified = audit_verifies()
    for users, result in results:
        print(
            f"load at {users} users: {result['rps']:.1f} req/s, p95 {result['p95']:.0f} ms, "
            f"{result['errors']} errors, {missing} of {writes} acknowledged writes (all runs) missing, "
            f"audit verify {'ok' if verified else 'FAILED'}"
        )


if __name__ == "__main__":
    main()

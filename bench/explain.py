"""EXPLAIN (ANALYZE, BUFFERS) every statement that the dashboard, steering and list pages issue,
on a populated PostgreSQL database, and write the plans to a report.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/h8_1m RELAIS_ENV=development \\
        .venv/bin/python bench/explain.py [--repeat 3] [--out FILE]

The database holds the demo network and a synthetic caseload (``flask --app app demo load``
then ``flask --app app demo generate --people N``), made with the development keys of this
checkout (``instance/relais-keys.json``: the caseworker pages decrypt identities).

Each page of ``PAGES`` is requested through the Flask test client as the account that opens
it (the demo coordinator, second factor included, or a caseworker of the Mission Locale):
once to warm up, then ``--repeat`` times, timed (median; ``--repeat 0``: once, cold, the
request whose statements are captured). During one more request a
``before_cursor_execute`` listener records every statement with its parameters; each distinct
read statement (``SELECT``/``WITH``) is then run again under ``EXPLAIN (ANALYZE, BUFFERS)`` with
the same parameters, in a transaction that is rolled back. Writes (the audit events of the
identity displays) are counted, not explained.

The report (``--out``, Markdown) holds, page by page, the page's time, its statements, and the
plan of each distinct read statement, slowest first; the standard output holds one line per
page and, per page, the statements over ``--slow`` ms with their sequential scans. The last line
printed is ``slowest statement at N people: X ms (PAGE)``.

On SQLite (``DATABASE_URL=sqlite:///…``), which has no ``EXPLAIN ANALYZE``, each distinct read
statement is run again, timed (rows fetched), and its plan is ``EXPLAIN QUERY PLAN``'s; the
tables it scans whole (``SCAN t`` without an index) are listed in place of the sequential scans.

``--only`` (repeatable) takes texts, also separated by commas: a page runs when its path
contains one of them, or equals it when the text starts with ``=``
(``--only =/steering/,/figures``).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import event, func, select  # noqa: E402

from app import create_app  # noqa: E402
from app.demo.data.network import DEMO_PASSWORD  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Beneficiary, FollowUp, Structure, User  # noqa: E402
from app.services.security import second_factor  # noqa: E402

COORDINATOR = "coordination@relais.demo"
CASEWORKER = "conseil@ml90.demo"
SEARCH = "Martin"  # a common surname of the synthetic identities
# {person}: a person the caseworker's structure follows; {structure}: its code;
# {pathway}: a person's pathway (coordinator); "POST /people/" posts the search box.
PAGES: dict[str, list[str]] = {
    COORDINATOR: [
        "/dashboard/",
        "/dashboard/?view=publication",
        "/steering/",
        "/steering/delays",
        "/steering/lost",
        "/steering/unmet-needs",
        "/steering/report",
        "/pathways/",
        "/pathways/?page=2",
        "/pathways/{pathway}",
    ],
    CASEWORKER: [
        "/work/",
        "/people/",
        "/people/?page=2",
        "/people/?sort=name",
        "/people/?sort=idle",
        "/people/?situation=no_consent",
        "/people/?situation=lost&mine=1&sort=idle",
        "/people/?situation=lost",
        "POST /people/",
        "/people/?search=1",
        "/handoffs/",
        "/handoffs/?box=out",
        "/people/{person}",
        "/people/{person}/steps",
        "/people/{person}/barriers",
        "/handoffs/new/{person}",
        "/structures/{structure}/figures",
    ],
}
READ = re.compile(r"^\s*(SELECT|WITH)\b", re.IGNORECASE)
EXECUTION = re.compile(r"Execution Time: ([\d.]+) ms")
PLANNING = re.compile(r"Planning Time: ([\d.]+) ms")
SEQ_SCAN = re.compile(r"Seq Scan on (\w+).*?actual time=[\d.]+\.\.[\d.]+ rows=(\d+) loops=(\d+)")


@dataclass
class Explained:
    statement: str
    occurrences: int
    plan: str
    execution_ms: float
    planning_ms: float
    seq_scans: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class PageReport:
    path: str
    account: str
    median_ms: float
    statements: int
    writes: int
    explained: list[Explained]


def sign_in(app: Flask, email: str) -> FlaskClient:
    """A client signed in as ``email``; the coordinator is given a fresh second factor sealed
    with this checkout's keys (as ``bench/dashboard.py`` does)."""
    seed = None
    with app.app_context():
        session = db.session()
        user = session.scalars(select(User).where(User.email == email)).one()
        if user.role.value in ("coordinator", "admin"):
            now = datetime.now(UTC)
            second_factor.reset(session, None, user, end_sessions=False)
            seed = second_factor.enrol_now(
                session, app.extensions["relais_vault"].keys, None, user, now=now
            ).seed
            session.commit()
        db.session.remove()
    client = app.test_client()
    response = client.post(
        "/login",
        data={"email": email, "password": DEMO_PASSWORD, "csrf_token": _token(client, "/login")},
    )
    if response.status_code != 302:
        raise SystemExit(f"cannot sign in as {email}: is the demo loaded?")
    if response.headers["Location"].endswith("/login/code"):
        if seed is None:
            raise SystemExit(f"{email} asks for a second factor")
        code = second_factor.code_at(seed, second_factor.time_step(datetime.now(UTC)))
        token = _token(client, "/login/code")
        response = client.post("/login/code", data={"code": code, "csrf_token": token})
        if response.status_code != 302:
            raise SystemExit(f"{email}: the second factor's code was refused")
    return client


def placeholders(app: Flask) -> dict[str, str]:
    """The caseworker's structure, a person it follows with a long pathway, and a pathway."""
    with app.app_context():
        session = db.session()
        structure = session.scalars(
            select(Structure)
            .join(User, User.structure_id == Structure.id)
            .where(User.email == CASEWORKER)
        ).one()
        person = session.scalars(
            select(Beneficiary.pseudonym)
            .join(FollowUp, FollowUp.beneficiary_id == Beneficiary.id)
            .where(FollowUp.structure_id == structure.id, FollowUp.ended_on.is_(None))
            .order_by(Beneficiary.created_at)
            .limit(1)
        ).one()
        # Any pathway, not the first made: md5 of the pseudonym (SQLite has no md5; its
        # pseudonyms are random anyway).
        sqlite = session.get_bind().dialect.name == "sqlite"
        order = Beneficiary.pseudonym if sqlite else func.md5(Beneficiary.pseudonym)
        pathway = session.scalars(select(Beneficiary.pseudonym).order_by(order).limit(1)).one()
        db.session.remove()
    return {"structure": structure.code, "person": person, "pathway": pathway}


TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_tokens: dict[int, str] = {}  # a signed-in client's CSRF token, by id(client)


def _token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on ``path`` (the pages are drawn as in production: with it)."""
    found = TOKEN.search(client.get(path).get_data(as_text=True))
    if found is None:
        raise SystemExit(f"no CSRF token on {path}")
    return found.group(1)


def request(client: FlaskClient, path: str) -> int:
    if path.startswith("POST "):
        if id(client) not in _tokens:  # taken once, outside the captured requests
            _tokens[id(client)] = _token(client, path[5:])
        return client.post(
            path[5:], data={"q": SEARCH, "csrf_token": _tokens[id(client)]}
        ).status_code
    return client.get(path).status_code


def explain(app: Flask, captured: list[tuple[str, Any]]) -> list[Explained]:
    """EXPLAIN (ANALYZE, BUFFERS) each distinct read statement, slowest first."""
    distinct: dict[str, tuple[Any, int]] = {}
    for statement, parameters in captured:
        if READ.match(statement):
            first, seen = distinct.get(statement, (parameters, 0))
            distinct[statement] = (first, seen + 1)
    results = []
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            for statement, (parameters, seen) in distinct.items():
                if sqlite:
                    results.append(_timed_sqlite(cursor, statement, parameters, seen))
                    continue
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                raw.rollback()
                results.append(
                    Explained(
                        statement=statement,
                        occurrences=seen,
                        plan=plan,
                        execution_ms=_number(EXECUTION, plan),
                        planning_ms=_number(PLANNING, plan),
                        seq_scans=[
                            (m.group(1), int(m.group(2)) * int(m.group(3)))
                            for m in SEQ_SCAN.finditer(plan)
                        ],
                    )
                )
        finally:
            raw.close()
    return sorted(results, key=lambda e: -e.execution_ms)


SQLITE_SCAN = re.compile(r"^\s*SCAN (\w+)(?! USING (?:COVERING )?INDEX)", re.MULTILINE)


def _timed_sqlite(cursor: Any, statement: str, parameters: Any, seen: int) -> Explained:
    """SQLite: the statement run again, timed with its rows fetched, and its query plan."""
    cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
    plan = "\n".join(f"{row[0]:>4} {row[1]:>4} {row[3]}" for row in cursor.fetchall())
    start = time.perf_counter()
    cursor.execute(statement, parameters)
    rows = len(cursor.fetchall())
    elapsed = (time.perf_counter() - start) * 1000
    return Explained(
        statement=statement,
        occurrences=seen,
        plan=f"{plan}\n({rows} rows, {elapsed:.1f} ms)",
        execution_ms=elapsed,
        planning_ms=0.0,
        seq_scans=[(m.group(1), 0) for m in SQLITE_SCAN.finditer(plan)],
    )


def _number(pattern: re.Pattern[str], plan: str) -> float:
    found = pattern.search(plan)
    return float(found.group(1)) if found else 0.0


def measure(app: Flask, client: FlaskClient, account: str, path: str, repeat: int) -> PageReport:
    captured: list[tuple[str, Any]] = []
    capturing = False

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if capturing:
            captured.append((statement, parameters))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
    try:
        times = []
        if repeat:
            status = request(client, path)  # warm-up
            if status not in (200, 303):
                raise SystemExit(f"{path}: HTTP {status}")
            for _ in range(repeat if not path.startswith("POST ") else 1):
                start = time.perf_counter()
                request(client, path)
                times.append((time.perf_counter() - start) * 1000)
        capturing = True
        start = time.perf_counter()
        status = request(client, path)
        if not repeat:  # --repeat 0: the captured request is the only one, cold
            times.append((time.perf_counter() - start) * 1000)
        capturing = False
        if status not in (200, 303):
            raise SystemExit(f"{path}: HTTP {status}")
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", record)
    writes = sum(1 for statement, _ in captured if not READ.match(statement))
    return PageReport(
        path=path,
        account=account,
        median_ms=statistics.median(times),
        statements=len(captured),
        writes=writes,
        explained=explain(app, captured),
    )


def write_report(out: Path, people: int, load: str, pages: list[PageReport]) -> None:
    lines = [
        f"# EXPLAIN (ANALYZE, BUFFERS) of the list and dashboard pages at {people:,} people",
        "",
        f"Load average before the run: {load}. Generated by bench/explain.py.",
        "",
        "| page | account | median ms | statements | writes | sum of EXPLAIN ms | slowest ms |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for page in pages:
        total = sum(e.execution_ms * e.occurrences for e in page.explained)
        slowest = page.explained[0].execution_ms if page.explained else 0.0
        lines.append(
            f"| `{page.path}` | {page.account} | {page.median_ms:.0f} | {page.statements} | "
            f"{page.writes} | {total:.0f} | {slowest:.0f} |"
        )
    for page in pages:
        lines += ["", f"## `{page.path}` ({page.account})", ""]
        for item in page.explained:
            lines += [
                f"### {item.execution_ms:.1f} ms (planning {item.planning_ms:.1f} ms), "
                f"issued {item.occurrences}×",
                "",
                "```sql",
                item.statement.strip(),
                "```",
                "",
                "```",
                item.plan,
                "```",
                "",
            ]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _chosen(path: str, only: list[str]) -> bool:
    texts = [text.strip() for given in only for text in given.split(",") if text.strip()]
    if not texts:
        return True
    return any(path == t[1:] if t.startswith("=") else t in path for t in texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--slow", type=float, default=50.0, help="ms: statements listed")
    parser.add_argument(
        "--out", type=Path, default=Path(tempfile.gettempdir()) / "relais-explain.md"
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="run only the pages containing this text (repeatable, or comma-separated: any "
        "of them; '=PATH': that path exactly)",
    )
    args = parser.parse_args()
    load = Path("/proc/loadavg").read_text().strip()
    app = create_app()
    app.config["RATELIMIT_ENABLED"] = False
    with app.app_context():
        if db.engine.dialect.name not in ("postgresql", "sqlite"):
            raise SystemExit("bench/explain.py explains PostgreSQL and SQLite plans")
        people = db.session.scalar(select(func.count()).select_from(Beneficiary)) or 0
        db.session.remove()
    values = placeholders(app)
    print(f"{people} people, load average {load}")
    pages: list[PageReport] = []
    for account, paths in PAGES.items():
        client = sign_in(app, account)
        for template in paths:
            path = template.format(**values)
            if not _chosen(path, args.only):
                continue
            page = measure(app, client, account, path, args.repeat)
            pages.append(page)
            total = sum(e.execution_ms * e.occurrences for e in page.explained)
            print(
                f"{path[:40]:40} median {page.median_ms:8.0f} ms  {page.statements:3d} statements"
                f"  EXPLAIN sum {total:8.0f} ms"
            )
            for item in page.explained:
                if item.execution_ms >= args.slow:
                    scans = ", ".join(f"{t} ({n:,} rows)" if n else t for t, n in item.seq_scans)
                    first = " ".join(item.statement.split())[:90]
                    print(f"    {item.execution_ms:8.1f} ms  {first}")
                    if scans:
                        print(f"                 seq scans: {scans}")
            write_report(args.out, people, load, pages)  # after each page: a partial report
    print(f"report written to {args.out}")
    worst = max(((e.execution_ms, p.path) for p in pages for e in p.explained), default=(0.0, "-"))
    print(f"slowest statement at {people} people: {worst[0]:.0f} ms ({worst[1]})")


if __name__ == "__main__":
    main()

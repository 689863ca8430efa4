"""Benchmark of the coordinators' dashboard against the bare SQL of the same indicators.

    .venv/bin/python bench/dashboard.py [--people 10000,100000] [--repeat 5]

Builds a temporary SQLite database migrated to head (or uses ``DATABASE_URL``: an empty
database that the script fills and leaves filled, or one it filled before, which it migrates
and grows if needed, so that a run at 100,000 people can be repeated without generating them
again), loads the demo network and adds synthetic people with ``app.demo.synthetic`` (what ``flask --app app demo
generate`` runs) until each size of ``--people`` is reached. At each size it times:

(a) the dashboard page: ``GET /dashboard/`` through the Flask test client, signed in as the
    demo coordinator, with the page's default filters (the last twelve months by quarter):
    the indicator queries, the small-count protection of every table, the chart geometry
    and the template - everything but the network;
(b) the bare SQL of the same indicators, written by hand for the database in use and run
    with the driver through a plain connection (rows fetched, nothing else): the people
    count, the funnel, the stage medians (from the trend medians' day counts), barriers, hand-offs, delay medians, chains, the
    stage flows and the cohort outcomes, the quarterly trends (people, medians, answers within
    10 days) and the overdue hand-offs.

Before timing, the script checks that (b) returns exactly what the service's queries
return. The two are run in turn ``--repeat`` times (interleaved) and their best runs are
compared. It also reports
the peak memory of one page request (``tracemalloc``) at each size, so that one can see it
stays flat. The last line printed is ``dashboard overhead vs raw SQL: X.XX``, (a) over (b)
at the largest size (the target is below 1.5).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402
from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import Connection, select, text  # noqa: E402

from app import create_app  # noqa: E402
from app.crypto import KeyRing  # noqa: E402
from app.demo.data.network import DEMO_PASSWORD  # noqa: E402
from app.demo.loading import load_demo  # noqa: E402
from app.demo.synthetic import caseload as synthetic  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import ReferenceItem, ReferenceKind, User  # noqa: E402
from app.services.security import second_factor  # noqa: E402
from app.services.statistics import cohorts, flows, queries, trend_queries  # noqa: E402
from app.services.statistics.overdue import overdue_query  # noqa: E402
from app.services.statistics.scope import DashboardFilters, Scope, resolve_scope  # noqa: E402
from app.services.statistics.tables import medians_by_group  # noqa: E402
from config import TestingConfig  # noqa: E402

COORDINATOR = "coordination@relais.demo"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# --- the bare SQL ----------------------------------------------------------------------------
# {days(a, b)}: days from a to b; {quarter(x)}: year * 10 + quarter of a UTC timestamp;
# {day(x)}: the UTC day of a timestamp.

DIALECT = {
    "sqlite": {
        "days": "(julianday({b}) - julianday({a}))",
        "day": "date({x})",
        "quarter": "(CAST(strftime('%Y', {x}) AS INTEGER) * 10"
        " + (CAST(strftime('%m', {x}) AS INTEGER) + 2) / 3)",
        "date_quarter": "(CAST(strftime('%Y', {x}) AS INTEGER) * 10"
        " + (CAST(strftime('%m', {x}) AS INTEGER) + 2) / 3)",
    },
    "postgresql": {
        "days": "(EXTRACT(EPOCH FROM ({b}::timestamp - {a}::timestamp)) / 86400.0)",
        "day": "CAST(({x} AT TIME ZONE 'UTC') AS DATE)",
        "quarter": "(EXTRACT(YEAR FROM {x} AT TIME ZONE 'UTC')::int * 10"
        " + EXTRACT(QUARTER FROM {x} AT TIME ZONE 'UTC')::int)",
        "date_quarter": "(EXTRACT(YEAR FROM {x})::int * 10 + EXTRACT(QUARTER FROM {x})::int)",
    },
}

IN_PERIOD = "sent_at >= :start_at AND sent_at < :end_before"
OVERDUE_DAYS = 10  # the default HANDOFF_OVERDUE_DAYS, as the page uses it

# The medians: whole days counted by value (a hash aggregate), their medians computed from the
# counts (``tables.medians_by_group``), on both databases - what the service runs. Measured
# faster than sorting every value, by window functions on SQLite (no percentile aggregate) or
# by ``percentile_cont`` on PostgreSQL (docs/performance.md, "Dashboards and figures at
# 100,000 people").
MEDIAN_COUNTS = """
SELECT grp, days, count(*) FROM durations WHERE days IS NOT NULL GROUP BY grp, days
"""
MEDIAN_QUERIES = ("delays", "trend_medians")


def raw_queries(dialect: str) -> dict[str, str]:
    d = DIALECT[dialect]
    median = MEDIAN_COUNTS

    def days(a: str, b: str) -> str:
        return d["days"].format(a=a, b=b)

    sent_day = d["day"].format(x="sent_at")

    def band(reached: str) -> str:
        return (
            f"CASE WHEN {reached} IS NULL THEN 3"
            f" WHEN {days('entered', reached)} <= 91 THEN 0"
            f" WHEN {days('entered', reached)} <= 182 THEN 1"
            f" WHEN {days('entered', reached)} <= 365 THEN 2 ELSE 3 END"
        )

    def quarter(x: str) -> str:
        return d["quarter"].format(x=x)

    def date_quarter(x: str) -> str:
        return d["date_quarter"].format(x=x)

    firsts = """
        firsts AS (
            SELECT beneficiary_id,
                   min(CASE WHEN stage_id = :orientation THEN started_on END) AS o,
                   min(CASE WHEN stage_id = :training THEN started_on END) AS t,
                   min(CASE WHEN stage_id = :employment THEN started_on END) AS e
            FROM pathway_steps
            WHERE stage_id IN (:orientation, :training, :employment)
            GROUP BY beneficiary_id
        )"""

    end_code = (
        "CASE WHEN status IN ('accepted', 'in_progress', 'completed', 'not_completed') THEN 3"
        " WHEN status = 'sent' THEN 2 WHEN status = 'redirected' THEN 0 ELSE 1 END"
    )
    return {
        "people": f"""
            SELECT count(*) FROM (
                SELECT beneficiary_id FROM pathway_steps
                WHERE started_on >= :start AND started_on <= :end
                UNION
                SELECT beneficiary_id FROM barriers
                WHERE identified_on >= :start AND identified_on <= :end
                UNION
                SELECT beneficiary_id FROM handoffs WHERE {IN_PERIOD}
            ) AS events""",
        "funnel": """
            SELECT stage_id, count(DISTINCT beneficiary_id) FROM pathway_steps
            WHERE started_on >= :start AND started_on <= :end
            GROUP BY stage_id""",
        "barriers": """
            SELECT category_id, acting_structure_id, status, count(*) FROM barriers
            WHERE identified_on >= :start AND identified_on <= :end
            GROUP BY category_id, acting_structure_id, status""",
        "handoffs": f"""
            SELECT {d["quarter"].format(x="sent_at")} AS quarter, from_structure_id,
                   to_structure_id, status, decline_reason_id, count(*)
            FROM handoffs WHERE {IN_PERIOD}
            GROUP BY 1, 2, 3, 4, 5""",
        "delays": f"""
            WITH answered AS (
                SELECT to_structure_id AS receiver,
                       {days(sent_day, "answered_on")} AS answer,
                       {days(sent_day, "first_contact_on")} AS contact
                FROM handoffs WHERE answered_on IS NOT NULL AND {IN_PERIOD}
            ),
            durations AS (
                SELECT receiver + 1000000 AS grp, answer AS days FROM answered
                UNION ALL SELECT 1000000, answer FROM answered
                UNION ALL SELECT receiver + 2000000, contact FROM answered
                WHERE contact IS NOT NULL
                UNION ALL SELECT 2000000, contact FROM answered WHERE contact IS NOT NULL
            )
            {median}""",
        "chains": f"""
            WITH RECURSIVE chain(root, id, depth, end_code) AS (
                SELECT id, id, 1, {end_code} FROM handoffs AS r
                WHERE parent_id IS NULL AND {IN_PERIOD}
                  AND EXISTS (SELECT 1 FROM handoffs AS c
                              WHERE c.parent_id IS NOT NULL AND c.parent_id = r.id)
                UNION ALL
                SELECT chain.root, h.id, chain.depth + 1,
                       {end_code.replace("status", "h.status")}
                FROM handoffs AS h JOIN chain ON h.parent_id = chain.id
                WHERE h.parent_id IS NOT NULL
            ),
            per_chain AS (
                SELECT max(depth) AS length, max(end_code) AS end_code FROM chain GROUP BY root
            )
            SELECT 1, {end_code}, count(*) FROM handoffs AS r
            WHERE parent_id IS NULL AND {IN_PERIOD}
              AND NOT EXISTS (SELECT 1 FROM handoffs AS c
                              WHERE c.parent_id IS NOT NULL AND c.parent_id = r.id)
            GROUP BY 2
            UNION ALL
            SELECT CASE WHEN length >= 4 THEN 4 ELSE length END, end_code, count(*)
            FROM per_chain GROUP BY 1, 2""",
        "stage_flows": """
            WITH steps AS (
                SELECT beneficiary_id AS person, stage_id AS stage, started_on,
                       lag(stage_id) OVER w AS before, lead(stage_id) OVER w AS after
                FROM pathway_steps
                WHERE started_on <= :end AND beneficiary_id IN (
                    SELECT beneficiary_id FROM pathway_steps
                    WHERE started_on >= :start AND started_on <= :end)
                WINDOW w AS (PARTITION BY beneficiary_id ORDER BY started_on, created_at, id)
            )
            SELECT 0, before, stage, count(DISTINCT person) FROM steps
            WHERE before IS NOT NULL AND before <> stage
            AND started_on >= :start AND started_on <= :end
            GROUP BY before, stage
            UNION ALL
            SELECT 1, stage,
                   CASE WHEN stage NOT IN (:employment, :exit_other) AND started_on < :cutoff
                        AND person NOT IN (SELECT beneficiary_id FROM barriers
                                           WHERE identified_on >= :cutoff
                                           AND identified_on <= :as_of)
                        AND person NOT IN (SELECT beneficiary_id FROM handoffs
                                           WHERE sent_at >= :cutoff_at
                                           AND sent_at < :as_of_before)
                   THEN 1 ELSE 0 END,
                   count(*)
            FROM steps WHERE after IS NULL AND started_on >= :start GROUP BY 2, 3""",
        "cohort_outcomes": f"""
            WITH firsts AS (
                SELECT min(started_on) AS entered,
                       min(CASE WHEN stage_id = :training THEN started_on END) AS trained,
                       min(CASE WHEN stage_id = :employment THEN started_on END) AS employed
                FROM pathway_steps GROUP BY beneficiary_id
            )
            SELECT {d["date_quarter"].format(x="entered")}, {band("trained")},
                   {band("employed")}, count(*)
            FROM firsts WHERE entered >= :start AND entered <= :end GROUP BY 1, 2, 3""",
        "answers_by_quarter": f"""
            SELECT {quarter("sent_at")},
                   CASE WHEN answered_on IS NOT NULL AND {days(sent_day, "answered_on")} <= 10
                        THEN 0
                        WHEN answered_on IS NOT NULL THEN 1
                        WHEN sent_at < :overdue_before THEN 2 ELSE 3 END,
                   count(*)
            FROM handoffs WHERE {IN_PERIOD}
            GROUP BY 1, 2""",
        "trend_people": f"""
            SELECT {date_quarter("first")}, 0, count(*)
            FROM (SELECT min(started_on) AS first FROM pathway_steps GROUP BY beneficiary_id) f
            WHERE first >= :start AND first <= :end
            GROUP BY 1
            UNION ALL
            SELECT {date_quarter("started_on")},
                   CASE WHEN stage_id = :training THEN 1 ELSE 2 END,
                   count(DISTINCT beneficiary_id)
            FROM pathway_steps
            WHERE started_on >= :start AND started_on <= :end
              AND stage_id IN (:training, :employment)
            GROUP BY 1, 2""",
        "trend_medians": f"""
            WITH {firsts},
            durations AS (
                SELECT 1000000 + {date_quarter("t")} AS grp, {days("o", "t")} AS days
                FROM firsts WHERE t >= :start AND t <= :end AND o <= t
                UNION ALL
                SELECT 2000000 + {date_quarter("e")}, {days("o", "e")}
                FROM firsts WHERE e >= :start AND e <= :end AND o <= e
                UNION ALL
                SELECT 3000000 + {quarter("sent_at")}, {days(sent_day, "answered_on")}
                FROM handoffs WHERE answered_on IS NOT NULL AND {IN_PERIOD}
            )
            {median}""",
        "overdue": """
            SELECT h.to_structure_id, h.from_structure_id, b.pseudonym, h.sent_at,
                   count(*) OVER (PARTITION BY h.to_structure_id) AS n,
                   min(h.sent_at) OVER (PARTITION BY h.to_structure_id) AS oldest,
                   count(*) OVER ()
            FROM handoffs AS h JOIN beneficiaries AS b ON b.id = h.beneficiary_id
            WHERE h.status = 'sent' AND h.sent_at < :overdue_before
              AND h.sent_at >= :start_at AND h.sent_at < :end_before AND b.erased_at IS NULL
            ORDER BY n DESC, oldest, h.to_structure_id, h.sent_at, h.id
            LIMIT 200""",
    }


def parameters(scope: Scope, stages: dict[str, int], today: date, now: datetime) -> dict[str, Any]:
    as_of = flows.as_of(scope, today)
    cutoff = as_of - timedelta(days=flows.LOST_AFTER_DAYS)
    return {
        "overdue_before": now - timedelta(days=OVERDUE_DAYS),
        "as_of": as_of,
        "cutoff": cutoff,
        "cutoff_at": datetime.combine(cutoff, clock.min, tzinfo=UTC),
        "as_of_before": datetime.combine(as_of + timedelta(days=1), clock.min, tzinfo=UTC),
        "exit_other": stages["exit_other"],
        "start": scope.start,
        "end": scope.end,
        "start_at": datetime.combine(scope.start, clock.min, tzinfo=UTC),
        "end_before": datetime.combine(scope.end + timedelta(days=1), clock.min, tzinfo=UTC),
        "orientation": stages["orientation"],
        "training": stages["training"],
        "employment": stages["employment"],
    }


def run_raw(
    connection: Connection, queries: dict[str, str], params: dict[str, Any]
) -> dict[str, list[Any]]:
    results: dict[str, list[Any]] = {}
    for name, sql in queries.items():
        statement = text(sql)
        used = {k: v for k, v in params.items() if f":{k}" in sql}
        if connection.dialect.name == "sqlite":
            # The sqlite3 driver gets the same strings SQLAlchemy binds for these columns.
            used = {
                k: (v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v)
                for k, v in used.items()
            }
        results[name] = list(connection.execute(statement, used).all())
    return results


def service_results(
    session: Any, scope: Scope, stages: dict[str, int], today: date, now: datetime
) -> dict[str, list[Any]]:
    """What the service's own queries return, to check the bare SQL against."""
    final = [stages[code] for code in flows.FINAL_STAGES]
    ids = (stages["orientation"], stages["training"], stages["employment"])
    overdue = overdue_query(scope, now=now, days=OVERDUE_DAYS)
    return {
        "stage_flows": session.execute(flows.stage_flows_query(scope, today, final)).all(),
        "cohort_outcomes": session.execute(
            cohorts.cohort_outcomes_query(scope, stages["training"], stages["employment"])
        ).all(),
        "answers_by_quarter": session.execute(
            trend_queries.answers_by_quarter_query(scope, now, OVERDUE_DAYS)
        ).all(),
        "trend_people": session.execute(trend_queries.trend_people_query(scope, *ids[1:])).all(),
        "trend_medians": session.execute(trend_queries.trend_medians_query(scope, *ids)).all(),
        "overdue": session.execute(overdue).all(),
        "people": session.execute(queries.people_query(scope)).all(),
        "funnel": session.execute(queries.funnel_query(scope)).all(),
        "barriers": session.execute(queries.barriers_query(scope)).all(),
        "handoffs": session.execute(queries.handoffs_query(scope)).all(),
        "delays": session.execute(queries.handoff_delays_query(scope)).all(),
        "chains": session.execute(queries.chains_query(scope)).all(),
    }


def normalised(rows: list[Any]) -> list[tuple[Any, ...]]:
    def value(v: Any) -> Any:
        if isinstance(v, datetime):  # SQLite's driver returns the stored text
            return v.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        if hasattr(v, "value"):
            return v.value
        if isinstance(v, float):
            return round(v, 6)
        if hasattr(v, "__float__") and not isinstance(v, int):
            return round(float(v), 6)
        return v

    return sorted((tuple(value(v) for v in row) for row in rows), key=repr)


# --- the harness -------------------------------------------------------------------------------


def interleaved(
    repeat: int, first: Callable[[], object], second: Callable[[], object]
) -> tuple[float, float]:
    """The best time of each of two works run in turn ``repeat`` times (first, second, first,
    second...), so that a change of the machine's load weighs on both alike."""
    timings: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for work, found in zip((first, second), timings, strict=True):
            started = time.perf_counter()
            work()
            found.append(time.perf_counter() - started)
    return min(timings[0]), min(timings[1])


def bare_sql(queries: dict[str, str], params: dict[str, Any]) -> Callable[[], None]:
    def run() -> None:
        with db.engine.connect() as connection:
            found = run_raw(connection, queries, params)
        for name in MEDIAN_QUERIES:  # the medians from the counted days, as the service does
            medians_by_group(found[name])
        # The stage medians: the trends' days of every quarter, added up (as the service does).
        medians_by_group((group // 1_000_000, days, n) for group, days, n in found["trend_medians"])

    return run


def dashboard_page(client: FlaskClient) -> Callable[[], None]:
    def run() -> None:
        response = client.get("/dashboard/")
        assert response.status_code == 200, response.status_code
        db.session.remove()

    return run


def signed_in(app: Flask) -> FlaskClient:
    """A client signed in as the demo coordinator, second factor included.

    The coordinator is given a fresh second factor sealed with this run's keys (the keys of the
    run that filled a reused database are gone; the dashboard reads no sealed field)."""
    with app.app_context():
        session = db.session()
        user = session.scalars(select(User).where(User.email == COORDINATOR)).one()
        now = datetime.now(UTC)
        second_factor.reset(session, None, user, end_sessions=False)
        seed = second_factor.enrol_now(
            session, app.extensions["relais_vault"].keys, None, user, now=now
        ).seed
        session.commit()
        db.session.remove()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    found = TOKEN.search(page)
    form = {"email": COORDINATOR, "password": DEMO_PASSWORD}
    if found:
        form["csrf_token"] = found.group(1)
    response = client.post("/login", data=form)
    assert response.status_code == 302, "the demo coordinator could not sign in"
    if response.headers["Location"].endswith("/login/code"):
        page = client.get("/login/code").get_data(as_text=True)
        found = TOKEN.search(page)
        code = second_factor.code_at(seed, second_factor.time_step(datetime.now(UTC)))
        form = {"code": code, **({"csrf_token": found.group(1)} if found else {})}
        response = client.post("/login/code", data=form)
        assert response.status_code == 302, "the second factor's code was refused"
    return client


def grow(app: Flask, target: int, today: date) -> float:
    """Add synthetic people until the database holds ``target``; returns the time taken."""
    started = time.perf_counter()
    with app.app_context():
        session = db.session()
        present = synthetic.people_count(session)
        if present < target:
            synthetic.generate(
                session,
                app.extensions["relais_vault"],
                people=target - present,
                today=today,
                seed=target,
            )
            session.commit()
        db.session.remove()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = sorted(int(n) for n in args.people.split(","))
    logging.disable(logging.WARNING)

    with tempfile.TemporaryDirectory() as scratch:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{scratch}/bench.sqlite3"
        app = create_app(TestingConfig, overrides={"DATABASE_URL": url}, keyring=KeyRing.generate())
        today = date.today()  # noqa: DTZ011 - the page's own "today"
        with app.app_context():
            flask_migrate.upgrade(directory=str(Path(__file__).parent.parent / "migrations"))
            session = db.session()
            if session.scalar(select(User.id).where(User.email == COORDINATOR)) is None:
                load_demo(session, app.extensions["relais_vault"], today=today, rng_seed=2026)
                session.commit()
            db.session.remove()
        dialect = db.engine.dialect.name
        queries = raw_queries(dialect)
        where = url.split("@")[-1] if "@" in url else url.removeprefix("sqlite:///")
        print(f"database: {dialect} ({where})")

        results: list[tuple[int, float, float, float]] = []
        for size in sizes:
            took = grow(app, size, today)
            # Signed in outside the app context below: each request gets its own (and ``g``).
            client = signed_in(app)
            with app.app_context():
                session = db.session()
                scope = resolve_scope(session, DashboardFilters(), today=today)
                stages = {
                    item.code: item.id
                    for item in session.query(ReferenceItem).filter_by(kind=ReferenceKind.STAGE)
                }
                now = datetime.now(UTC)
                params = parameters(scope, stages, today, now)
                with db.engine.connect() as connection:
                    raw = run_raw(connection, queries, params)
                expected = service_results(session, scope, stages, today, now)
                for name, rows in raw.items():
                    if normalised(rows) != normalised(expected[name]):
                        raise SystemExit(f"the bare SQL of {name!r} disagrees with the service")
                db.session.remove()

                bare = bare_sql(queries, params)
                page = dashboard_page(client)

                page()  # warm the caches (templates, compiled SQL)
                bare()
                page_time, raw_time = interleaved(args.repeat, page, bare)
                tracemalloc.start()
                page()
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
            results.append((size, page_time, raw_time, peak / 2**20))
            print(
                f"{size:>7} people (generated in {took:.0f} s): page {page_time * 1000:.0f} ms,"
                f" bare SQL {raw_time * 1000:.0f} ms, ratio {page_time / raw_time:.2f},"
                f" peak memory of a request {peak / 2**20:.1f} MiB"
            )
        if len(results) > 1:
            (small, page_small, raw_small, _), (big, page_big, raw_big, _) = results[0], results[-1]
            print(
                f"from {small} to {big} people ({big / small:.0f}x): page time x"
                f"{page_big / page_small:.1f}, bare SQL x{raw_big / raw_small:.1f}"
            )
        size, page_time, raw_time, _ = results[-1]
        print(f"dashboard overhead vs raw SQL: {page_time / raw_time:.2f}")


if __name__ == "__main__":
    main()

"""Time ``audit verify`` over the whole log against ``--since-seal`` (and one sealed month), on
a log of a year of rows.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/relais_audit_bench \\
        RELAIS_ENV=development .venv/bin/python bench/audit_verify.py [--rows 1000000]

The database must be migrated (``flask --app app db upgrade``). The first run fills it once:
``--rows`` chained audit rows spread evenly over the twelve months before the current one and
the current month so far (the way the import writes them: ``append_many`` with COPY on
PostgreSQL), with their monthly partitions (``audit partitions``), then seals the finished
months (``audit seal``, timed). Later runs reuse the log. Each measure then runs ``--repeat``
times, interleaved (full, since the last seal, one month, full...); the medians are printed,
and the ratio last. The run is bounded by the whole log, ``--since-seal`` by the current month.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import AuditEvent  # noqa: E402
from app.services.imports.bulk import BulkInserts  # noqa: E402
from app.services.security import audit, audit_check, audit_retention  # noqa: E402
from app.services.security.audit_seal import (  # noqa: E402
    month_of,
    month_start,
    next_month,
    previous_month,
)

BATCH = 20_000
MONTHS = 12


def _months(now: datetime) -> list[str]:
    month = month_of(now)
    for _ in range(MONTHS):
        month = previous_month(month)
    months = []
    while month <= month_of(now):
        months.append(month)
        month = next_month(month)
    return months


def _fill(session: Session, rows: int, now: datetime) -> None:
    months = _months(now)
    if session.connection().dialect.name == "postgresql":
        audit_retention.ensure_partitions(session, month_start(months[0]), len(months))
        session.commit()
    per_month = rows // len(months)
    started = time.perf_counter()
    written = 0
    for month in months:
        start = month_start(month)
        end = min(month_start(next_month(month)), now)
        step = (end - start) / per_month
        times = [start + step * i for i in range(per_month)]
        for first in range(0, per_month, BATCH):
            batch: list[dict[str, object]] = [
                {
                    "at": moment,
                    "actor_id": None,
                    "action": "beneficiary:reveal",
                    "subject_type": "beneficiaries",
                    "subject_id": str(written + n),
                    "purpose": "caseload",
                    "data": {},
                }
                for n, moment in enumerate(times[first : first + BATCH])
            ]
            audit.append_many(session, batch, write=BulkInserts(session))
            session.commit()
            written += len(batch)
        print(f"  filled {month}: {written} rows ({time.perf_counter() - started:.0f} s)")


def _timed(action: Callable[[], audit_check.ChainReport]) -> tuple[float, int]:
    started = time.perf_counter()
    report = action()
    elapsed = time.perf_counter() - started
    if not report.intact:
        raise SystemExit(f"the log is broken: {report.broken}")
    return elapsed, report.rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    app = create_app()
    now = datetime.now(UTC)
    with app.app_context():
        session = db.session()
        count = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        if count < args.rows // 2:
            print(f"filling the log with {args.rows} rows")
            _fill(session, args.rows, now)
            started = time.perf_counter()
            sealed = audit_check.seal_months(session, now)
            session.commit()
            print(f"sealed {len(sealed)} months in {time.perf_counter() - started:.1f} s")
        total = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        month = previous_month(month_of(now - timedelta(hours=1)))
        print(f"audit rows: {total}, database: {session.connection().dialect.name}")
        print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        measures: dict[str, Callable[[], audit_check.ChainReport]] = {
            "full": lambda: audit_check.verify_chain(session),
            "since-seal": lambda: audit_check.verify_chain(session, since_seal=True),
            f"month {month}": lambda: audit_check.verify_month(session, month),
        }
        times: dict[str, list[float]] = {name: [] for name in measures}
        checked: dict[str, int] = {}
        for _ in range(args.repeat):
            for name, action in measures.items():
                elapsed, rows = _timed(action)
                session.rollback()
                times[name].append(elapsed)
                checked[name] = rows
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for name, runs in times.items():
        median = statistics.median(runs)
        print(
            f"verify {name:16} {checked[name]:>9} rows  median {median:7.2f} s  "
            f"({checked[name] / median:,.0f} rows/s)"
        )
    ratio = statistics.median(times["full"]) / statistics.median(times["since-seal"])
    print(f"audit verify full vs --since-seal at {total} rows: {ratio:.2f}")


if __name__ == "__main__":
    main()

"""Check of the application's statistics queries through PgBouncer in transaction mode.

    .venv/bin/python bench/pooling.py --url postgresql+psycopg://postgres@127.0.0.1:6437/db

``--url`` leads to PgBouncer in transaction mode (``pool_mode = transaction``) in front of a
PostgreSQL database migrated to head (it may be empty). ``--threads`` workers (4), each with
its own engine, build the dashboard's publication view (``statistics.dashboard``: about thirty
grouped queries, the same ones on every run) ``--runs`` times (20) each, committing each
one as the unit of work commits a page (psycopg forgets its prepared statements on a
rollback), in turn with:

(a) an engine as ``DATABASE_URL`` makes it by default: psycopg prepares on the server every
    query it has run five times on a connection (``prepare_threshold=5``). Behind PgBouncer in
    transaction mode (before 1.21, or without ``max_prepared_statements``), the next
    transaction of that client may get another server connection, which does not know the
    statement ("prepared statement ... does not exist"), or one on which another client
    prepared one of the same name ("... already exists");
(b) the engine of ``RELAIS_PGBOUNCER=true`` (``prepare_threshold=None``): nothing prepared.

It prints the errors of each and, last, ``errors through PgBouncer (transaction mode):
default N, RELAIS_PGBOUNCER M`` (the goal: M = 0). It measures correctness, not speed.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.orm import Session  # noqa: E402

from app.extensions import make_engine  # noqa: E402
from app.services.statistics.dashboard import View, dashboard  # noqa: E402
from app.services.statistics.scope import Scope  # noqa: E402

SCOPE = Scope(start=date(2025, 1, 1), end=date(2026, 12, 31))


def run(url: str, *, pgbouncer: bool, threads: int, runs: int) -> Counter[str]:
    """Errors by their first words, over ``threads`` × ``runs`` dashboards."""
    errors: Counter[str] = Counter()
    lock = threading.Lock()

    def work() -> None:
        engine = make_engine(url, pgbouncer=pgbouncer)
        try:
            for _ in range(runs):
                try:
                    with Session(engine) as session:
                        dashboard(session, SCOPE, k=11, view=View.PUBLICATION)
                        # As the unit of work ends a page that answered 200. (A rollback
                        # would make psycopg forget what it prepared.)
                        session.commit()
                except Exception as exc:  # noqa: BLE001 - counted and shown
                    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    with lock:
                        errors[" ".join(first.split()[:6])] += 1
        finally:
            engine.dispose()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a URL that leads to PgBouncer")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    found = {}
    for name, pgbouncer in (("default", False), ("RELAIS_PGBOUNCER", True)):
        errors = run(args.url, pgbouncer=pgbouncer, threads=args.threads, runs=args.runs)
        found[name] = sum(errors.values())
        print(f"{name}: {found[name]} failed dashboards of {args.threads * args.runs}")
        for message, count in errors.most_common(5):
            print(f"  {count} × {message}")
    print(
        "errors through PgBouncer (transaction mode): "
        f"default {found['default']}, RELAIS_PGBOUNCER {found['RELAIS_PGBOUNCER']}"
    )


if __name__ == "__main__":
    main()

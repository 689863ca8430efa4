"""What the database layers cost one statement of every request: the signed-in account's read
(``app.services.security.sessions.signed_in``) through the ORM, as a Core row, and through the
raw driver, on a populated database.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/relais-10k RELAIS_ENV=development \\
        .venv/bin/python bench/account_read.py [--reads 2000] [--rounds 3]

The database must hold the demo network (``flask --app app demo load``, with or without ``demo
generate``); the script opens a session of its own for a demo caseworker (``--email``) and
ends it afterwards. Three ways to read the same account and open session, in turn
(interleaved), ``--rounds`` times:

(a) ``signed_in`` as every request runs it: one ORM statement loading the account, its session
    and its structure as objects (the columns a request needs, the rest deferred);
(b) the same statement's columns as a Core row (``select`` of the tables' columns, through the
    same SQLAlchemy session and engine), no object built;
(c) the floor of ``bench/handoff_floor.py``: the account's five columns the cookie check needs,
    through the psycopg (or sqlite3) connection under SQLAlchemy's.

Each read is timed in the process's CPU (``time.process_time``: not the database server's,
not the waiting), ``--reads`` reads per variant and round; the medians over the rounds are
printed per read, and last ``account read through the ORM vs raw driver: X.XX``. It measures
what an accept's 1.5 ms of ORM statements and 1.1 ms of SQLAlchemy around the driver are made
of (docs/performance.md, sessions 7 and 9): the price of the stack per statement, which every
request pays, and which a floor written with the raw driver does not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import bindparam, select  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Structure, User, UserSession  # noqa: E402
from app.services.security import sessions  # noqa: E402
from app.services.security.accounts import find_user  # noqa: E402
from app.web.context import session_limits  # noqa: E402

RAW = """
SELECT users.id, users.structure_id, users.active, users.session_version, user_sessions.ended_at
FROM users JOIN user_sessions ON user_sessions.user_id = users.id
WHERE user_sessions.token_hash = {mark} AND users.id = {mark}
"""
DEFERRED = {
    "password_hash",
    "work_phone",
    "last_login_at",
    "created_at",
    "reactivated_at",
    "second_factor_kek",
    "second_factor_key",
    "second_factor_seed",
    "second_factor_step",
}


def _core_read() -> Any:
    """(b): the columns (a) loads, as one row."""
    users, rows, structures = User.__table__, UserSession.__table__, Structure.__table__
    kept = [column for column in users.c if column.name not in DEFERRED]
    return (
        select(
            *kept,
            rows.c.id,
            rows.c.created_at,
            rows.c.last_seen_at,
            rows.c.ended_at,
            structures.c.id,
            structures.c.name,
        )
        .select_from(users.join(rows, rows.c.user_id == users.c.id).join(structures))
        .where(rows.c.token_hash == bindparam("token_hash"))
        .where(users.c.id == bindparam("user_id"))
    )


def _per_read(work: Callable[[], object], reads: int) -> float:
    began = time.process_time()
    for _ in range(reads):
        work()
    return (time.process_time() - began) / reads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--email", default="conseil@ft90.demo")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("set DATABASE_URL to a populated database (see the docstring)")
    app = create_app()
    with app.test_request_context("/"):
        session = db.session()
        user = find_user(session, args.email)
        if user is None:
            raise SystemExit(f"{args.email}: no such account (is the demo loaded?)")
        now = datetime.now(UTC)
        token = sessions.start(session, user, device="bench/account_read.py", now=now)
        session.commit()
        user_id, version, digest = user.id, user.session_version, sessions._digest(token)
        limits = session_limits()
        core = _core_read()
        driver = session.connection().connection.driver_connection
        assert driver is not None
        raw = RAW.format(mark="?" if db.engine.dialect.name == "sqlite" else "%s")

        def orm() -> None:
            found = sessions.signed_in(session, user_id, version, token, limits=limits, now=now)
            assert found is not None, "the session is not open"
            session.expunge_all()  # a request starts with an empty session

        def core_row() -> None:
            session.execute(core, {"token_hash": digest, "user_id": user_id}).one()

        def driver_row() -> None:
            found = driver.execute(raw, (digest, user_id)).fetchone()
            assert found is not None

        variants = {"(a) ORM objects": orm, "(b) Core row": core_row, "(c) raw driver": driver_row}
        spent: dict[str, list[float]] = {name: [] for name in variants}
        for work in variants.values():  # warm-up: compiled and prepared statements
            _per_read(work, 200)
        for _ in range(args.rounds):
            for name, work in variants.items():
                spent[name].append(_per_read(work, args.reads))
        session.rollback()
        sessions.sign_out(session, user, token, now=now)  # the bench's session ended
        session.commit()
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"database: {db.engine.dialect.name}, {args.reads} reads x {args.rounds} rounds, "
          f"load average {' '.join(load)}")  # fmt: skip
    for name, runs in spent.items():
        print(f"{name}: median {statistics.median(runs) * 1000:.3f} ms CPU per read, "
              f"best {min(runs) * 1000:.3f}")  # fmt: skip
    orm_median = statistics.median(spent["(a) ORM objects"])
    core_median = statistics.median(spent["(b) Core row"])
    raw_median = statistics.median(spent["(c) raw driver"])
    print(f"Core row vs raw driver: {core_median / raw_median:.2f}")
    print(f"account read through the ORM vs raw driver: {orm_median / raw_median:.2f}")


if __name__ == "__main__":
    main()

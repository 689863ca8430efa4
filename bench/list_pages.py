"""Time the list pages on a populated database: what a caseworker and an administrator open
most, with their statement counts.

    DATABASE_URL=sqlite:////tmp/relais-10k.sqlite3 RELAIS_ENV=development \\
        .venv/bin/python bench/list_pages.py [--repeat 10]

The database must hold the demo network and a synthetic caseload (``flask --app app db
upgrade && flask --app app demo load && flask --app app demo generate --people 10000``), made
with the same development keys (``instance/relais-keys.json``). Each page is requested once to
warm up, then ``--repeat`` times through the Flask test client (everything but the network);
the median and the best time are printed with the number of SQL statements of one request.
To compare two versions of the code, run the script alternately with ``PYTHONPATH`` set to
each checkout (A, B, A, B...).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event  # noqa: E402

from app import create_app  # noqa: E402
from app.demo.data.network import DEMO_PASSWORD  # noqa: E402
from app.extensions import db  # noqa: E402
from app.services.security import second_factor  # noqa: E402
from app.services.security.accounts import find_user  # noqa: E402

PAGES = {
    "conseil@ml90.demo": [
        "/work/",
        "/people/",
        "/people/?page=2",
        "/people/?sort=name",
        "/people/?sort=idle",
        "/handoffs/",
        "/handoffs/?box=out",
    ],
    "coordination@relais.demo": ["/pathways/"],
    "admin@relais.demo": ["/dev/outbox"],
}


def _code(app: Any, email: str) -> str:
    """The demo account's current code (its seed read with the development keys), or the next
    step's when an earlier run of the bench spent the current one."""
    with app.app_context():
        user = find_user(db.session(), email)
        enrolment = second_factor.enrolment(app.extensions["relais_vault"].keys, user)
        if user is None or enrolment is None:
            raise SystemExit(f"{email} has no second factor to answer")
        step = second_factor.time_step(datetime.now(UTC))
        used = user.second_factor_step if user.second_factor_step is not None else -1
        return second_factor.code_at(enrolment.seed, max(step, used + 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
    for email, paths in PAGES.items():
        client = app.test_client()
        signed_in = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
        if signed_in.status_code != 302:
            raise SystemExit(f"cannot sign in as {email}: is the demo loaded?")
        if signed_in.headers["Location"].endswith("/login/code"):
            signed_in = client.post("/login/code", data={"code": _code(app, email)})
            if signed_in.status_code != 302:
                raise SystemExit(f"{email}: the second factor's code was refused")
        for path in paths:
            statements = 0
            client.get(path)
            per_request = statements
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                response = client.get(path)
                times.append(time.perf_counter() - start)
                if response.status_code != 200:
                    raise SystemExit(f"{path}: HTTP {response.status_code}")
            print(
                f"{path:22} median {statistics.median(times) * 1000:7.1f} ms  "
                f"best {min(times) * 1000:7.1f} ms  {per_request:3d} statements"
            )


if __name__ == "__main__":
    main()

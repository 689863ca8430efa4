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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event  # noqa: E402

from app import create_app  # noqa: E402
from app.demo.data.network import DEMO_PASSWORD  # noqa: E402
from app.extensions import db  # noqa: E402

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

"""Time the JSON API's reading endpoints on a populated database, beside the web pages that
show the same things, with their statement counts.

    DATABASE_URL=sqlite:////tmp/relais-10k.sqlite3 RELAIS_ENV=development \\
        .venv/bin/python bench/api.py [--repeat 10]

The database must hold the demo network and a synthetic caseload (``flask --app app db
upgrade && flask --app app demo load && flask --app app demo generate --people 10000``), made
with the same development keys. A token of the Mission Locale (every scope) is created for
the run and revoked at its end. Each request is sent once to warm up, then ``--repeat``
times through the Flask test client (everything but the network); the median and the best
time are printed with the number of SQL statements of one request. The web pages are signed
in as the Mission Locale's demo caseworker.
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
from app.domain.api import Scope  # noqa: E402
from app.extensions import db  # noqa: E402
from app.services.api.tokens import create_token, revoke_token  # noqa: E402
from app.services.structures import get_structure  # noqa: E402

STRUCTURE = "ML90"
CASEWORKER = "conseil@ml90.demo"


def _token(app: Any) -> tuple[int, str]:
    with app.app_context():
        session = db.session()
        token, value = create_token(
            session,
            None,
            get_structure(session, STRUCTURE),
            name="bench/api.py",
            scopes=[scope.value for scope in Scope],
            now=datetime.now(UTC),
        )
        session.commit()
        return token.id, value


def _revoke(app: Any, token_id: int) -> None:
    from app.models import ApiToken

    with app.app_context():
        session = db.session()
        token = session.get(ApiToken, token_id)
        if token is not None:
            revoke_token(session, None, token, now=datetime.now(UTC))
            session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    app.config["API_RATE_LIMIT"] = ""
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
    token_id, value = _token(app)
    api = app.test_client()
    headers = {"Authorization": f"Bearer {value}"}
    first = api.get("/api/v1/handoffs?box=inbox&limit=100", headers=headers).get_json()
    people = api.get("/api/v1/people?limit=25", headers=headers).get_json()
    requests: list[tuple[str, str, Any]] = [
        ("api", "/api/v1/people?limit=25", api),
        ("api", f"/api/v1/people?limit=25&cursor={people['next_cursor']}", api),
        ("api", "/api/v1/handoffs?box=inbox&limit=100", api),
        ("api", f"/api/v1/handoffs?box=inbox&since={first['next_cursor']}", api),
        ("api", "/api/v1/handoffs?box=outbox&limit=100", api),
        ("api", "/api/v1/directory", api),
    ]
    web = app.test_client()
    if web.post("/login", data={"email": CASEWORKER, "password": DEMO_PASSWORD}).status_code != 302:
        raise SystemExit(f"cannot sign in as {CASEWORKER}: is the demo loaded?")
    requests += [("web", "/people/", web), ("web", "/handoffs/", web)]
    try:
        for kind, path, client in requests:
            sent = headers if kind == "api" else {}
            statements = 0
            client.get(path, headers=sent)
            per_request = statements
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                response = client.get(path, headers=sent)
                times.append(time.perf_counter() - start)
                if response.status_code != 200:
                    raise SystemExit(f"{path}: HTTP {response.status_code}")
            shown = path if len(path) < 48 else path[:45] + "..."
            print(
                f"{kind} {shown:48} median {statistics.median(times) * 1000:7.1f} ms  "
                f"best {min(times) * 1000:7.1f} ms  {per_request:3d} statements"
            )
    finally:
        _revoke(app, token_id)


if __name__ == "__main__":
    main()

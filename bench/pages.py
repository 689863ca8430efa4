"""Time the caseworker's list pages on populated databases of several sizes, interleaved:
what should cost the same whatever the size of the territory.

    RELAIS_ENV=development .venv/bin/python bench/pages.py \\
        --sizes 1k=sqlite:////tmp/relais-1k.sqlite3,10k=...,100k=... [--repeat 9]

Each database must hold the demo network and a synthetic caseload (``flask --app app db
upgrade && flask --app app demo load && flask --app app demo generate --people N``), made with
the development keys of this checkout (``instance/relais-keys.json``), at the head revision.

One worker process per database (the application binds one engine per process) signs in as
the Mission Locale's caseworker (``conseil@ml90.demo``, second factor answered with the
development keys) and requests pages through the Flask test client (everything but the
network). The parent asks the workers in turn - every page at every size, then again, ``--repeat``
times - so that the sizes share the machine's load alike, and prints the median of each page at
each size, its SQL statements (counted on the warm-up request) and the median over the pages.

Pages: the caseload (newest first), its second page by the "next" link (a keyset cursor), the
same by number (``?page=2``, an ``OFFSET``), the other orders (longest without news, latest
news, stage, name - the whole caseload, then the people in training: sorted by name when they
are ``RELAIS_NAME_ORDER_LIMIT`` or fewer, else shown newest first with the page's notice) and
the stage filter, the inbox, the sent list and its second page, the work queue, and the page of
the followed person with the longest timeline (steps, barriers and hand-offs). ``--page
NAME=PATH`` adds a page, ``--skip NAME`` leaves one out (both repeatable).

The last line is ``caseload page at <largest> vs <smallest>: X.XX`` - the caseload's median at
the largest size over its median at the smallest (the goal is at most 1.5: flat in the size of
the database); ``--ratio "work queue"`` compares that page instead.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CASEWORKER = "conseil@ml90.demo"
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PAGES = (
    ("caseload", "/people/"),
    ("caseload next (cursor)", "next:/people/"),
    ("caseload ?page=2 (offset)", "/people/?page=2"),
    ("sort: idle", "/people/?sort=idle"),
    ("sort: last event", "/people/?sort=last_event"),
    ("sort: stage", "/people/?sort=stage"),
    ("sort: name", "/people/?sort=name"),
    ("sort: name, stage training", "/people/?sort=name&stage=training"),
    ("filter: stage training", "/people/?stage=training"),
    ("inbox", "/handoffs/"),
    ("sent", "/handoffs/?box=out"),
    ("sent next (cursor)", "next:/handoffs/?box=out"),
    ("work queue", "/work/"),
    ("person, longest timeline", "person:"),
)

# The followed person with the most timeline entries (steps, barriers, hand-offs).
LONGEST = """
SELECT b.pseudonym,
       (SELECT count(*) FROM pathway_steps s WHERE s.beneficiary_id = b.id)
     + (SELECT count(*) FROM barriers r WHERE r.beneficiary_id = b.id)
     + (SELECT count(*) FROM handoffs h WHERE h.beneficiary_id = b.id) AS entries
FROM beneficiaries b
JOIN follow_ups f ON f.beneficiary_id = b.id AND f.ended_on IS NULL
JOIN structures t ON t.id = f.structure_id
JOIN users u ON u.structure_id = t.id AND u.email = :email
WHERE b.erased_at IS NULL
ORDER BY entries DESC, b.pseudonym
LIMIT 1
"""


# -- the worker: one database, one application ------------------------------------------------


def _code(app: Any, email: str) -> str:
    """The demo account's current code (its seed read with the development keys), or the next
    step's when an earlier run spent the current one."""
    from app.extensions import db
    from app.services.security import second_factor
    from app.services.security.accounts import find_user

    with app.app_context():
        user = find_user(db.session(), email)
        if user is None:
            raise SystemExit(f"{email} is not an account: is the demo loaded?")
        enrolment = second_factor.enrolment(app.extensions["relais_vault"].keys, user)
        if enrolment is None:
            raise SystemExit(f"{email} has no second factor to answer")
        step = second_factor.time_step(datetime.now(UTC))
        used = user.second_factor_step if user.second_factor_step is not None else -1
        return second_factor.code_at(enrolment.seed, max(step, used + 1))


def serve(url: str) -> None:
    """Answer the parent's page names, one a line, with ``{"ms": ..., "statements": ...}``."""
    from sqlalchemy import event, text

    from app import create_app
    from app.demo.data.network import DEMO_PASSWORD
    from app.extensions import db

    app = create_app(overrides={"DATABASE_URL": url})
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        found = db.session().execute(text(LONGEST), {"email": CASEWORKER}).first()
        if found is None:
            raise SystemExit(f"{url}: {CASEWORKER} follows nobody: is the caseload generated?")
        pseudonym, entries = found
    client = app.test_client()

    def token(path: str) -> str:  # CSRF stays on: the person page's forms render it
        found = TOKEN.search(client.get(path).get_data(as_text=True))
        if found is None:
            raise SystemExit(f"{url}: {path} has no CSRF token")
        return found.group(1)

    signed_in = client.post(
        "/login",
        data={"email": CASEWORKER, "password": DEMO_PASSWORD, "csrf_token": token("/login")},
    )
    if signed_in.status_code != 302:
        raise SystemExit(f"{url}: cannot sign in as {CASEWORKER}: is the demo loaded?")
    if signed_in.headers["Location"].endswith("/login/code"):
        code = _code(app, CASEWORKER)
        signed_in = client.post(
            "/login/code", data={"code": code, "csrf_token": token("/login/code")}
        )
    paths: dict[str, str] = {}
    for name, path in json.loads(os.environ.get("RELAIS_BENCH_PAGES", "null")) or PAGES:
        if path.startswith("next:"):
            first = client.get(path.removeprefix("next:")).get_data(as_text=True)
            link = NEXT.search(first)
            if link is None:
                raise SystemExit(f"{url}: {path} has no next page")
            path = html.unescape(link.group(1))
        elif path == "person:":
            path = f"/people/{pseudonym}"
        paths[name] = path
    print(json.dumps({"entries": entries}), flush=True)
    for line in sys.stdin:
        name = line.strip()
        statements = 0
        start = time.perf_counter()
        response = client.get(paths[name])
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise SystemExit(f"{url}: {paths[name]}: HTTP {response.status_code}")
        print(json.dumps({"ms": elapsed * 1000, "statements": statements}), flush=True)


# -- the parent: interleaving the sizes --------------------------------------------------------


class Worker:
    def __init__(self, label: str, url: str) -> None:
        self.label = label
        self.process = subprocess.Popen(  # noqa: S603 - this script, with its own arguments
            [sys.executable, __file__, "--serve", url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        self.entries = self._answer()["entries"]

    def _answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the worker of {self.label} stopped (see above)")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def time(self, name: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(name + "\n")
        self.process.stdin.flush()
        return self._answer()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait()


def _sizes(text: str) -> list[tuple[str, str]]:
    sizes = []
    for part in text.split(","):
        label, _, url = part.partition("=")
        if not label or not url:
            raise SystemExit(f"--sizes: {part!r} is not LABEL=URL")
        sizes.append((label, url))
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", help="LABEL=DATABASE_URL,... smallest first")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="PAGE",
        help="a page to leave out, by its name (repeatable: --skip 'work queue' --skip inbox)",
    )
    parser.add_argument(
        "--page",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="one more page to time (repeatable), e.g. 'name, barriers=/people/?sort=name&stage=barriers'",
    )
    parser.add_argument(
        "--ratio", default="caseload", help="the page whose largest-vs-smallest ratio ends the run"
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    if not args.sizes:
        parser.error("--sizes is required")
    extra = []
    for text in args.page:
        name, _, path = text.partition("=")
        if not name.strip() or not path.startswith("/"):
            parser.error(f"--page {text!r}: give NAME=PATH, the path starting with /")
        extra.append((name.strip(), path))
    pages = [*PAGES, *extra]
    unknown = set(args.skip) - {name for name, _path in pages}
    if unknown:
        parser.error(f"--skip: no page is named {', '.join(sorted(map(repr, unknown)))}")
    os.environ["RELAIS_BENCH_PAGES"] = json.dumps(pages)
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]}")
    workers = [Worker(label, url) for label, url in _sizes(args.sizes)]
    names = [name for name, _path in pages if name not in args.skip]
    if args.ratio not in names:
        parser.error(f"{args.ratio!r} cannot be skipped: the last line compares it")
    times: dict[tuple[str, str], list[float]] = {}
    counts: dict[tuple[str, str], int] = {}
    for worker in workers:  # warm-up, and the statements of each page
        for name in names:
            counts[worker.label, name] = worker.time(name)["statements"]
    for _ in range(args.repeat):
        for name in names:
            for worker in workers:
                times.setdefault((worker.label, name), []).append(worker.time(name)["ms"])
    for worker in workers:
        worker.close()
    labels = [worker.label for worker in workers]
    print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}")
    entries = ", ".join(f"{w.label} {w.entries}" for w in workers)
    print(f"median of {args.repeat} requests, ms (statements); longest timeline: {entries}")
    print(f"{'page':28}" + "".join(f"{label:>16}" for label in labels))
    medians: dict[tuple[str, str], float] = {}
    for name in names:
        cells = []
        for label in labels:
            medians[label, name] = statistics.median(times[label, name])
            cells.append(f"{medians[label, name]:9.1f} ({counts[label, name]:3d})")
        print(f"{name:28}" + "".join(f"{cell:>16}" for cell in cells))
    for label in labels:
        over_pages = statistics.median(medians[label, name] for name in names)
        print(f"p50 over the pages at {label}: {over_pages:.1f} ms")
    smallest, largest = labels[0], labels[-1]
    ratio = medians[largest, args.ratio] / medians[smallest, args.ratio]
    print(f"{args.ratio} page at {largest} vs {smallest}: {ratio:.2f}")


if __name__ == "__main__":
    main()

"""Audited page views per second as concurrent users grow, against the same views unaudited.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/relais-10k RELAIS_ENV=development \\
        .venv/bin/python bench/audit.py [--path /people/] [--seconds 5] [--rounds 3]

The database holds the demo network and a synthetic caseload (``flask --app app db upgrade
&& flask --app app demo load && flask --app app demo generate --people 10000``), made with the
development keys of this checkout's instance folder. The script starts gunicorn (``--workers``
processes of ``--threads`` threads) on the Relais application, signs in as the demo caseworker
and, for 1, 2, 4, 8, 16 and 32 concurrent clients (each one request at a time, without pause),
counts the page views answered in ``--seconds``:

* **audited**: the page as Relais serves it (its ``beneficiary:reveal`` event chained);
* **unaudited** (the floor): the same request, with ``audit.record`` and ``audit.record_many``
  turned into no-ops for requests that carry the ``X-Bench-Unaudited`` header. The switch
  lives in this script's WSGI entry point (``bench_app``), never in the application.

Audited and unaudited windows alternate (A, B, B, A...) and each is repeated ``--rounds``
times; the table gives the median views per second of each and their ratio. Every window
checks what it wrote: the audited one as many audit events per view as the page records
(one with this checkout; 26 per caseload view where the reveals were one event a person),
the unaudited one none. ``--code DIR`` serves another checkout of Relais (the same database
and keys) to compare versions. The last line is the ratio at 16 clients.
"""

from __future__ import annotations

import argparse
import contextvars
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent
EMAIL = "conseil@ml90.demo"
LEVELS = (1, 2, 4, 8, 16, 32)
UNAUDITED = "X-Bench-Unaudited"

_skip_audit: contextvars.ContextVar[bool] = contextvars.ContextVar("skip_audit", default=False)


def bench_app() -> Any:
    """The WSGI application gunicorn serves: Relais, with the unaudited switch (the header)."""
    from flask import request

    from app import create_app
    from app.services.security import audit

    def switchable(original: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            return None if _skip_audit.get() else original(*args, **kwargs)

        return call

    audit.record = switchable(audit.record)
    audit.record_many = switchable(audit.record_many)
    application = create_app()
    print(f"serving {Path(sys.modules['app'].__file__ or '').parent}", file=sys.stderr)

    @application.before_request
    def _switch() -> None:
        _skip_audit.set(request.headers.get(UNAUDITED) == "1")

    return application


# -- the client side -------------------------------------------------------------------------


def _start_gunicorn(args: argparse.Namespace, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(args.code).resolve()), str(HERE)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # another checkout is only read
    env.setdefault("RELAIS_INSTANCE_PATH", str(CHECKOUT / "instance"))
    code = Path(args.code).resolve()
    config = (
        ["--config", str(code / "gunicorn.conf.py")] if (code / "gunicorn.conf.py").exists() else []
    )
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        *config,
        "--workers", str(args.workers), "--threads", str(args.threads),
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--no-control-socket",
        "--chdir", str(code),
        "audit:bench_app()",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env, cwd=code)  # noqa: S603 - our own gunicorn, fixed arguments
    for _ in range(1200):  # preloading the application takes a while on a busy machine
        try:
            requests.get(f"http://127.0.0.1:{port}/login", timeout=2)
            return server
        except requests.ConnectionError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _sign_in(base: str) -> requests.Session:
    from app.demo.data.network import DEMO_PASSWORD

    client = requests.Session()
    client.get(f"{base}/login", timeout=10)
    answer = client.post(
        f"{base}/login",
        data={"email": EMAIL, "password": DEMO_PASSWORD, "csrf_token": _csrf(client, base)},
        allow_redirects=False,
        timeout=10,
    )
    if answer.status_code != 302 or answer.headers["Location"].endswith("/login/code"):
        raise SystemExit(f"cannot sign in as {EMAIL} (is the demo loaded, without 2FA for it?)")
    return client


def _csrf(client: requests.Session, base: str) -> str:
    page = client.get(f"{base}/login", timeout=10).text
    marker = 'name="csrf_token" type="hidden" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def _window(
    base: str, path: str, cookies: Any, clients: int, seconds: float, unaudited: bool
) -> tuple[int, float]:
    """(views answered, seconds taken) for ``clients`` concurrent clients that start views
    for ``seconds``; the time runs until the last view started is answered."""
    done = [0] * clients
    failures: list[str] = []
    began = time.perf_counter()
    stop = began + seconds
    headers = {UNAUDITED: "1"} if unaudited else {}

    def client(n: int) -> None:
        session = requests.Session()
        session.cookies.update(cookies)
        while time.perf_counter() < stop:
            try:
                answer = session.get(base + path, headers=headers, timeout=60)
            except requests.RequestException as exc:  # a worker killed by gunicorn's timeout
                failures.append(type(exc).__name__)
                return
            if answer.status_code != 200:
                failures.append(f"HTTP {answer.status_code}")
                return
            done[n] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        print(f"  {len(failures)} client(s) stopped: {', '.join(sorted(set(failures)))}")
    return sum(done), time.perf_counter() - began


def _audit_rows(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        count = int(connection.execute(text("SELECT seq FROM audit_chain_head")).scalar_one())
    engine.dispose()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default="/people/")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--code", default=str(CHECKOUT), help="the Relais checkout to serve")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        raise SystemExit("set DATABASE_URL to a populated PostgreSQL database")
    sys.path.insert(0, str(CHECKOUT))
    port = args.port or _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start_gunicorn(args, port)
    try:
        cookies = _sign_in(base).cookies
        for unaudited in (False, True):  # warm every worker up
            _window(base, args.path, cookies, args.workers * 2, 2.0, unaudited)
        print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {os.getloadavg()}")
        print(f"GET {args.path}, gunicorn {args.workers} workers x {args.threads} threads")
        print(
            f"{'clients':>7} {'audited/s':>10} {'unaudited/s':>12} {'ratio':>6} {'events/view':>12}"
        )
        ratios: dict[int, float] = {}
        for clients in LEVELS:
            rates: dict[bool, list[float]] = {False: [], True: []}
            per_view: list[float] = []
            for round_ in range(args.rounds):
                order = (False, True) if round_ % 2 == 0 else (True, False)
                for unaudited in order:
                    before = _audit_rows(url)
                    views, took = _window(
                        base, args.path, cookies, clients, args.seconds, unaudited
                    )
                    written = _audit_rows(url) - before
                    if unaudited and written:
                        raise SystemExit(f"the unaudited views wrote {written} audit rows")
                    if not unaudited:
                        if not written:
                            raise SystemExit("the audited views wrote no audit row")
                        per_view.append(written / views)
                    rates[unaudited].append(views / took)
            audited, floor = statistics.median(rates[False]), statistics.median(rates[True])
            ratios[clients] = audited / floor
            print(
                f"{clients:7d} {audited:10.1f} {floor:12.1f} {ratios[clients]:6.2f}"
                f" {statistics.median(per_view):12.2f}"
            )
        print(f"load average after: {os.getloadavg()}")
        print(f"audited views/s at 16 writers vs unaudited: {ratios[16]:.2f}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=120)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()

"""The CPU an accept costs, in one process: Relais's ``POST /handoffs/<id>/accept`` against the
floor of ``bench/handoff_floor.py`` (the same cookie check, the same writes in raw SQL), each
through its Flask test client, on a populated PostgreSQL database.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/relais-10k RELAIS_ENV=development \\
        .venv/bin/python bench/handoff_cpu.py [--batches 6] [--per-batch 15] [--profile 40]

The database is the one of ``bench/handoff_load.py`` (demo network and a synthetic caseload,
made with this checkout's development keys). ``bench/handoff_load.py`` measures throughput on
gunicorn, which on a shared machine follows the load; this bench measures what each request
costs the application's process (``time.process_time``: the CPU of this process only, not the
database server's, not the waiting), which the load barely moves. The request is sent as the
load bench's clients send it: the sign-in cookie, the CSRF token of a page, no redirect
followed, the cookies the answer sets dropped.

After a warm-up of each (templates, catalogues, prepared statements), batches of
``--per-batch`` accepts run in turn, Relais then the floor (interleaved), ``--batches`` times;
every accept must answer as it should (302 to the hand-off, 204). The median and best CPU
milliseconds per accept are printed with the wall-clock time, and last the ratio of the
medians: ``accept CPU per request vs same-writes floor: X.XX``. ``--profile N`` then profiles
one more batch of Relais accepts (``cProfile``) and prints the N functions with the most
cumulative time. The hand-offs are written for the bench (``handoff_load.prepare``); those
left pending are deleted.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import os
import pstats
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent))

from handoff_floor import create_floor  # noqa: E402
from handoff_load import RECEIVERS, _account, _libpq, forget_pending, prepare  # noqa: E402

from app import create_app  # noqa: E402
from app.demo.data.network import DEMO_PASSWORD  # noqa: E402
from app.extensions import db  # noqa: E402

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _signed_in(app: object, email: str) -> tuple[str, str]:
    """The session cookie's value and a CSRF token of ``email``, signed in with the demo password."""
    client = app.test_client()  # type: ignore[attr-defined]
    page = client.get("/login").get_data(as_text=True)
    token = TOKEN.search(page)
    assert token, "no CSRF token on /login"
    answer = client.post(
        "/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token.group(1)}
    )
    if answer.status_code != 302 or answer.location.endswith("/login/code"):
        raise SystemExit(f"cannot sign in as {email} (HTTP {answer.status_code})")
    page = client.get("/account/contact").get_data(as_text=True)
    token = TOKEN.search(page)
    assert token, "no CSRF token once signed in"
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])  # type: ignore[attr-defined]
    assert cookie is not None
    return cookie.value, token.group(1)


def accepter(variant: str, client: Any, cookie: str, csrf: str) -> Callable[[str], None]:
    """What accepts a hand-off through ``client`` (a test client without its own cookies) as
    the load bench's clients do: ``relais`` posts the page's form (its CSRF token), ``floor``
    the floor's endpoint; both with the sign-in cookie, the redirect not followed. An answer
    other than the expected one (302 to the hand-off, 204) stops the bench."""
    name = client.application.config["SESSION_COOKIE_NAME"]
    headers = {"Cookie": f"{name}={cookie}"}

    def accept(handoff_id: str) -> None:
        if variant == "relais":
            answer = client.post(
                f"/handoffs/{handoff_id}/accept",
                data={"accept-csrf_token": csrf},
                headers=headers,
            )
            ok = answer.status_code == 302 and handoff_id in answer.location
        else:
            answer = client.post(f"/floor/accept/{handoff_id}", headers=headers)
            ok = answer.status_code == 204
        if not ok:
            raise SystemExit(f"a {variant} accept answered HTTP {answer.status_code}")

    return accept


def _timed(requests: list[Callable[[], None]]) -> tuple[float, float]:
    """CPU and wall-clock seconds per request, over ``requests`` run in order."""
    cpu, wall = time.process_time(), time.perf_counter()
    for send in requests:
        send()
    count = len(requests)
    return (time.process_time() - cpu) / count, (time.perf_counter() - wall) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--per-batch", type=int, default=15)
    parser.add_argument("--profile", type=int, default=0, help="functions to list (0: none)")
    parser.add_argument("--statements", action="store_true", help="list one accept's SQL")
    parser.add_argument("--phases", action="store_true", help="CPU of each phase of an accept")
    args = parser.parse_args()
    db = psycopg.connect(_libpq(os.environ.get("DATABASE_URL", "")))
    relais, floor = create_app(), create_floor()
    # What gunicorn.conf.py does in the master before forking the workers: what the start
    # built is no longer walked by the garbage collector (for both applications).
    gc.collect()
    gc.freeze()
    email = RECEIVERS[0]
    _user, structure = _account(db, email)
    cookie, csrf = _signed_in(relais, email)
    relais_client = relais.test_client(use_cookies=False)
    floor_client = floor.test_client(use_cookies=False)
    written: list[str] = []

    accept = accepter("relais", relais_client, cookie, csrf)
    floor_accept = accepter("floor", floor_client, cookie, csrf)

    def batch(send: Callable[[str], None], count: int) -> list[Callable[[], None]]:
        ids = prepare(db, structure, count)
        written.extend(ids)
        return [functools.partial(send, i) for i in ids]

    try:
        for send in (accept, floor_accept):  # warm-up, not counted
            _timed(batch(send, 5))
        cpu: dict[str, list[float]] = {"relais": [], "floor": []}
        wall: dict[str, list[float]] = {"relais": [], "floor": []}
        for _ in range(args.batches):
            for variant, send in (("relais", accept), ("floor", floor_accept)):
                spent, took = _timed(batch(send, args.per_batch))
                cpu[variant].append(spent)
                wall[variant].append(took)
        for variant in ("relais", "floor"):
            print(
                f"{variant:>6}: CPU {statistics.median(cpu[variant]) * 1000:6.2f} ms per accept "
                f"(best {min(cpu[variant]) * 1000:6.2f}), wall "
                f"{statistics.median(wall[variant]) * 1000:6.2f} ms"
            )
        if args.statements:
            statements(relais, batch(accept, 1)[0])
        if args.phases:
            phases(relais, batch(accept, args.per_batch * 2))
        if args.profile:
            profile(batch(accept, args.per_batch), args.profile)
        ratio = statistics.median(cpu["relais"]) / statistics.median(cpu["floor"])
        print(f"accept CPU per request vs same-writes floor: {ratio:.2f}")
    finally:
        forget_pending(db, written)


def statements(app: object, send: Callable[[], None]) -> None:
    """Print the statements one accept sends (savepoints included: they are sent too)."""
    sent: list[str] = []

    def seen(*args: object) -> None:
        sent.append(" ".join(str(args[2]).split()))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        send()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    for number, statement in enumerate(sent, 1):
        print(f"{number:3d}. {statement}")


def phases(app: Any, requests: list[Callable[[], None]]) -> None:
    """Run ``requests`` with the CPU time of each phase of a request measured around the
    functions that make it (``time.process_time``, no profiler), and print it per request."""
    from app import unit_of_work
    from app.extensions import login_manager
    from app.services.handoffs import lists as handoff_lists
    from app.services.handoffs import transitions
    from app.services.security import audit
    from app.web.handoffs import views

    spent: dict[str, float] = {}

    def timed(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            began = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.process_time() - began

        return wrapper

    targets: list[tuple[str, Any, str]] = [
        ("before_request hooks", app, "preprocess_request"),
        ("  account + session (the user loader)", login_manager, "_user_callback"),
        ("view", app, "dispatch_request"),
        ("  hand-off read", handoff_lists, "handoff_for_party"),
        ("  the answer's form read", views, "read_form"),
        ("  service (apply_event)", views, "apply_event"),
        ("    links revoked (and the transition's insert)", transitions, "revoke_after_transition"),
        ("    mail queued (sender read)", transitions, "notify_handoff"),
        ("    webhooks (and the mail's insert)", transitions, "notify_webhooks"),
        ("    follow-up (read, insert)", transitions, "start_follow_up"),
        ("  confirmation's name (data key, decryption)", views, "who"),
        ("after_request hooks", app, "process_response"),
        ("  commit (audit chain included)", unit_of_work, "complete"),
        ("    audit chain (lock, head, MACs)", audit, "_chain"),
        # Across the phases: what the database layers cost (docs/performance.md, session 7).
        (
            "SQLAlchemy's execution of the statements (the driver's included)",
            Connection,
            "_execute_context",
        ),
        ("  psycopg's execute", psycopg.Cursor, "execute"),
        ("ORM statements (Session.execute, their objects' loading included)", Session, "execute"),
    ]
    saved = [(owner, name, getattr(owner, name)) for _label, owner, name in targets]
    for label, owner, name in targets:
        setattr(owner, name, timed(label, getattr(owner, name)))
    try:
        began = time.process_time()
        for send in requests:
            send()
        whole = time.process_time() - began
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)
    count = len(requests)
    print(f"CPU per accept by phase (ms, {count} accepts, no profiler):")
    print(f"  {whole / count * 1000:6.2f}  whole request, test client included")
    for label, _owner, _name in targets:
        print(f"  {spent.get(label, 0.0) / count * 1000:6.2f}  {label}")


def profile(requests: list[Callable[[], None]], top: int) -> None:
    """Profile ``requests`` (CPU time only) and print the ``top`` functions by cumulative
    time. The profiler slows everything (about twice): read the shares, not the times."""
    profiler = cProfile.Profile(time.process_time)  # CPU only, not the waits
    profiler.enable()
    for send in requests:
        send()
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(top)


if __name__ == "__main__":
    main()

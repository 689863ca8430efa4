"""The CPU instructions an accept costs the application's process, counted by valgrind:
Relais's ``POST /handoffs/<id>/accept`` against the floor of ``bench/handoff_floor.py`` (the
same cookie check, the same writes in raw SQL), each through its Flask test client, on a
populated PostgreSQL database.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/relais-10k RELAIS_ENV=development \\
        .venv/bin/python bench/handoff_instructions.py [--accepts 20]

``bench/handoff_cpu.py`` times the same requests with ``time.process_time``, which moves by
10-20 % from one run to the next on a shared machine: too much to see a change of a few per
cent. valgrind's ``callgrind`` counts the instructions the process executes instead, the same
from one run to the next (0.2 % apart here), whatever else the machine does. The database
server's instructions are not counted (another process), nor the time waiting for it.

The database is the one of ``bench/handoff_load.py`` (demo network and a synthetic caseload,
made with this checkout's development keys); valgrind must be installed (Debian's
``valgrind``). The receiving caseworker signs in once without valgrind (the password hash
under valgrind would take minutes); then each variant runs in a child process under
``valgrind --tool=callgrind``, both at once (one per core): the application is built, eight
accepts warm it up (templates, catalogues, prepared statements), then ``--accepts`` accepts
are each made inside ``operator.call``, the only function whose instructions callgrind
collects (``--toggle-collect``; nothing in a request calls it). Every accept must answer as it
should (302 to the hand-off, 204). It prints the instructions per accept of each, and last
``accept instructions vs same-writes floor: X.XX``. About three minutes (building the
application under valgrind is most of it). The hand-offs are written for the bench
(``handoff_load.prepare``); those left pending are deleted.
"""

from __future__ import annotations

import argparse
import gc
import operator
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent))

from handoff_cpu import _signed_in, accepter  # noqa: E402
from handoff_floor import create_floor  # noqa: E402
from handoff_load import RECEIVERS, _account, _libpq, forget_pending, prepare  # noqa: E402

from app import create_app  # noqa: E402

WARM_UP = 8
COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def _run_variant(variant: str, count: int, cookie: str, csrf: str) -> None:
    """In the child under valgrind: warm up, then ``count`` accepts inside ``operator.call``."""
    db = psycopg.connect(_libpq(os.environ.get("DATABASE_URL", "")))
    app = create_app() if variant == "relais" else create_floor()
    gc.collect()
    gc.freeze()  # as gunicorn.conf.py does before forking the workers
    _user, structure = _account(db, RECEIVERS[0])
    accept = accepter(variant, app.test_client(use_cookies=False), cookie, csrf)
    ids = prepare(db, structure, WARM_UP + count)
    try:
        for handoff_id in ids[:WARM_UP]:
            accept(handoff_id)
        for handoff_id in ids[WARM_UP:]:
            operator.call(accept, handoff_id)
    finally:
        forget_pending(db, ids)


def _count(variant: str, count: int, cookie: str, csrf: str) -> subprocess.Popen[str]:
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    command = [
        valgrind,
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        "--collect-atstart=no",
        "--toggle-collect=_operator_call",
        sys.executable,
        __file__,
        "--variant",
        variant,
        "--accepts",
        str(count),
    ]
    env = {**os.environ, "HANDOFF_COOKIE": cookie, "HANDOFF_CSRF": csrf}
    # Our own script under valgrind, with fixed arguments.
    return subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)  # noqa: S603


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accepts", type=int, default=20)
    parser.add_argument("--variant", choices=("relais", "floor"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:  # the child, under valgrind
        _run_variant(
            args.variant, args.accepts, os.environ["HANDOFF_COOKIE"], os.environ["HANDOFF_CSRF"]
        )
        return
    cookie, csrf = _signed_in(create_app(), RECEIVERS[0])
    children = {
        variant: _count(variant, args.accepts, cookie, csrf) for variant in ("relais", "floor")
    }
    per_accept: dict[str, float] = {}
    for variant, child in children.items():
        _out, err = child.communicate()
        found = COLLECTED.search(err)
        if child.returncode != 0 or found is None:
            raise SystemExit(f"the {variant} run failed:\n{err[-2000:]}")
        per_accept[variant] = int(found.group(1)) / args.accepts
        print(f"{variant:>6}: {per_accept[variant] / 1e6:6.2f} M instructions per accept")
    ratio = per_accept["relais"] / per_accept["floor"]
    print(f"accept instructions vs same-writes floor: {ratio:.2f}")


if __name__ == "__main__":
    main()

"""Identity display against its floor: a page of 25 people's names, audited, on a populated
database.

    DATABASE_URL=sqlite:////tmp/h4-10k.sqlite3 RELAIS_ENV=development \\
        .venv/bin/python bench/identity.py [--repeat 30] [--pages 8] [--email conseil@ml90.demo]

The database must hold the demo network and a synthetic caseload (``flask --app app db
upgrade && flask --app app demo load && flask --app app demo generate --people 10000``), made
with the same development keys (``instance/relais-keys.json``). The script takes ``--pages``
pages of 25 people the account's structure follows (their rows loaded beforehand, as the list
page's own query loads them) and times, page after page:

(a) the identity display of the list pages: ``identity.reveal_identities`` with the caseload's
    fields (last name, first name, birth date) for the 25 people - their data keys read in one
    query and unwrapped, the fields decrypted, the reveal written to the audit chain (flushed
    in the transaction); the commit that follows is timed apart and printed too (on SQLite
    it is a disk sync, which any request that writes pays once, whatever it shows);
(b) the floor: the same 25 wrapped keys read with the raw driver in one statement, unwrapped
    with ``cryptography``'s AES key unwrap, and the same 75 fields decrypted with ``AESGCM``
    and their associated data (nothing recorded).

Before timing, the script checks that (b) reads exactly the names (a) shows. The two are run
in turn, interleaved (a, b, a, b...), ``--repeat`` times over every page; the medians and the
best runs are printed per person, and the ratio with the commit. The last line printed is
``identity display vs bare unwrap+decrypt: X.XX``, the median of (a) over the median of (b)
(the goal is at most 20).
Each run of (a) appends 25 reveals to the database's audit log.
"""

from __future__ import annotations

import argparse
import os
import statistics
import struct
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap_with_padding  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Beneficiary, FollowUp  # noqa: E402
from app.services.people import identity  # noqa: E402
from app.services.security.accounts import find_user  # noqa: E402

PAGE = 25
FIELDS = identity.SUMMARY_FIELDS
HEADER = 1 + 4 + 12  # format version, key id, nonce


def _aad(key_id: bytes, column: str, person_id: uuid.UUID) -> bytes:
    """The associated data of an identity field, written out from its definition (what
    ``app.crypto.fields.FieldContext.associated_data`` binds a ciphertext to)."""
    parts = (
        b"relais-field",
        b"\x01",
        key_id,
        b"beneficiaries",
        column.encode(),
        person_id.bytes,
        person_id.bytes,
    )
    return b"".join(struct.pack(">I", len(part)) + part for part in parts)


class Floor:
    """(b): the raw driver and ``cryptography``, nothing else."""

    def __init__(self, app: Any) -> None:
        self.connection = db.engine.raw_connection()
        self.sqlite = db.engine.dialect.name == "sqlite"
        self.keks = app.extensions["relais_vault"].keys.keks

    def names(self, people: Sequence[tuple[uuid.UUID, dict[str, bytes | None]]]) -> list[Any]:
        marks = ", ".join(["?" if self.sqlite else "%s"] * len(people))
        ids = [pid.hex if self.sqlite else pid for pid, _ in people]
        cursor = self.connection.cursor()
        cursor.execute(
            "SELECT beneficiary_id, kek_id, wrapped_key FROM person_keys"
            f" WHERE beneficiary_id IN ({marks})",  # noqa: S608 - placeholders only
            ids,
        )
        keys = {}
        for person_id, kek_id, wrapped in cursor.fetchall():
            clear = aes_key_unwrap_with_padding(self.keks[kek_id], bytes(wrapped))
            keys[uuid.UUID(str(person_id))] = (clear[:4], AESGCM(clear[4:]))
        cursor.close()
        shown = []
        for pid, stored in people:
            key_id, cipher = keys[pid]
            values: list[str | None] = []
            for column in FIELDS:
                sealed = stored[column]
                if sealed is None:
                    values.append(None)
                    continue
                clear = cipher.decrypt(sealed[5:HEADER], sealed[HEADER:], _aad(key_id, column, pid))
                values.append(clear.decode())
            shown.append(tuple(values))
        return shown


def _pages(session: Session, email: str, count: int) -> list[list[Beneficiary]]:
    user = find_user(session, email)
    if user is None or user.structure_id is None:
        raise SystemExit(f"{email}: no such caseworker")
    followed = (
        select(FollowUp.beneficiary_id)
        .where(FollowUp.structure_id == user.structure_id, FollowUp.ended_on.is_(None))
        .order_by(FollowUp.beneficiary_id)
        .limit(PAGE * count)
    )
    ids = list(session.scalars(followed))
    people = list(session.scalars(select(Beneficiary).where(Beneficiary.id.in_(ids))))
    if len(people) < PAGE * count:
        raise SystemExit(f"{email} follows {len(people)} people: fewer than {count} pages")
    return [people[n : n + PAGE] for n in range(0, PAGE * count, PAGE)]


def _as_floor_input(page: list[Beneficiary]) -> list[tuple[uuid.UUID, dict[str, bytes | None]]]:
    return [(p.id, {column: getattr(p, column) for column in FIELDS}) for p in page]


def _shown(identities: dict[uuid.UUID, identity.Identity], page: list[Beneficiary]) -> list[Any]:
    out = []
    for person in page:
        found = identities[person.id]
        birth = found.birth_date.isoformat() if found.birth_date else None
        out.append((found.last_name or None, found.first_name or None, birth))
    return out


def _time(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--pages", type=int, default=8)
    parser.add_argument("--email", default="conseil@ml90.demo")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("set DATABASE_URL to a populated database (see the docstring)")
    app = create_app()
    with app.app_context():
        vault = app.extensions["relais_vault"]
        # Its own session, which keeps the loaded rows across the commits of the audit.
        session = Session(db.engine, expire_on_commit=False)
        user = find_user(session, args.email)
        assert user is not None
        pages = _pages(session, args.email, args.pages)
        floor = Floor(app)
        inputs = [_as_floor_input(page) for page in pages]

        def service(page: list[Beneficiary]) -> dict[uuid.UUID, identity.Identity]:
            shown = identity.reveal_identities(vault, session, user, page, "caseload", FIELDS)
            session.flush()  # the audit rows written in the transaction
            return shown

        for page, given in zip(pages, inputs, strict=True):  # same answer, and warm-up
            if _shown(service(page), page) != floor.names(given):
                raise SystemExit("the floor does not read what the service shows")
            session.commit()
        a: list[float] = []
        b: list[float] = []
        commits: list[float] = []
        for _ in range(args.repeat):
            for page, given in zip(pages, inputs, strict=True):
                a.append(_time(lambda page=page: service(page)))  # type: ignore[misc]
                commits.append(_time(session.commit))
                b.append(_time(lambda given=given: floor.names(given)))  # type: ignore[misc]
        floor.connection.close()
        session.close()
    per = 1e6 / PAGE
    print(f"database: {db.engine.dialect.name}, {args.pages} pages of {PAGE} people, "
          f"{args.repeat} rounds, load average {Path('/proc/loadavg').read_text().split()[:3]}")  # fmt: skip
    with_commit = [x + y for x, y in zip(a, commits, strict=True)]
    for name, runs in (
        ("(a) identity display, audit written", a),
        ("    the commit of the audit write", commits),
        ("(a) with that commit", with_commit),
        ("(b) bare unwrap+decrypt", b),
    ):
        print(f"{name}: median {statistics.median(runs) * per:.1f} µs/person, "
              f"best {min(runs) * per:.1f} µs/person")  # fmt: skip
    print(f"best vs best: {min(a) / min(b):.2f}")
    print(
        f"with the commit, median vs median: {statistics.median(with_commit) / statistics.median(b):.2f}"
    )
    print(
        f"identity display vs bare unwrap+decrypt: {statistics.median(a) / statistics.median(b):.2f}"
    )


if __name__ == "__main__":
    main()

"""Time the caseload search of a structure following thousands of people.

    .venv/bin/python bench/search.py [--people 5000] [--others 5000] [--queries 40]

Builds a temporary SQLite database migrated to head (or uses ``DATABASE_URL`` when set, which
it leaves as it found it apart from the migrations: everything happens in a transaction that
is rolled back), two structures with a caseworker each, and imports ``--people`` people into
the first and ``--others`` into the second with the import service (sealed identities, blind
indexes, name prefixes). Names are drawn from the synthetic generator's pools (about a hundred
last names and as many first names: far more people share a name, and a name prefix, than in
a real caseload, so the candidates counted here are on the high side).

Then, for ``--queries`` people of the first structure, it times one search of each kind
through ``app.services.people.search.search_caseload`` - the SQL narrowing on the blind
indexes, the decryption of the candidates in memory, the confirmation, the page of rows - and
prints the median, the worst and the median number of candidates decrypted; then the list
sorted by name (every name of the caseload decrypted). The caseworker's page adds the reveal
(and audit) of at most 25 displayed people and the template, as for the unsearched list
(``bench/pages.py``); it sorts by name lists of up to ``RELAIS_NAME_ORDER_LIMIT`` people only
(3,000 by default), this bench the whole caseload whatever its size. The line the docs quote is
``search at 5000 people: X ms (decrypted: N candidates)``, for "last name first name".
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app import create_app  # noqa: E402
from app.crypto import KeyRing  # noqa: E402
from app.demo.synthetic.identities import FEMALE_NAMES, LAST_NAMES, MALE_NAMES  # noqa: E402
from app.domain.roles import Role  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Beneficiary, FollowUp, User  # noqa: E402
from app.services import imports  # noqa: E402
from app.services.people import search  # noqa: E402
from app.services.people.overview import Filters  # noqa: E402
from app.services.security.accounts import create_user  # noqa: E402
from app.services.security.vault import Vault  # noqa: E402
from app.services.structures import create_structure  # noqa: E402
from config import TestingConfig  # noqa: E402

TODAY = date(2026, 11, 25)
HEADER = ("Nom", "Prénom", "Date de naissance", "Téléphone", "E-mail", "Public", "Consentement")


def people(count: int, offset: int, rng: random.Random) -> list[dict[str, str]]:
    """``count`` made-up people (all valid and distinct by phone and e-mail)."""
    rows = []
    for n in range(offset, offset + count):
        first = rng.choice(rng.choice((FEMALE_NAMES, MALE_NAMES)))
        birth = date(rng.randint(1985, 2009), rng.randint(1, 12), rng.randint(1, 28))
        rows.append(
            {
                "last_name": rng.choice(LAST_NAMES),
                "first_name": first,
                "birth_date": birth.strftime("%d/%m/%Y"),
                "phone": f"+3361{n:07d}",
                "email": f"personne.{n}@exemple.fr",
            }
        )
    return rows


def to_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for r in rows:
        writer.writerow(
            (r["last_name"], r["first_name"], r["birth_date"], r["phone"], r["email"], "Tout public", "oral")
        )  # fmt: skip
    return out.getvalue().encode("utf-8")


def caseworker(session: Session, code: str) -> User:
    structure = create_structure(session, None, code=code, name=code, type_code="association")
    return create_user(
        session,
        None,
        email=f"bench-{uuid.uuid4().hex[:8]}@relais.example",
        display_name="Bench",
        role=Role.CASEWORKER,
        structure=structure,
        password=secrets.token_urlsafe(24),  # never used to sign in
        min_length=12,
    )


def load(session: Session, vault: Vault, actor: User, rows: list[dict[str, str]]) -> None:
    """Import ``rows`` in files of 20,000 lines (an import file is at most 5 MB)."""
    for start in range(0, len(rows), 20_000):
        part = rows[start : start + 20_000]
        result = imports.import_caseload(
            session, vault, actor, to_csv(part), today=TODAY, allow_duplicates=True
        )
        if result.imported != len(part):
            raise SystemExit(f"import failed: {result.errors[:3]}")


def timed(work: Callable[[], search.SearchResult | None]) -> tuple[float, int, int]:
    start = time.perf_counter()
    result = work()
    if result is None:  # the name order past its limit (not asked for here)
        raise SystemExit("the list was too long to sort by name")
    return time.perf_counter() - start, result.decrypted, result.page.total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--others", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=40)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    rng = random.Random(2026)

    with tempfile.TemporaryDirectory(prefix="relais-bench-") as folder:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        app = create_app(TestingConfig, overrides={"DATABASE_URL": url}, keyring=KeyRing.generate())
        vault: Vault = app.extensions["relais_vault"]
        with app.app_context():
            flask_migrate.upgrade()
            connection = db.engine.connect()
            outer = connection.begin()
            db.bind_to(connection)
            try:
                session = db.session()
                actor, other = caseworker(session, "BENCH-A"), caseworker(session, "BENCH-B")
                mine = people(args.people, 0, rng)
                started = time.perf_counter()
                load(session, vault, actor, mine)
                load(session, vault, other, people(args.others, args.people, rng))
                session.flush()
                followed = session.scalar(
                    select(func.count()).where(FollowUp.structure_id == actor.structure_id)
                )
                print(
                    f"database: {db.engine.dialect.name}; the structure follows {followed} "
                    f"people, {args.people + args.others} in all "
                    f"(imported in {time.perf_counter() - started:.0f} s)"
                )
                pseudonyms = dict(
                    session.execute(
                        select(Beneficiary.email_index, Beneficiary.pseudonym).where(
                            Beneficiary.created_by_structure_id == actor.structure_id
                        )
                    ).all()
                )
                sample = rng.sample(mine, args.queries)
                kinds: dict[str, Callable[[dict[str, str]], str]] = {
                    "last name first name": lambda p: f"{p['last_name']} {p['first_name']}",
                    "first name last name": lambda p: f"{p['first_name']} {p['last_name']}",
                    "last name only": lambda p: p["last_name"].upper(),
                    "3 letters of each": lambda p: f"{p['last_name'][:3]} {p['first_name'][:3]}",
                    "birth date": lambda p: p["birth_date"],
                    "phone": lambda p: "0" + p["phone"][3:],
                    "e-mail": lambda p: p["email"],
                    "pseudonym": lambda p: pseudonyms[
                        vault.indexer.compute("email", p["email"])
                    ].lower(),
                }
                width = max(len(kind) for kind in kinds)

                def run(text: str) -> search.SearchResult:
                    return search.search_caseload(
                        session, vault, actor, text, today=TODAY, filters=Filters()
                    )

                for kind, query in kinds.items():
                    run(query(sample[0]))  # warm up
                    runs = [timed(partial(run, query(p))) for p in sample]
                    times = [t for t, _, _ in runs]
                    decrypted = statistics.median(d for _, d, _ in runs)
                    found = statistics.median(n for _, _, n in runs)
                    print(
                        f"{kind:{width}}  median {statistics.median(times) * 1000:6.1f} ms  "
                        f"worst {max(times) * 1000:6.1f} ms  decrypted (median) {decrypted:6.0f}  "
                        f"found (median) {found:4.0f}"
                    )
                    if kind == "last name first name":
                        headline = (statistics.median(times), decrypted)
                by_name = [
                    timed(
                        lambda: search.caseload_by_name(
                            session,
                            vault,
                            actor,
                            today=TODAY,
                            filters=Filters(),
                            limit=args.people,  # the whole caseload, whatever the setting
                        )  # fmt: skip
                    )
                    for _ in range(5)
                ]
                print(
                    f"{'list sorted by name':{width}}  median "
                    f"{statistics.median(t for t, _, _ in by_name) * 1000:6.1f} ms  "
                    f"decrypted {by_name[0][1]}"
                )
                print(
                    f"search at {followed} people: {headline[0] * 1000:.0f} ms "
                    f"(decrypted: {headline[1]:.0f} candidates)"
                )
            finally:
                db.session.remove()
                outer.rollback()
                connection.close()
                db.bind_to(db.engine)
        db.engine.dispose()


if __name__ == "__main__":
    main()

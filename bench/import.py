"""Benchmark of the caseload import against a bare encrypt-and-insert baseline and a minimal
raw-driver floor, on an empty or a populated database.

    .venv/bin/python bench/import.py [--rows 10000] [--repeat 3] [--xlsx]
    DATABASE_URL=sqlite:////tmp/relais-100k.sqlite3 RELAIS_ENV=development \
        .venv/bin/python bench/import.py --into 100000 [--rows 10000] [--repeat 3]

Builds a temporary SQLite database migrated to head (or uses ``DATABASE_URL`` when set, which
it leaves as it found it apart from the migrations: everything else happens in a transaction
that is rolled back), one structure and one caseworker, and a CSV file of ``--rows`` people
written as a French spreadsheet exports it.

With ``--into N`` it imports into the populated database of ``DATABASE_URL`` instead - one made
by ``flask --app app demo generate`` with the development keys (``instance/relais-keys.json``:
the duplicate lookup decrypts its candidates), already at the head revision, holding at least
N people (the script refuses otherwise, and says how many people still lack the import's
lookup indexes: ``flask --app app keys rebuild-index`` fills them). The file is imported with
``allow_duplicates`` (a synthetic caseload may share a phone number with the file: the lookup
runs and warns all the same). Then it times, each run in a savepoint rolled back (and released) afterwards so
that every run starts from the same tables:

(a) ``app.services.imports.import_caseload``: decoding, header matching, validation of every
    line (``clean_identity``, reference lists, consent), the possible-duplicate lookup and its
    audit, then the writing (data keys, sealed identity, blind indexes, cohorts, follow-up,
    consent, audit events), one statement per table and batch (an executemany of the
    INSERT, or on PostgreSQL a ``COPY``: see ``app.services.imports.bulk``);
(b) a bare baseline without the service layer: for each person generate a data key, wrap it,
    encrypt the same identity fields with ``encrypt_field``, and insert the ``beneficiaries``
    and ``person_keys`` rows with one Core executemany per table and batch (on both
    databases: the baseline is left as it was defined);
(c) for information, the same bare work also inserting the other rows an imported person
    needs (cohort link, follow-up, consent) - still without validation, blind indexes,
    duplicate lookup or audit;
(f) the minimal floor: the same ``beneficiaries`` and ``person_keys`` rows with the same
    encrypted columns (same field format and associated data as ``app.crypto.fields``), made
    with one AES-GCM object per person and written with the raw driver: ``COPY`` on
    PostgreSQL (psycopg), ``executemany`` on SQLite (sqlite3) - no SQLAlchemy, no ORM.

The four are run in turn (interleaved) ``--repeat`` times. One more run through the service's
steps prints where its time goes, and the peak memory (``tracemalloc``) of one service import
and of one floor run is measured apart (tracing slows them down: never in the timed runs;
``--no-memory`` skips it); the breakdown also prints the lookup's candidates and the people it
decrypted; the load average is printed before and after the runs. The CPU time of each run
is measured too - this process's, plus on a local PostgreSQL the backend's (read from
``/proc``) - and its least per contender printed with (a)/(f) in CPU time: on a shared
machine the wall-clock times also count the time waiting for a core. The best run of each is compared: the
line ``import overhead vs bare encrypt+insert: X.XX``, (a) over (b) (the figure reported
before the floor existed), then last ``import into N people vs minimal floor: X.XX``, (a)
over (f), N the people in the database before the import (the target at 100,000 is 4).

With ``--xlsx`` the service imports the same people from an .xlsx file (written by openpyxl,
a development dependency: birth dates as date cells, the rest as text), and the time to read
each file (``imports.read_sheet``, best of ``--repeat``) is printed for both formats.
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import logging
import os
import random
import secrets
import statistics
import struct
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding  # noqa: E402
from sqlalchemy import Table, func, insert, or_, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app import create_app  # noqa: E402
from app.crypto import DataKey, FieldContext, KeyRing, encrypt_field  # noqa: E402
from app.crypto.fields import FORMAT_VERSION as FIELD_FORMAT  # noqa: E402
from app.domain.pathway import ConsentMethod, ConsentScope  # noqa: E402
from app.domain.people import new_pseudonym  # noqa: E402
from app.domain.roles import Role  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import (  # noqa: E402
    Beneficiary,
    Consent,
    FollowUp,
    PersonKey,
    ReferenceKind,
    User,
    beneficiary_cohorts,
)
from app.services import imports  # noqa: E402
from app.services.security.accounts import create_user  # noqa: E402
from app.services.security.vault import Vault  # noqa: E402
from app.services.structures import create_structure, reference_items  # noqa: E402
from config import TestingConfig  # noqa: E402

TODAY = date(2026, 11, 25)
FIRST_NAMES = ("Aurélie", "Mohamed", "Léa", "Kévin", "Inès", "Théo", "Chloé", "Yanis", "Zoé")
LAST_NAMES = ("Martin", "Bernard", "Dubois", "Nguyen", "Lefèvre", "Haddad", "Moreau", "Garcia")
STREETS = ("rue des Tilleuls", "avenue Jean Jaurès", "place de la République", "rue Pasteur")
COHORTS = ("Jeunes décrocheurs", "young_graduate", "single_parent", "Tout public")
HEADER = (
    "Nom",
    "Prénom",
    "Date de naissance",
    "Téléphone",
    "E-mail",
    "Adresse",
    "Public",
    "Consentement",
)
BATCH = 500


def people(count: int, seed: int = 2026) -> list[dict[str, str]]:
    """``count`` made-up people, as the cells of a spreadsheet (all valid, no duplicates)."""
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        first, last = rng.choice(FIRST_NAMES), f"{rng.choice(LAST_NAMES)}{n}"
        birth = date(rng.randint(1970, 2008), rng.randint(1, 12), rng.randint(1, 28))
        rows.append(
            {
                "last_name": last,
                "first_name": first,
                "birth_date": birth.strftime("%d/%m/%Y"),
                "phone": f"06 {n // 10000 % 100:02d} {n // 100 % 100:02d} {n % 100:02d} {rng.randint(10, 99)}",
                "email": f"{first.lower()}.{n}@exemple.fr" if rng.random() < 0.7 else "",
                "address": f"{rng.randint(1, 120)} {rng.choice(STREETS)}, 90000 Belfort",
                "cohort": rng.choice(COHORTS),
                "consent": rng.choice(("oral", "signé 12/09/2025", "")),
            }
        )
    return rows


def to_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for r in rows:
        writer.writerow(
            (
                r["last_name"],
                r["first_name"],
                r["birth_date"],
                r["phone"],
                r["email"],
                r["address"],
                r["cohort"],
                r["consent"],
            )
        )
    return out.getvalue().encode("utf-8-sig")


# The pseudonyms of the people already in the database, read once before the runs: the
# baselines draw theirs against it, as the service checks its own against the database (with
# 100,000 people a run of 10,000 draws met a taken one about once in 650 runs).
TAKEN: set[str] = set()


def unused_pseudonym(drawn: set[str]) -> str:
    """A new pseudonym that no person of the database nor of this run (``drawn``) has."""
    while True:
        found = new_pseudonym()
        if found not in TAKEN and found not in drawn:
            drawn.add(found)
            return found


def table_of(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def bare(
    session: Session,
    ring: KeyRing,
    structure_id: int,
    rows: list[dict[str, str]],
    extras: list[tuple[int, ConsentMethod | None, date | None]] | None = None,
    actor_id: int | None = None,
) -> None:
    """Key, wrap, encrypt the identity fields, executemany: nothing else.

    With ``extras`` (a cohort id and a consent per person, worked out beforehand), also insert
    the other rows an imported person needs (cohort link, follow-up, consent), still without
    validation, blind indexes, duplicate lookup or audit.
    """
    table = Beneficiary.__tablename__
    month = TODAY.replace(day=1)
    fields = ("last_name", "first_name", "birth_date", "phone", "email", "address")
    drawn: set[str] = set()
    for start in range(0, len(rows), BATCH):
        people_rows: list[dict[str, Any]] = []
        key_rows: list[dict[str, Any]] = []
        cohort_rows: list[dict[str, Any]] = []
        follow_rows: list[dict[str, Any]] = []
        consent_rows: list[dict[str, Any]] = []
        for n, r in enumerate(rows[start : start + BATCH], start=start):
            pid = uuid.uuid4()
            key = DataKey.generate()
            kek_id, wrapped = ring.wrap(key)
            sealed: dict[str, bytes | None] = {
                name: encrypt_field(key, FieldContext(table, name, pid, pid), r[name])
                if r[name]
                else None
                for name in fields
            }
            people_rows.append(
                {
                    "id": pid,
                    "pseudonym": unused_pseudonym(drawn),
                    "created_month": month,
                    "created_by_structure_id": structure_id,
                    **sealed,
                }
            )
            key_rows.append({"beneficiary_id": pid, "kek_id": kek_id, "wrapped_key": wrapped})
            if extras is None:
                continue
            cohort_id, method, given_on = extras[n]
            cohort_rows.append({"beneficiary_id": pid, "cohort_id": cohort_id})
            follow_rows.append(
                {
                    "id": uuid.uuid4(),
                    "beneficiary_id": pid,
                    "structure_id": structure_id,
                    "referent_id": actor_id,
                    "started_on": TODAY,
                }
            )
            if method is not None:
                consent_rows.append(
                    {
                        "id": uuid.uuid4(),
                        "beneficiary_id": pid,
                        "scope": ConsentScope.NETWORK_SHARING,
                        "method": method,
                        "given_on": given_on,
                        "recorded_by_id": actor_id,
                        "recorded_by_structure_id": structure_id,
                    }
                )
        connection = session.connection()
        connection.execute(insert(table_of(Beneficiary)), people_rows)
        connection.execute(insert(table_of(PersonKey)), key_rows)
        if extras is not None:
            connection.execute(insert(beneficiary_cohorts), cohort_rows)
            connection.execute(insert(table_of(FollowUp)), follow_rows)
            if consent_rows:
                connection.execute(insert(table_of(Consent)), consent_rows)


def _place(*parts: bytes) -> bytes:
    """Length-prefixed parts, as ``FieldContext.associated_data`` encodes them."""
    return b"".join(struct.pack(">I", len(part)) + part for part in parts)


def floor(session: Session, ring: KeyRing, structure_id: int, rows: list[dict[str, str]]) -> None:
    """The minimal work of writing these people: per person one data key, one AES-GCM object
    for its fields, one key wrap; the rows written by the raw driver (COPY or executemany)."""
    fields = ("last_name", "first_name", "birth_date", "phone", "email", "address")
    table = Beneficiary.__tablename__.encode()
    head = _place(b"relais-field", bytes([FIELD_FORMAT]))
    columns = {name: _place(table, name.encode()) for name in fields}
    kek_id = ring.active_kek_id
    kek = ring.keks[kek_id]
    month = TODAY.replace(day=1)
    now = datetime.now(UTC)
    people_rows: list[tuple[Any, ...]] = []
    key_rows: list[tuple[Any, ...]] = []
    drawn: set[str] = set()
    for r in rows:
        pid = uuid.uuid4()
        key_id, secret = os.urandom(4), os.urandom(32)
        aes = AESGCM(secret)
        prefix = head + _place(key_id)
        ids = _place(pid.bytes, pid.bytes)
        sealed: list[bytes | None] = []
        for name in fields:
            value = r[name]
            if not value:
                sealed.append(None)
                continue
            nonce = os.urandom(12)
            aad = prefix + columns[name] + ids
            sealed.append(
                bytes([FIELD_FORMAT]) + key_id + nonce + aes.encrypt(nonce, value.encode(), aad)
            )
        people_rows.append((pid, unused_pseudonym(drawn), month, structure_id, now, *sealed))
        wrapped = aes_key_wrap_with_padding(kek, key_id + secret)
        key_rows.append((pid, kek_id, wrapped, now, False))
    raw = cast(Any, session.connection().connection.driver_connection)
    people_columns = (
        *("id", "pseudonym", "created_month", "created_by_structure_id", "created_at"),
        *fields,
    )
    key_columns = ("beneficiary_id", "kek_id", "wrapped_key", "created_at", "rotation_requested")
    if session.get_bind().dialect.name == "postgresql":
        with raw.cursor() as cursor:
            for name, names, values in (
                (Beneficiary.__tablename__, people_columns, people_rows),
                (PersonKey.__tablename__, key_columns, key_rows),
            ):
                with cursor.copy(f"COPY {name} ({', '.join(names)}) FROM STDIN") as copy:
                    for row in values:
                        copy.write_row(row)
        return
    # SQLite: the forms SQLAlchemy stores (uuid as 32 hex digits, naive UTC timestamps).
    stamp = now.replace(tzinfo=None).isoformat(" ")
    cursor = raw.cursor()
    for name, names, values in (
        (Beneficiary.__tablename__, people_columns, people_rows),
        (PersonKey.__tablename__, key_columns, key_rows),
    ):
        marks = ", ".join("?" for _ in names)
        cursor.executemany(
            f"INSERT INTO {name} ({', '.join(names)}) VALUES ({marks})",
            [_sqlite_row(row, stamp) for row in values],
        )
    cursor.close()


def _sqlite_row(row: tuple[Any, ...], stamp: str) -> tuple[Any, ...]:
    return tuple(
        value.hex
        if isinstance(value, uuid.UUID)
        else stamp
        if isinstance(value, datetime)
        else value.isoformat()
        if isinstance(value, date)
        else value
        for value in row
    )


def extras_of(
    session: Session, rows: list[dict[str, str]]
) -> list[tuple[int, ConsentMethod | None, date | None]]:
    """The cohort id and consent of each person, as the import would find them."""
    cohorts: dict[str, int] = {}
    for item in reference_items(session, ReferenceKind.COHORT):
        for key in (item.code, item.label_fr, item.label_en):
            cohorts[key] = item.id
    consents: dict[str, tuple[ConsentMethod | None, date | None]] = {
        "": (None, None),
        "oral": (ConsentMethod.ORAL, TODAY),
        "signé 12/09/2025": (ConsentMethod.SIGNED, date(2025, 9, 12)),
    }
    return [(cohorts[r["cohort"]], *consents[r["consent"]]) for r in rows]


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: the timings mean little on a busy machine."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def server_cpu_reader(session: Session) -> Callable[[], float]:
    """The CPU seconds used so far by the session's PostgreSQL backend, read from ``/proc``
    (a local server); a reader of 0 on SQLite (in-process: counted in ``process_time``) or
    when the backend's ``/proc`` entry cannot be read."""
    if session.get_bind().dialect.name != "postgresql":
        return lambda: 0.0
    pid = session.scalar(select(func.pg_backend_pid()))
    path = Path(f"/proc/{pid}/stat")
    ticks = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        try:
            fields = path.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    return read


def timed(
    session: Session,
    work: Callable[[], object],
    cpu: list[float] | None = None,
    server_cpu: Callable[[], float] = lambda: 0.0,
) -> float:
    """Run ``work`` in a savepoint rolled back afterwards; return its duration in seconds.

    With ``cpu``, also append the CPU seconds it used: this process's and the database
    server backend's (``server_cpu``) - a figure the other work on the machine changes less
    than the wall-clock time."""
    connection = session.connection()
    connection.exec_driver_sql("SAVEPOINT bench_run")
    cpu_start, server_start = time.process_time(), server_cpu()
    start = time.perf_counter()
    work()
    session.flush()
    elapsed = time.perf_counter() - start
    if cpu is not None:
        cpu.append(time.process_time() - cpu_start + server_cpu() - server_start)
    session.expire_all()
    # Rolled back, then released: ``ROLLBACK TO`` alone (all a nested session transaction
    # does) leaves the savepoint open, and on SQLite each run would then start one savepoint
    # deeper than the one before, with the statement journals of the runs before it kept.
    connection.exec_driver_sql("ROLLBACK TO SAVEPOINT bench_run")
    connection.exec_driver_sql("RELEASE SAVEPOINT bench_run")
    return elapsed


def to_xlsx(rows: list[dict[str, str]]) -> bytes:
    """The same people as an .xlsx file, birth dates as date cells."""
    from openpyxl import Workbook  # a development dependency, as the benchmark is

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Suivis")
    sheet.append(list(HEADER))
    for r in rows:
        day, month, year = (int(part) for part in r["birth_date"].split("/"))
        sheet.append(
            [
                r["last_name"],
                r["first_name"],
                date(year, month, day),
                r["phone"],
                r["email"],
                r["address"],
                r["cohort"],
                r["consent"],
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def reading_times(files: dict[str, bytes], repeat: int) -> None:
    """Best time to read each file into a checked ``Sheet`` (no database)."""
    for kind, data in files.items():
        best = min(timeit_once(functools.partial(imports.read_sheet, data)) for _ in range(repeat))
        print(f"read {kind}: {len(data)} bytes, best {best * 1000:.0f} ms")


def timeit_once(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def peak_mib(work: Callable[[], object], session: Session) -> float:
    """Peak memory (MiB, ``tracemalloc``) of one run of ``work``, rolled back."""
    tracemalloc.start()
    try:
        timed(session, work)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def populated(session: Session, wanted: int, index_version: int) -> int:
    """The people already in the database; refuse fewer than ``wanted``."""
    count = session.scalar(select(func.count()).select_from(Beneficiary)) or 0
    if count < wanted:
        raise SystemExit(
            f"the database holds {count} people, fewer than --into {wanted}: "
            f"fill it with flask --app app demo generate --people {wanted}"
        )
    version = getattr(Beneficiary, "lookup_version", None)
    if version is None:  # the code measured predates the lookup indexes
        print(f"people in the database: {count}; this version has no lookup indexes")
        return count
    missing = session.scalar(
        select(func.count())
        .select_from(Beneficiary)
        .where(Beneficiary.erased_at.is_(None), or_(version.is_(None), version != index_version))
    )
    print(f"people in the database: {count}; without lookup indexes: {missing}")
    return count


def summary(label: str, runs: list[float], rows: int) -> str:
    best = min(runs)
    return (
        f"{label}: best {best:.2f} s ({best * 1e6 / rows:.0f} µs/person), "
        f"median {statistics.median(runs):.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--xlsx", action="store_true", help="import an .xlsx file, not CSV")
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the peak-memory runs (tracemalloc)"
    )
    parser.add_argument(
        "--into",
        type=int,
        metavar="N",
        help="import into the populated database of DATABASE_URL (at least N people)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.into is not None and not os.environ.get("DATABASE_URL"):
        raise SystemExit("--into needs DATABASE_URL (a populated database) and its keys")

    runs: dict[str, list[float]] = {"a": [], "b": [], "c": [], "f": []}
    cpu: dict[str, list[float]] = {"a": [], "b": [], "c": [], "f": []}
    with tempfile.TemporaryDirectory(prefix="relais-bench-") as folder:
        if args.into is None:
            url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
            app = create_app(
                TestingConfig, overrides={"DATABASE_URL": url}, keyring=KeyRing.generate()
            )
        else:
            app = create_app()  # the populated database's settings and development keys
        vault: Vault = app.extensions["relais_vault"]
        ring = vault.keys
        with app.app_context():
            if args.into is None:
                flask_migrate.upgrade()
            connection = db.engine.connect()
            outer = connection.begin()
            db.bind_to(connection)
            try:
                session = db.session()
                before = (
                    populated(session, args.into, vault.indexer.version)
                    if args.into is not None
                    else 0
                )
                TAKEN.update(session.scalars(select(Beneficiary.pseudonym)))
                structure = create_structure(
                    session, None, code="BENCH", name="Bench", type_code="association"
                )
                actor: User = create_user(
                    session,
                    None,
                    email=f"bench-{uuid.uuid4().hex[:8]}@relais.example",
                    display_name="Bench",
                    role=Role.CASEWORKER,
                    structure=structure,
                    password=secrets.token_urlsafe(24),  # never used to sign in
                    min_length=12,
                )
                session.flush()
                rows = people(args.rows)
                data = to_csv(rows)
                if args.xlsx:
                    workbook = to_xlsx(rows)
                    reading_times({"csv": data, "xlsx": workbook}, args.repeat)
                    data = workbook
                kind = "xlsx" if args.xlsx else "csv"
                print(
                    f"database: {db.engine.dialect.name}; rows: {args.rows}; "
                    f"{kind}: {len(data)} bytes; people before the import: {before}"
                )
                print(f"load average before the runs: {load_average()}")

                def service() -> None:
                    result = imports.import_caseload(
                        session,
                        vault,
                        actor,
                        data,
                        today=TODAY,
                        allow_duplicates=args.into is not None,
                    )
                    if result.imported != args.rows:
                        raise SystemExit(
                            f"import failed: {result.errors[:3]} {result.warnings[:3]}"
                        )

                extras = extras_of(session, rows)

                def minimal() -> None:
                    floor(session, ring, structure.id, rows)

                def baseline() -> None:
                    bare(session, ring, structure.id, rows)

                def baseline_same_rows() -> None:
                    bare(session, ring, structure.id, rows, extras, actor.id)

                work: dict[str, Callable[[], None]] = {
                    "f": minimal,
                    "b": baseline,
                    "c": baseline_same_rows,
                    "a": service,
                }

                def breakdown() -> None:
                    """One more run through the service's steps, to see where the time goes."""
                    savepoint = session.begin_nested()
                    t0 = time.perf_counter()
                    sheet = imports.read_sheet(data)
                    t1 = time.perf_counter()
                    events: list[Any] = []
                    checked = imports.check_sheet(
                        session, vault, actor, sheet, today=TODAY, deferred_audit=events
                    )
                    t2 = time.perf_counter()
                    imports.import_checked(
                        session, vault, actor, checked, today=TODAY, deferred_audit=events
                    )
                    session.flush()
                    t3 = time.perf_counter()
                    savepoint.rollback()
                    per = 1e6 / args.rows
                    print(
                        f"breakdown (µs/person): read {(t1 - t0) * per:.0f}, "
                        f"check and duplicate lookup {(t2 - t1) * per:.0f}, "
                        f"write {(t3 - t2) * per:.0f}; "
                        f"{len(checked.warnings)} duplicate warnings"
                    )
                    lookup = next(e["data"] for e in events if e["subject_type"] == "import")
                    print(
                        f"duplicate lookup: {lookup['candidates']} candidates, "
                        f"{lookup['decrypted']} people decrypted"
                    )

                server_cpu = server_cpu_reader(session)
                for run in range(args.repeat):
                    for name, job in work.items():
                        runs[name].append(timed(session, job, cpu[name], server_cpu))
                    print(
                        f"run {run + 1}: (a) import service {runs['a'][-1]:.2f} s, "
                        f"(b) bare encrypt+insert {runs['b'][-1]:.2f} s, "
                        f"(c) bare with the same rows {runs['c'][-1]:.2f} s, "
                        f"(f) minimal floor {runs['f'][-1]:.2f} s"
                    )
                breakdown()
                print(f"load average after the runs: {load_average()}")
                if not args.no_memory:
                    print(
                        f"peak memory (tracemalloc): import service "
                        f"{peak_mib(service, session):.0f} MiB, minimal floor "
                        f"{peak_mib(work['f'], session):.0f} MiB"
                    )
            finally:
                db.session.remove()
                outer.rollback()
                connection.close()
                db.bind_to(db.engine)
        db.engine.dispose()

    best = {name: min(times) for name, times in runs.items()}
    print(summary("(a) import service", runs["a"], args.rows))
    print(summary("(b) bare encrypt+insert", runs["b"], args.rows))
    print(
        summary("(c) bare with the same rows", runs["c"], args.rows)
        + f"; import vs (c): {best['a'] / best['c']:.2f}"
    )
    print(summary("(f) minimal floor", runs["f"], args.rows))
    least = {name: min(times) for name, times in cpu.items()}
    print(
        "CPU seconds, this process and the database server's backend (least of the runs): "
        + ", ".join(f"({name}) {least[name]:.2f}" for name in ("a", "b", "c", "f"))
        + f"; (a)/(f) in CPU time: {least['a'] / least['f']:.2f}"
    )
    print(f"import overhead vs bare encrypt+insert: {best['a'] / best['b']:.2f}")
    print(f"import into {before} people vs minimal floor: {best['a'] / best['f']:.2f}")


if __name__ == "__main__":
    main()

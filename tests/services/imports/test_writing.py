"""What the import writes, row by row and column by column, against what registration writes.

The import writes its people in bulk (values converted by column, ``COPY`` on PostgreSQL) and
not through the ORM: every stored column of every table is compared here with those of the
same person registered with ``register_person``. Then how it writes: a database error is the
usual SQLAlchemy error without values, and the garbage collector it pauses is restored.
"""

from __future__ import annotations

import contextvars
import gc
import threading
import uuid
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain.pathway import ConsentMethod
from app.models import (
    IDENTITY_FIELDS,
    AuditChainHead,
    AuditEvent,
    Beneficiary,
    Consent,
    FollowUp,
    NameSearchToken,
    PersonKey,
    ReferenceKind,
    User,
    beneficiary_cohorts,
)
from app.services import imports
from app.services.imports import writing
from app.services.people.identity import Identity, open_identity
from app.services.people.registration import ConsentInput, NewPerson, register_person
from app.services.security import audit, audit_check, audit_people
from app.services.security.vault import Vault
from app.services.structures import add_reference_item
from tests import factories

TODAY = factories.TODAY
IDENTITY = Identity(
    last_name="Zephyrin",
    first_name="Aurélie",
    birth_date=date(2004, 3, 14),
    phone="06 12 34 56 78",
    email="Aurelie.Z@Exemple.fr",
    address="12 rue des Tilleuls, 90000 Belfort",
)
CSV = (
    "nom;prenom;date_naissance;telephone;email;adresse;code_qpv;public;consentement\r\n"
    "Zephyrin;Aurélie;14/03/2004;06 12 34 56 78;Aurelie.Z@Exemple.fr;"
    "12 rue des Tilleuls, 90000 Belfort;QN09001M;young_dropout|single_parent;oral\r\n"
).encode()
# Columns that differ from one person to another whoever writes them: keys, random values,
# creation times, an audit event's place and MAC in the chain. Ciphertexts differ too (a fresh
# data key and nonce): compared once opened.
DRAWN = {"id", "beneficiary_id", "pseudonym", "created_at", "at", "wrapped_key", "seq", "mac"}


@pytest.fixture
def worker(db_session: Session) -> User:
    add_reference_item(db_session, None, ReferenceKind.QPV, "QN09001M", "Les Glacis", "Les Glacis")
    return factories.user(db_session, structure_=factories.structure(db_session, "IMPW"))


def rows(db_session: Session, table: Table, **where: Any) -> list[dict[str, Any]]:
    query = select(table).where(*(table.c[name] == value for name, value in where.items()))
    return [dict(row) for row in db_session.execute(query).mappings()]


def kept(row: dict[str, Any], *also: str) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name not in DRAWN | set(also)}


def table(model: type[Any]) -> Table:
    return model.__table__  # type: ignore[no-any-return]


def test_an_imported_person_is_stored_as_a_registered_one(
    db_session: Session, vault: Vault, worker: User
) -> None:
    registered = register_person(
        db_session,
        vault,
        worker,
        NewPerson(
            identity=IDENTITY,
            cohort_codes=("young_dropout", "single_parent"),
            qpv_code="QN09001M",
            consent=ConsentInput(ConsentMethod.ORAL, TODAY),
        ),
        today=TODAY,
    )
    db_session.flush()
    result = imports.import_caseload(
        db_session, vault, worker, CSV, today=TODAY, allow_duplicates=True
    )
    assert (result.imported, result.duplicate_lines) == (1, [2])  # the registered one
    db_session.flush()
    imported = db_session.scalars(select(Beneficiary).where(Beneficiary.id != registered.id)).one()
    old, new = registered.id, imported.id

    # beneficiaries: every column, the ciphertexts once opened.
    [before] = rows(db_session, table(Beneficiary), id=old)
    [after] = rows(db_session, table(Beneficiary), id=new)
    assert kept(after, *IDENTITY_FIELDS) == kept(before, *IDENTITY_FIELDS)
    assert vars(open_identity(vault, db_session, imported)) == vars(
        open_identity(vault, db_session, registered)
    )
    assert [after[c] is None for c in IDENTITY_FIELDS] == [
        before[c] is None for c in IDENTITY_FIELDS
    ]
    assert after["pseudonym"] != before["pseudonym"]
    assert after["name_birth_index"] is not None  # the same blind indexes, all three set
    assert after["created_at"].tzinfo is not None

    # name_search_tokens: the same search prefixes.
    tokens = [
        sorted(row["value"] for row in rows(db_session, table(NameSearchToken), beneficiary_id=pid))
        for pid in (old, new)
    ]
    assert tokens[0] == tokens[1]
    assert tokens[1]

    # person_keys, cohorts, follow-up, consent.
    for model in (PersonKey, FollowUp, Consent):
        [first] = rows(db_session, table(model), beneficiary_id=old)
        [second] = rows(db_session, table(model), beneficiary_id=new)
        assert kept(second) == kept(first), model.__name__
    cohorts = [
        sorted(
            row["cohort_id"] for row in rows(db_session, beneficiary_cohorts, beneficiary_id=pid)
        )
        for pid in (old, new)
    ]
    assert cohorts[0] == cohorts[1]
    assert len(cohorts[1]) == 2

    # audit: the same events about the person, with the import's purpose and id added - as
    # events listing the people of a batch (here one person), found by the person's access
    # history like a page's. (The registered person was also decrypted by the duplicate
    # lookup: audited apart.)
    def events(person_id: uuid.UUID) -> list[dict[str, Any]]:
        query = select(table(AuditEvent)).where(
            AuditEvent.seq.in_(audit_people.about_person(person_id))
        )
        found = [dict(row) for row in db_session.execute(query).mappings()]
        return sorted(found, key=lambda e: e["action"])

    registration, imported_events = events(old), events(new)
    lookup = [e for e in registration if e["action"] == "beneficiary:duplicate_check"]
    registration = [e for e in registration if e not in lookup]
    assert len(lookup) == 1
    assert [e["action"] for e in imported_events] == ["beneficiary:create", "consent:record"]
    assert [e["action"] for e in registration] == ["beneficiary:create", "consent:record"]
    [consent] = rows(db_session, table(Consent), beneficiary_id=new)
    [old_consent] = rows(db_session, table(Consent), beneficiary_id=old)
    for by_hand, by_import, subject in zip(
        registration, imported_events, (new, consent["id"]), strict=True
    ):
        assert kept(by_import, "subject_id", "purpose", "data") == kept(
            by_hand, "subject_id", "purpose", "data"
        )
        assert (by_hand["purpose"], by_import["purpose"]) == (None, "import")
        assert by_import["subject_id"] == audit.LISTED
        assert by_import["beneficiary_id"] == new  # a list of one person names them
        listing = {"people": [str(new)]}
        if subject != new:
            listing["subjects"] = [str(subject)]
        extra = (
            {"import_id": by_import["data"]["import_id"]}
            if "import_id" in by_import["data"]
            else {}
        )
        assert by_import["data"] == {**by_hand["data"], **listing, **extra}
    assert registration[0]["subject_id"] == str(old)
    assert registration[1]["subject_id"] == str(old_consent["id"])
    assert imported_events[1]["data"]["method"] == "oral"
    assert imported_events[0]["data"]["import_id"]
    # Written in bulk (COPY on PostgreSQL), the events still chain after registration's, and
    # the people index holds exactly the people they list.
    assert audit_check.verify_chain(db_session).intact
    assert audit_people.index_mismatch(db_session) is None


def test_a_database_error_while_writing_is_the_usual_error_without_values(
    db_session: Session, vault: Vault, worker: User
) -> None:
    sheet = imports.read_sheet(CSV)
    checked = imports.check_sheet(db_session, vault, worker, sheet, today=TODAY)
    assert not checked.errors
    checked.rows[0] = replace(checked.rows[0], cohort_ids=(987654,))  # no such cohort
    with pytest.raises(IntegrityError) as caught:
        imports.import_checked(db_session, vault, worker, checked, today=TODAY)
    message = str(caught.value)
    assert "987654" not in message
    assert "DETAIL" not in message
    assert "CONTEXT" not in message
    db_session.rollback()


def test_the_cyclic_garbage_collector_is_paused_while_importing_then_restored(
    db_session: Session, vault: Vault, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    real = writing._write_batch

    def watching(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(writing, "_write_batch", watching)
    assert gc.isenabled()
    assert imports.import_caseload(db_session, vault, worker, CSV, today=TODAY).imported == 1
    assert seen == [False]
    assert gc.isenabled()

    # Restored after a failure too; and left paused when the caller had paused it.
    checked = imports.check_sheet(db_session, vault, worker, imports.read_sheet(CSV), today=TODAY)
    checked.rows[0] = replace(checked.rows[0], cohort_ids=(987654,))
    with pytest.raises(IntegrityError):
        imports.import_checked(db_session, vault, worker, checked, today=TODAY)
    assert gc.isenabled()
    db_session.rollback()
    gc.disable()
    try:
        imports.import_caseload(db_session, vault, worker, CSV, today=TODAY, allow_duplicates=True)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_audit_chain_is_touched_once_at_the_end_of_an_import(
    db_session: Session, vault: Vault, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chain's head (and on PostgreSQL its lock) is taken by the last step of the import:
    while the batches are written, other writers of the audit log are not held up."""
    heads: list[int] = []
    real = writing._write_batch

    def watching(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        db_session.expire_all()
        heads.append(db_session.scalars(select(AuditChainHead.seq)).one())
        return real(*args, **kwargs)

    second = (
        CSV
        + (
            "Quintal;Bérénice;02/05/2001;07 98 76 54 32;;3 rue Pasteur, 90000 Belfort;QN09001M;"
            "young_dropout;oral\r\n"
        ).encode()
    )
    before = db_session.scalars(select(AuditChainHead.seq)).one()
    monkeypatch.setattr(writing, "BATCH_SIZE", 1)
    monkeypatch.setattr(writing, "_write_batch", watching)
    result = imports.import_caseload(db_session, vault, worker, second, today=TODAY)
    assert result.imported == 2
    assert heads == [before, before]  # neither the lookup's events nor the first batch's yet
    after = db_session.scalars(select(AuditChainHead.seq)).one()
    assert after > before
    assert audit_check.verify_chain(db_session).intact


def test_names_of_several_words_get_the_search_prefixes_of_registration(
    db_session: Session, vault: Vault, worker: User
) -> None:
    """Each name's prefixes are worked out once per file, and each prefix's value once: two
    people sharing a first name, names sharing their first letters, and names of several words
    get what ``name_prefixes(last_name, first_name)`` gives."""
    lines = [
        "nom;prenom;public",
        "N'Diaye-Ba;Marie Claire;young_dropout",
        "Quintal;Marie Claire;young_dropout",
        "Le Gall;Quintal;young_dropout",
        "Quintanilla;Marielle;young_dropout",
    ]
    result = imports.import_caseload(
        db_session, vault, worker, "\r\n".join(lines).encode(), today=TODAY
    )
    assert result.imported == 4
    people = db_session.scalars(select(Beneficiary)).all()
    for person in people:
        who = open_identity(vault, db_session, person)
        stored = {
            row["value"]
            for row in rows(db_session, table(NameSearchToken), beneficiary_id=person.id)
        }
        assert stored == vault.indexer.name_prefixes(who.last_name, who.first_name)


_CALLERS: contextvars.ContextVar[str] = contextvars.ContextVar("relais_test_caller")


def test_the_next_batch_is_made_in_a_thread_while_one_is_written(
    db_session: Session, vault: Vault, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL each batch's rows (data keys, sealed identities) are made in the
    import's thread, one batch ahead; on SQLite in the caller's. The writing stays on the
    caller's thread and connection. A failure while making a batch stops the import with its
    own exception, nothing of it written, and the thread is gone."""
    makers: list[str] = []
    writers: list[str] = []
    failing_at: list[int] = []  # the person whose making fails, when set
    contexts: list[bool] = []  # whether the making saw the caller's context
    real_columns, real_write = writing.identity_columns, writing._write_batch

    def columns(*args: Any, **kwargs: Any) -> Any:
        makers.append(threading.current_thread().name)
        contexts.append(_CALLERS.get(None) is not None)
        if failing_at and len(makers) == failing_at[0]:
            raise ValueError("the key ring is gone")
        return real_columns(*args, **kwargs)

    def write(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        writers.append(threading.current_thread().name)
        return real_write(*args, **kwargs)

    monkeypatch.setattr(writing, "identity_columns", columns)
    monkeypatch.setattr(writing, "_write_batch", write)
    monkeypatch.setattr(writing, "BATCH_SIZE", 1)
    lines = [f"Quintavalle{n};Ysaline;young_dropout" for n in range(4)]
    sheet = "\r\n".join(["nom;prenom;public", *lines]).encode()
    # The caller's context (a request's: the application context and the session scoped to it)
    # is not the thread's.
    token = _CALLERS.set("the request")
    try:
        result = imports.import_caseload(db_session, vault, worker, sheet, today=TODAY)
    finally:
        _CALLERS.reset(token)
    assert result.imported == 4
    here = threading.current_thread().name
    postgresql = db_session.get_bind().dialect.name == "postgresql"
    assert len(makers) == 4
    assert all(name.startswith("relais-import") if postgresql else name == here for name in makers)
    assert contexts == [not postgresql] * 4
    assert writers == [here] * 4

    makers.clear()
    failing_at.append(3)
    before = db_session.scalar(select(func.count()).select_from(Beneficiary))
    again = sheet.replace(b"Quintavalle", b"Quintavallo")
    with pytest.raises(ValueError, match="key ring"), db_session.begin_nested():
        imports.import_caseload(db_session, vault, worker, again, today=TODAY)
    assert db_session.scalar(select(func.count()).select_from(Beneficiary)) == before
    assert not [t for t in threading.enumerate() if t.name.startswith("relais-import")]

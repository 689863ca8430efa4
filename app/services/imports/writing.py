"""Writing the people of a checked file, as ``register_person`` writes them, in batches.

Each person gets what registration gives (a data key, wrapped; the sealed identity and its
blind indexes; cohorts; a follow-up by the actor's structure; the consent; the audit events),
but reference lists are read once, pseudonyms are drawn and checked for the whole file at
once, and rows are inserted with one statement per table and batch (``BulkInserts``: an
executemany, or a COPY on PostgreSQL). Nothing here commits.

On PostgreSQL a batch's rows are made (data keys, sealed identities, prefixes) in a thread of
their own while the previous batch is written: the server's work on a batch (the rows, their
index entries, the foreign-key checks at the end of each statement) takes another core while
this process encrypts the next, the writing thread waiting for the server without holding the
interpreter. The thread touches neither the session nor the database; it makes one batch ahead
at most.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from datetime import date
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from app.crypto import DataKey
from app.crypto.blind_index import LOOKUP_NAMES, BlindIndexer, name_prefix, name_words
from app.domain.audit import AuditAction
from app.domain.pathway import ConsentMethod
from app.domain.people import new_pseudonym
from app.models import (
    Beneficiary,
    Consent,
    FollowUp,
    NameSearchToken,
    PersonKey,
    User,
    beneficiary_cohorts,
)
from app.models.base import utcnow
from app.services.imports.audit_rows import AuditRow, audit_row, listing_row
from app.services.imports.bulk import BulkInserts, chunks, in_literals
from app.services.imports.results import BlindIndexes, CheckedImport, CheckedRow, Progress
from app.services.people.identity import identity_columns
from app.services.people.registration import ConsentInput
from app.services.security import audit
from app.services.security.vault import Vault

# People a batch: one statement (a COPY on PostgreSQL) per table and batch, and one audit event
# listing them. 2,000 rather than 500: at 100,000 people, about 0.1 s less for 10,000 lines on
# PostgreSQL (fewer COPY statements, each with its own start-up and foreign-key plans), a few
# MiB more held at once; progress is reported once a batch.
BATCH_SIZE = 2000

# The narrow and wide index columns of each duplicate combination (name and birth date,
# e-mail, phone); NULL for a combination a person lacks.
_INDEX_COLUMNS = {name: (f"{name}_index", f"{name}_lookup") for name in LOOKUP_NAMES}
_NO_INDEXES = dict.fromkeys(column for pair in _INDEX_COLUMNS.values() for column in pair)

_TABLES: dict[type[Any], Table] = {
    model: cast(Table, model.__table__)
    for model in (Beneficiary, PersonKey, NameSearchToken, FollowUp, Consent)
}


def write_people(
    session: Session,
    vault: Vault,
    actor: User,
    structure_id: int,
    checked: CheckedImport,
    *,
    today: date,
    progress: Progress,
    deferred_audit: Sequence[AuditRow] = (),
) -> int:
    """Write the people of ``checked`` in batches of ``BATCH_SIZE``; returns how many.

    The audit events (``deferred_audit`` first, then each batch's, then the import's own)
    are chained once, at the end: on PostgreSQL the chain's lock is then held only from that
    moment to the commit, not while the whole file is written.
    """
    import_id = str(checked.import_id)
    pseudonyms = _pseudonyms(session, len(checked.rows))
    inserts = BulkInserts(session)
    events = list(deferred_audit)
    prefixes = NamePrefixes(vault.indexer)  # the names' search prefixes, for the whole file
    author = _Author(actor.id, structure_id)  # read here: the thread never touches the ORM

    def made(start: int) -> _Batch:
        batch = _Batch(vault, author, import_id, today, prefixes)
        rows = checked.rows[start : start + BATCH_SIZE]
        for row, pseudonym in zip(rows, pseudonyms[start : start + BATCH_SIZE], strict=True):
            batch.add(row, pseudonym, checked.indexes[row.line])
        return batch

    starts = range(0, len(checked.rows), BATCH_SIZE)
    with closing(_made_ahead(made, starts, threaded=inserts.copy)) as batches:
        for batch in batches:
            events += _write_batch(inserts, batch, actor)
            progress(len(batch.people))
    events.append(
        audit_row(
            actor,
            AuditAction.IMPORT,
            "import",
            import_id,
            people=len(checked.rows),
            possible_duplicates=len(checked.duplicate_lines),
        )
    )
    audit.append_many(session, events, write=inserts)
    return len(checked.rows)


class NamePrefixes:
    """The name-prefix index values of names (``BlindIndexer.name_prefixes``), for one file.

    ``prefixes(last_name) | prefixes(first_name)`` is ``name_prefixes(last_name,
    first_name)``. Each distinct name is worked out once (first names repeat), and each
    distinct prefix's keyed hash once: names share their first letters far more often than
    they repeat whole (the last names of a caseload), and the prefix is all the hash sees.
    Names and prefixes in clear: keep one for one import only.
    """

    def __init__(self, indexer: BlindIndexer) -> None:
        self.indexer = indexer
        self._names: dict[str, set[int]] = {}
        self._values: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"NamePrefixes(names={len(self._names)}, prefixes={len(self._values)})"

    def __call__(self, name: str) -> set[int]:
        values = self._names.get(name)
        if values is None:
            values = self._names[name] = {self._value(name_prefix(w)) for w in name_words(name)}
        return values

    def _value(self, prefix: str) -> int:
        value = self._values.get(prefix)
        if value is None:
            value = self._values[prefix] = self.indexer.compute("name_prefix", prefix)
        return value


def _pseudonyms(session: Session, count: int) -> list[str]:
    """``count`` new pseudonyms, all different and free in the database."""
    drawn: set[str] = set()
    for _ in range(20):
        fresh: set[str] = set()
        while len(fresh) < count - len(drawn):
            candidate = new_pseudonym()
            if candidate not in drawn:
                fresh.add(candidate)
        for chunk in chunks(sorted(fresh)):
            fresh.difference_update(
                session.scalars(
                    select(Beneficiary.pseudonym).where(in_literals(Beneficiary.pseudonym, chunk))
                )
            )
        drawn.update(fresh)
        if len(drawn) == count:
            return list(drawn)
    raise RuntimeError("could not draw free pseudonyms")  # 20 rounds of collisions: never


def _made_ahead(
    make: Callable[[int], _Batch], starts: Sequence[int], *, threaded: bool
) -> Generator[_Batch, None, None]:
    """The batches starting at ``starts``, in order. ``threaded`` (PostgreSQL, which works in
    a process of its own): each is made in a thread while the caller writes the one before,
    one batch ahead at most; the thread is not given the caller's context, so the session
    (scoped to the application context) cannot be reached from it, even by mistake. SQLite
    works in this process, and a thread there only added the switching (2.09 -> 2.22 s at
    100,000 people): the batches are made in turn."""
    if not threaded:
        yield from map(make, starts)
        return
    maker = ThreadPoolExecutor(1, "relais-import")
    try:
        upcoming: Future[_Batch] | None = None
        for start in starts:
            following = maker.submit(make, start)
            if upcoming is not None:
                yield upcoming.result()  # its exception, if making it failed
            upcoming = following
        if upcoming is not None:
            yield upcoming.result()
    finally:
        maker.shutdown(cancel_futures=True)


def _write_batch(inserts: BulkInserts, batch: _Batch, actor: User) -> list[AuditRow]:
    """Insert the rows of one batch made ahead; returns its audit events, for the caller to
    chain."""
    return batch.write(inserts, actor)


class _Author(NamedTuple):
    """Who writes the rows: the importing caseworker's account and structure ids."""

    user_id: int
    structure_id: int


class _Batch:
    """The rows of one batch, table by table, and its audit events.

    Rows share what they can: one creation time per batch, rather than a call per row and
    table. The audit events are those of a page showing the batch's people: one
    ``beneficiary:create`` event listing the people registered, and one ``consent:record``
    event per consent method listing the people and their consents (``listing_row``; each
    person finds them in their access history through ``audit_event_people``), not one event
    per person and consent (docs/security.md, "Audit").
    """

    def __init__(
        self,
        vault: Vault,
        author: _Author,
        import_id: str,
        today: date,
        prefixes: NamePrefixes,
    ) -> None:
        self.vault = vault
        self.prefixes = prefixes
        self.user_id = author.user_id
        self.structure_id = author.structure_id
        self.today = today
        self.month = today.replace(day=1)
        self.now = utcnow()
        self.people: list[dict[str, Any]] = []
        self.keys: list[dict[str, Any]] = []
        self.name_tokens: list[dict[str, Any]] = []
        self.cohorts: list[dict[str, Any]] = []
        self.follow_ups: list[dict[str, Any]] = []
        self.consents: list[dict[str, Any]] = []
        self.import_id = import_id
        # The consents recorded, by method: (person, consent) ids, listed by one event each.
        self.consented: dict[ConsentMethod, list[tuple[uuid.UUID, uuid.UUID]]] = {}

    def __repr__(self) -> str:
        return f"_Batch(people={len(self.people)})"

    def add(self, row: CheckedRow, pseudonym: str, indexes: BlindIndexes) -> None:
        """The rows of one person (its audit events are the batch's: ``events``)."""
        person_id = uuid.uuid4()
        self._add_person(person_id, row, pseudonym, indexes)
        for cohort_id in row.cohort_ids:
            self.cohorts.append({"beneficiary_id": person_id, "cohort_id": cohort_id})
        self.follow_ups.append(
            {
                "id": uuid.uuid4(),
                "beneficiary_id": person_id,
                "structure_id": self.structure_id,
                "referent_id": self.user_id,
                "started_on": self.today,
                "created_at": self.now,
            }
        )
        if row.consent is not None:
            self._add_consent(person_id, row.consent)

    def _add_person(
        self, person_id: uuid.UUID, row: CheckedRow, pseudonym: str, indexes: BlindIndexes
    ) -> None:
        key = DataKey.generate()
        kek_id, wrapped = self.vault.keys.wrap(key)
        # The values ``seal_identity`` writes on a person, straight into the insert.
        person: dict[str, Any] = identity_columns(self.vault, key, person_id, row.identity)
        person["id"] = person_id
        person["pseudonym"] = pseudonym
        person["qpv_id"] = row.qpv_id
        person["created_month"] = self.month
        person["created_by_structure_id"] = self.structure_id
        person["created_at"] = self.now
        # The pathway state (``app.services.pathways.state``) of a person whose only event is
        # the follow-up started today by the importing structure.
        person["last_event_on"] = self.today
        person["last_event_structure_id"] = self.structure_id
        person["index_version"] = person["lookup_version"] = self.vault.indexer.version
        person.update(_NO_INDEXES)
        for value in indexes.values:  # the narrow and wide values of each combination it has
            narrow, wide = _INDEX_COLUMNS[value.name]
            person[narrow] = value.narrow
            person[wide] = value.wide
        self.people.append(person)
        identity = row.identity
        self.name_tokens.extend(
            {"beneficiary_id": person_id, "value": value}
            for value in self.prefixes(identity.last_name) | self.prefixes(identity.first_name)
        )
        self.keys.append(
            {
                "beneficiary_id": person_id,
                "kek_id": kek_id,
                "wrapped_key": wrapped,
                "created_at": self.now,
                "rotation_requested": False,
            }
        )

    def _add_consent(self, person_id: uuid.UUID, consent: ConsentInput) -> None:
        consent_id = uuid.uuid4()
        self.consents.append(
            {
                "id": consent_id,
                "beneficiary_id": person_id,
                "scope": consent.scope,
                "method": consent.method,
                "given_on": consent.given_on,
                "recorded_by_id": self.user_id,
                "recorded_by_structure_id": self.structure_id,
                "created_at": self.now,
            }
        )
        self.consented.setdefault(consent.method, []).append((person_id, consent_id))

    def write(self, inserts: BulkInserts, actor: User) -> list[AuditRow]:
        """Insert the rows, one statement per table; returns the audit events (by ``actor``),
        in order."""
        # (The ORM's bulk insert would leave out the NULL values and split each batch into many
        # statements.)
        inserts(_TABLES[Beneficiary], self.people)
        inserts(_TABLES[PersonKey], self.keys)
        inserts(_TABLES[NameSearchToken], self.name_tokens)
        inserts(beneficiary_cohorts, self.cohorts)
        inserts(_TABLES[FollowUp], self.follow_ups)
        inserts(_TABLES[Consent], self.consents)
        return self.events(actor)

    def events(self, actor: User) -> list[AuditRow]:
        """The batch's audit events: its registrations, then its consents by method."""
        if not self.people:
            return []
        created = listing_row(
            actor,
            AuditAction.BENEFICIARY_CREATE,
            Beneficiary.__tablename__,
            [person["id"] for person in self.people],
            import_id=self.import_id,
        )
        events = [created]
        for method, consented in self.consented.items():
            events.append(
                listing_row(
                    actor,
                    AuditAction.CONSENT_RECORD,
                    Consent.__tablename__,
                    [person_id for person_id, _ in consented],
                    [consent_id for _, consent_id in consented],
                    method=method.value,
                )
            )
        for event in events:
            event["at"] = self.now
        return events

"""Writing the people of a checked file, as ``register_person`` writes them, in batches.

Each person gets what registration gives (a data key, wrapped; the sealed identity and its
blind indexes; cohorts; a follow-up by the actor's structure; the consent; the audit events),
but reference lists are read once, pseudonyms are drawn and checked for the whole file at
once, and rows are inserted with one statement per table and batch (``BulkInserts``: an
executemany, or a COPY on PostgreSQL). Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from app.crypto import DataKey
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
from app.services.imports.audit_rows import AuditRow, audit_row
from app.services.imports.bulk import BulkInserts, chunks, in_literals
from app.services.imports.results import BlindIndexes, CheckedImport, CheckedRow, Progress
from app.services.people.identity import identity_columns
from app.services.people.registration import ConsentInput
from app.services.security import audit
from app.services.security.vault import Vault

BATCH_SIZE = 500

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
    for start in range(0, len(checked.rows), BATCH_SIZE):
        batch = _Batch(vault, actor, structure_id, import_id, today)
        rows = checked.rows[start : start + BATCH_SIZE]
        events += _write_batch(
            inserts, batch, rows, pseudonyms[start : start + BATCH_SIZE], checked.indexes
        )
        progress(len(rows))
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


def _write_batch(
    inserts: BulkInserts,
    batch: _Batch,
    rows: Sequence[CheckedRow],
    pseudonyms: Sequence[str],
    indexes: Mapping[int, BlindIndexes],
) -> list[AuditRow]:
    """Insert the rows of one batch; returns its audit events, for the caller to chain."""
    for row, pseudonym in zip(rows, pseudonyms, strict=True):
        batch.add(row, pseudonym, indexes[row.line])
    return batch.write(inserts)


class _Batch:
    """The rows of one batch, table by table, and its audit events.

    Rows share what they can: one creation time per batch, rather than a call per row and
    table; and the audit events differ only by their subject, each being a copy of a template
    (``audit_row``: one for the creations, one per consent method) whose ``data`` mapping is
    shared (it is only read).
    """

    def __init__(
        self, vault: Vault, actor: User, structure_id: int, import_id: str, today: date
    ) -> None:
        self.vault = vault
        self.actor = actor
        self.structure_id = structure_id
        self.today = today
        self.month = today.replace(day=1)
        self.now = now = utcnow()
        self.people: list[dict[str, Any]] = []
        self.keys: list[dict[str, Any]] = []
        self.name_tokens: list[dict[str, Any]] = []
        self.cohorts: list[dict[str, Any]] = []
        self.follow_ups: list[dict[str, Any]] = []
        self.consents: list[dict[str, Any]] = []
        # The audit events, by their template, chained one group after the other: the rows of
        # a group share one ``data`` mapping, which ``audit.append_many`` then encodes once.
        self.events: dict[object, list[AuditRow]] = {}
        self.created = audit_row(
            actor,
            AuditAction.BENEFICIARY_CREATE,
            Beneficiary.__tablename__,
            "",
            import_id=import_id,
        )
        self.created["at"] = now
        self.consented = {
            method: {
                **audit_row(
                    actor,
                    AuditAction.CONSENT_RECORD,
                    Consent.__tablename__,
                    "",
                    method=method.value,
                ),
                "at": now,
            }
            for method in ConsentMethod
        }

    def __repr__(self) -> str:
        return f"_Batch(people={len(self.people)})"

    def add(self, row: CheckedRow, pseudonym: str, indexes: BlindIndexes) -> None:
        """The rows and audit events of one person."""
        person_id = uuid.uuid4()
        self._add_person(person_id, row, pseudonym, indexes)
        for cohort_id in row.cohort_ids:
            self.cohorts.append({"beneficiary_id": person_id, "cohort_id": cohort_id})
        self.follow_ups.append(
            {
                "id": uuid.uuid4(),
                "beneficiary_id": person_id,
                "structure_id": self.structure_id,
                "referent_id": self.actor.id,
                "started_on": self.today,
                "created_at": self.now,
            }
        )
        self.events.setdefault(AuditAction.BENEFICIARY_CREATE, []).append(
            {**self.created, "subject_id": str(person_id), "beneficiary_id": person_id}
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
        person["index_version"] = self.vault.indexer.version
        person["name_birth_index"] = indexes.narrow("name_birth")
        person["email_index"] = indexes.narrow("email")
        person["phone_index"] = indexes.narrow("phone")
        person["lookup_version"] = self.vault.indexer.version
        person["name_birth_lookup"] = indexes.wide("name_birth")
        person["email_lookup"] = indexes.wide("email")
        person["phone_lookup"] = indexes.wide("phone")
        self.people.append(person)
        identity = row.identity
        self.name_tokens.extend(
            {"beneficiary_id": person_id, "value": value}
            for value in self.vault.indexer.name_prefixes(identity.last_name, identity.first_name)
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
                "recorded_by_id": self.actor.id,
                "recorded_by_structure_id": self.structure_id,
                "created_at": self.now,
            }
        )
        self.events.setdefault(consent.method, []).append(
            {
                **self.consented[consent.method],
                "subject_id": str(consent_id),
                "beneficiary_id": person_id,
            }
        )

    def write(self, inserts: BulkInserts) -> list[AuditRow]:
        """Insert the rows, one statement per table; returns the audit events, in order."""
        # (The ORM's bulk insert would leave out the NULL values and split each batch into many
        # statements.)
        inserts(_TABLES[Beneficiary], self.people)
        inserts(_TABLES[PersonKey], self.keys)
        inserts(_TABLES[NameSearchToken], self.name_tokens)
        inserts(beneficiary_cohorts, self.cohorts)
        inserts(_TABLES[FollowUp], self.follow_ups)
        inserts(_TABLES[Consent], self.consents)
        return [event for group in self.events.values() for event in group]

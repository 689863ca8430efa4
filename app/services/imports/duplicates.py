"""Possible duplicates of the people of a checked file: within the file, and in the database.

Possible duplicates are warnings, not errors. Within the file, two lines with the same
normalised name and birth date, e-mail or phone. Against the database, the people whose blind
indexes equal those of a line: candidates the actor's structure follows are decrypted (in the
application, never shown) to confirm the match, and named by pseudonym. The others are
decrypted to confirm the match too, but not named: a match with someone the structure does not
follow only says that "a possible duplicate exists in the network" - never who, nor which
structure - and, the indexes being truncated on purpose, it may be a false alarm. The lookup is
audited: one event for the lookup, one per person decrypted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.crypto.blind_index import BlindIndexer, name_birth_key, normalise_email
from app.domain.audit import AuditAction
from app.models import Beneficiary, FollowUp, PersonKey, User
from app.services.errors import N_
from app.services.imports.audit_rows import AuditRow, audit_row
from app.services.imports.bulk import LOOKUP_CHUNK, chunks, in_literals
from app.services.imports.results import BlindIndexes, CheckedRow, Problem
from app.services.people.access import followed_ids
from app.services.people.duplicates import same_person
from app.services.people.identity import Identity, open_identity
from app.services.people.registration_lock import lock_every_registration
from app.services.security.vault import Vault

_INDEX_COLUMNS = {
    "name_birth": Beneficiary.name_birth_index,
    "email": Beneficiary.email_index,
    "phone": Beneficiary.phone_index,
}
_Candidates = dict[tuple[str, int], set[uuid.UUID]]  # people by (index name, value)


@dataclass(frozen=True)
class DuplicateLookup:
    """The warnings (by line), the blind indexes of each line (by line number, to be written
    as they are) and the audit events of the lookup (for the caller to append)."""

    warnings: list[Problem]
    indexes: dict[int, BlindIndexes]
    events: list[AuditRow]


def look_for_duplicates(
    session: Session,
    vault: Vault,
    actor: User,
    rows: Sequence[CheckedRow],
    import_id: uuid.UUID,
    today: date,
) -> DuplicateLookup:
    """Possible duplicates of ``rows`` in the file and among the people of the network.

    Holds every registration back first, until the transaction ends (``registration_lock``):
    a person registered meanwhile would be missed by the lookup.
    """
    lock_every_registration(session)
    indexes, in_file = _within_file(rows, vault.indexer)
    found = _in_database(session, vault, actor, rows, indexes, today)
    warnings = sorted([*in_file, *found.warnings], key=lambda w: w.line or 0)
    events = [
        audit_row(
            actor,
            AuditAction.DUPLICATE_CHECK,
            "beneficiaries",
            str(pid),
            beneficiary_id=pid,
            import_id=str(import_id),
        )
        for pid in found.decrypted
    ]
    events.append(
        audit_row(
            actor,
            AuditAction.DUPLICATE_CHECK,
            "import",
            str(import_id),
            rows=len(rows),
            in_file=len(in_file),
            candidates=found.candidates,
            decrypted=len(found.decrypted),
            followed_matches=found.followed_matches,
            network_matches=found.network_matches,
        )
    )
    return DuplicateLookup(warnings, indexes, events)


def _row_keys(identity: Identity) -> list[tuple[str, str]]:
    keys = []
    if identity.birth_date:
        keys.append(
            (
                "name_birth",
                name_birth_key(identity.last_name, identity.first_name, identity.birth_date),
            )
        )
    if identity.email:
        keys.append(("email", normalise_email(identity.email)))
    if identity.phone:
        keys.append(("phone", identity.phone))
    return keys


def _within_file(
    rows: Sequence[CheckedRow], indexer: BlindIndexer
) -> tuple[dict[int, BlindIndexes], list[Problem]]:
    """The blind indexes of each line, and a warning for each line that repeats an earlier one."""
    indexes: dict[int, BlindIndexes] = {}
    warnings: list[Problem] = []
    first_line: dict[tuple[str, str], int] = {}
    for row in rows:
        keys = _row_keys(row.identity)
        # Within the file: the same normalised name and birth date, e-mail or phone.
        earlier = [first_line[key] for key in keys if key in first_line]
        for key in keys:
            first_line.setdefault(key, row.line)
        if earlier:
            warnings.append(
                Problem(
                    row.line,
                    None,
                    N_("Possibly the same person as line %(other)d."),
                    {"other": min(earlier)},
                )
            )
        # Against the database: the blind indexes these values would get.
        indexes[row.line] = BlindIndexes(**{name: indexer.compute(name, key) for name, key in keys})
    return indexes, warnings


@dataclass
class _Found:
    """What the lookup in the database found, and what it decrypted to confirm it."""

    candidates: int
    decrypted: list[uuid.UUID]
    warnings: list[Problem] = field(default_factory=list)
    followed_matches: int = 0
    network_matches: int = 0

    def add(self, line: int, followed: Sequence[str], elsewhere: bool) -> None:
        """The matches of one line: pseudonyms the structure follows, and whether others."""
        if followed:
            self.followed_matches += 1
            self.warnings.append(
                Problem(
                    line,
                    None,
                    N_("Possible duplicate of %(pseudonym)s, already followed by your structure."),
                    {"pseudonym": ", ".join(followed)},
                )
            )
        if elsewhere:
            self.network_matches += 1
            self.warnings.append(
                Problem(
                    line,
                    None,
                    N_("A possible duplicate exists in the network; contact your coordinator."),
                )
            )


def _in_database(
    session: Session,
    vault: Vault,
    actor: User,
    rows: Sequence[CheckedRow],
    indexes: Mapping[int, BlindIndexes],
    today: date,
) -> _Found:
    candidates = _candidates(session, vault, _wanted(indexes.values()))
    every_candidate = sorted({pid for ids in candidates.values() for pid in ids})
    visible = _followed_among(session, actor, every_candidate, today) if every_candidate else set()
    # Every candidate is decrypted to confirm the match, as registration does (the truncated
    # indexes give false candidates by design); only the actor's own matches are named.
    opened = _open_candidates(session, vault, every_candidate)
    found = _Found(candidates=len(every_candidate), decrypted=sorted(opened))
    if not candidates:
        return found  # no one in the database shares an index with the file
    for row in rows:
        ids = set().union(*(candidates.get(pair, set()) for pair in indexes[row.line].items()))
        matches = {pid for pid in ids if same_person(row.identity, opened[pid][1])}
        found.add(
            row.line,
            sorted(opened[pid][0].pseudonym for pid in matches if pid in visible),
            any(pid not in visible for pid in matches),
        )
    return found


def _wanted(indexes: Iterable[BlindIndexes]) -> dict[str, set[int]]:
    """The values of each blind index to look for."""
    wanted: dict[str, set[int]] = {name: set() for name in _INDEX_COLUMNS}
    for row_indexes in indexes:
        for name, value in row_indexes.items():
            wanted[name].add(value)
    return wanted


def _candidates(session: Session, vault: Vault, wanted: Mapping[str, set[int]]) -> _Candidates:
    """People whose blind index equals one of ``wanted``, by (index name, value).

    The three indexes are looked up together, one query per ``LOOKUP_CHUNK`` values of each.
    """
    found: _Candidates = {}
    names = [name for name in _INDEX_COLUMNS if wanted.get(name)]
    if not names:
        return found
    values = {name: sorted(wanted[name]) for name in names}
    columns = [_INDEX_COLUMNS[name] for name in names]
    longest = max(len(v) for v in values.values())
    for start in range(0, longest, LOOKUP_CHUNK):
        tests = [
            in_literals(column, values[name][start : start + LOOKUP_CHUNK])
            for name, column in zip(names, columns, strict=True)
            if start < len(values[name])
        ]
        query = select(Beneficiary.id, *columns).where(
            or_(*tests),
            Beneficiary.index_version == vault.indexer.version,
            Beneficiary.erased_at.is_(None),
        )
        for person_id, *found_values in session.execute(query):
            for name, value in zip(names, found_values, strict=True):
                if value is not None and value in wanted[name]:
                    found.setdefault((name, value), set()).add(person_id)
    return found


def _followed_among(
    session: Session, actor: User, ids: Sequence[uuid.UUID], today: date
) -> set[uuid.UUID]:
    visible: set[uuid.UUID] = set()
    for chunk in chunks(ids):
        query = followed_ids(actor, today).where(FollowUp.beneficiary_id.in_(chunk))
        visible.update(session.scalars(query))
    return visible


def _open_candidates(
    session: Session, vault: Vault, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[Beneficiary, Identity]]:
    """Decrypt (in the application only, to confirm a match) the people of ``ids``."""
    opened: dict[uuid.UUID, tuple[Beneficiary, Identity]] = {}
    fields = ("last_name", "first_name", "birth_date", "phone", "email")
    for chunk in chunks(ids):
        # With the keys of the chunk loaded (and held) first, vault.person_key finds each in
        # the identity map instead of querying.
        keys = session.scalars(select(PersonKey).where(PersonKey.beneficiary_id.in_(chunk))).all()
        for person in session.scalars(select(Beneficiary).where(Beneficiary.id.in_(chunk))):
            opened[person.id] = (person, open_identity(vault, session, person, fields))
        del keys
    return opened

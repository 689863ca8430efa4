"""Possible duplicates of the people of a checked file: within the file, and in the database.

Possible duplicates are warnings, not errors. Within the file, two lines with the same
normalised name and birth date, e-mail or phone. Against the database, the people whose wide
lookup indexes equal those of a line (``app/services/people/lookup.py``: about 0.006 false
candidates per value at 100,000 people, where the 14-bit indexes give six - and the narrow
indexes still, for people not yet re-indexed): candidates the actor's structure follows are
decrypted (in the application, never shown) to confirm the match, and named by pseudonym. The
others are decrypted to confirm the match too, but not named: a match with someone the
structure does not follow only says that "a possible duplicate exists in the network" - never
who, nor which structure - so one confirmed match is enough: they are decrypted in rounds, the
next candidate of each line not yet confirmed, and at most ``NETWORK_CANDIDATES_PER_LINE`` per
line; a line with more candidates than that gets the warning unconfirmed (it may be a false
alarm, as the warning says). The lookup is audited: one event for the lookup, and one event
listing the people decrypted (as a page lists the people it shows).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.crypto.blind_index import BlindIndexer
from app.domain.audit import AuditAction
from app.models import Beneficiary, FollowUp, PersonKey, User
from app.services.errors import N_
from app.services.imports.audit_rows import AuditRow, audit_row, listing_row
from app.services.imports.bulk import chunks
from app.services.imports.results import BlindIndexes, CheckedRow, Problem
from app.services.people.access import followed_ids
from app.services.people.duplicates import same_person
from app.services.people.identity import Identity, identity_from_columns
from app.services.people.lookup import find_candidates, identity_keys, lookup_values
from app.services.people.registration_lock import lock_every_registration
from app.services.security.vault import IdentityErased, Vault

# The most people the actor's structure does not follow decrypted to confirm one line's match.
NETWORK_CANDIDATES_PER_LINE = 32


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
    # The people decrypted, listed by one event as a page lists the people it shows.
    events = (
        [
            listing_row(
                actor,
                AuditAction.DUPLICATE_CHECK,
                Beneficiary.__tablename__,
                found.decrypted,
                import_id=str(import_id),
            )
        ]
        if found.decrypted
        else []
    )
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
            unconfirmed=found.unconfirmed,
        )
    )
    return DuplicateLookup(warnings, indexes, events)


def _within_file(
    rows: Sequence[CheckedRow], indexer: BlindIndexer
) -> tuple[dict[int, BlindIndexes], list[Problem]]:
    """The blind indexes of each line, and a warning for each line that repeats an earlier one."""
    indexes: dict[int, BlindIndexes] = {}
    warnings: list[Problem] = []
    first_line: dict[tuple[str, str], int] = {}
    for row in rows:
        keys = identity_keys(row.identity)
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
        # Against the database: the blind indexes these values would get, narrow and wide.
        indexes[row.line] = BlindIndexes(tuple(lookup_values(indexer, keys)))
    return indexes, warnings


@dataclass
class _Found:
    """What the lookup in the database found, and what it decrypted to confirm it."""

    candidates: int
    decrypted: list[uuid.UUID]
    warnings: list[Problem] = field(default_factory=list)
    followed_matches: int = 0
    network_matches: int = 0
    unconfirmed: int = 0  # lines warned with more network candidates than the cap

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
    every_value = [value for line_indexes in indexes.values() for value in line_indexes.values]
    candidates = find_candidates(session, vault.indexer, every_value)
    every_candidate = sorted(candidates.everyone())
    found = _Found(candidates=len(every_candidate), decrypted=[])
    if not every_candidate:
        return found  # no one in the database shares an index with the file
    visible = _followed_among(session, actor, every_candidate, today)
    by_line = {row.line: sorted(candidates.of(indexes[row.line].values)) for row in rows}
    # The structure's own candidates are all decrypted: each match is named.
    opened = _open_candidates(session, vault, sorted(visible))
    others = {line: [pid for pid in ids if pid not in visible] for line, ids in by_line.items()}
    elsewhere, capped = _confirm_elsewhere(session, vault, rows, others, opened)
    found.decrypted = sorted(opened)
    found.unconfirmed = len(capped)
    for row in rows:
        identity = row.identity
        matches = [
            opened[pid][0]
            for pid in by_line[row.line]
            if pid in visible and same_person(identity, opened[pid][1])
        ]
        found.add(row.line, sorted(matches), row.line in elsewhere or row.line in capped)
    return found


def _confirm_elsewhere(
    session: Session,
    vault: Vault,
    rows: Sequence[CheckedRow],
    others: Mapping[int, Sequence[uuid.UUID]],
    opened: dict[uuid.UUID, tuple[str, Identity]],
) -> tuple[set[int], set[int]]:
    """The lines matched by someone the structure does not follow, and the lines left with
    untried candidates after ``NETWORK_CANDIDATES_PER_LINE`` of theirs were decrypted.

    Round after round, each line still unconfirmed checks its candidates already decrypted,
    then asks for its next one; the round's people are decrypted together (into ``opened``).
    """
    identities = {row.line: row.identity for row in rows}
    position = dict.fromkeys(others, 0)
    confirmed: set[int] = set()
    capped: set[int] = set()
    while True:
        wanted: set[uuid.UUID] = set()
        for line, ids in others.items():
            if line in confirmed or line in capped:
                continue
            while position[line] < len(ids) and ids[position[line]] in opened:
                if same_person(identities[line], opened[ids[position[line]]][1]):
                    confirmed.add(line)
                    break
                position[line] += 1
            if line in confirmed or position[line] == len(ids):
                continue
            if position[line] >= NETWORK_CANDIDATES_PER_LINE:
                capped.add(line)
            else:
                wanted.add(ids[position[line]])
        if not wanted:
            return confirmed, capped
        opened.update(_open_candidates(session, vault, sorted(wanted)))


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
) -> dict[uuid.UUID, tuple[str, Identity]]:
    """Decrypt (in the application only, to confirm a match) the people of ``ids``: their
    pseudonym and identity, read with their keys in one query per chunk (no ORM objects)."""
    opened: dict[uuid.UUID, tuple[str, Identity]] = {}
    fields = ("last_name", "first_name", "birth_date", "phone", "email")
    columns = [getattr(Beneficiary, name) for name in fields]
    # Each person's key by primary key, a correlated subquery rather than a join: joined,
    # PostgreSQL hashed every key of the database for a thousand candidates (a sequential scan
    # of ``person_keys``: 30 of the query's 62 ms at 100,000 people), as the search did.
    mine = PersonKey.beneficiary_id == Beneficiary.id
    key_columns = (
        select(PersonKey.kek_id).where(mine).scalar_subquery().label("kek_id"),
        select(PersonKey.wrapped_key).where(mine).scalar_subquery().label("wrapped_key"),
    )
    for chunk in chunks(ids):
        query = select(Beneficiary.id, Beneficiary.pseudonym, *key_columns, *columns).where(
            Beneficiary.id.in_(chunk)
        )
        for row in session.execute(query):
            if row.kek_id is None:  # shredded: as ``Vault.person_key`` says
                raise IdentityErased(N_("This person's identity has been erased."))
            key = vault.keys.unwrap(row.kek_id, row.wrapped_key)
            stored = {name: row[4 + n] for n, name in enumerate(fields)}
            opened[row.id] = (row.pseudonym, identity_from_columns(vault, key, row.id, stored))
    return opened

"""Possible duplicates, found through the blind indexes and confirmed by decryption.

Candidates come from the wide lookup indexes (``app/services/people/lookup.py``; the narrow
ones for people not yet re-indexed). A match on a truncated blind index only says that someone *may* be the same person (the
truncation gives several false candidates per value by design), so every candidate is
decrypted inside the application and compared. Matches the actor's structure follows are
listed; of the others the caseworker only learns that a possible duplicate exists elsewhere
in the network - never who, nor which structure follows them. Every lookup is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.crypto.blind_index import normalise_email, squash_name
from app.domain.audit import AuditAction
from app.models import Beneficiary, User
from app.services.people.access import followed_ids
from app.services.people.identity import Identity, open_identity
from app.services.people.lookup import find_candidates, identity_keys, lookup_values
from app.services.people.registration_lock import lock_registration
from app.services.security import audit
from app.services.security.vault import Vault


@dataclass
class DuplicateCheck:
    """People of the actor's structure who match, and whether a match exists elsewhere."""

    followed: list[Beneficiary] = field(default_factory=list)
    elsewhere: bool = False

    @property
    def found(self) -> bool:
        return bool(self.followed) or self.elsewhere


def same_person(a: Identity, b: Identity) -> bool:
    """Whether two decrypted identities describe the same person (the duplicate rule)."""
    same_names = squash_name(a.last_name) == squash_name(b.last_name) and squash_name(
        a.first_name
    ) == squash_name(b.first_name)
    if same_names and a.birth_date is not None and a.birth_date == b.birth_date:
        return True
    if a.email and b.email and normalise_email(a.email) == normalise_email(b.email):
        return True
    return bool(a.phone and b.phone and a.phone == b.phone)


def find_possible_duplicates(
    session: Session,
    vault: Vault,
    actor: User,
    identity: Identity,
    *,
    today: date,
    exclude: Beneficiary | None = None,
) -> DuplicateCheck:
    """Look for people who may be ``identity`` (already cleaned: E.164 phone, normalised e-mail).

    Takes the registration lock on the identity's blind indexes first (held until the
    transaction ends): an identical registration sent at the same moment waits, then finds the
    person this one registers.
    """
    ix = vault.indexer
    lock_registration(session, ix, identity)
    values = lookup_values(ix, identity_keys(identity))
    ids = find_candidates(session, ix, values, exclude.id if exclude else None).everyone()
    result = DuplicateCheck()
    if ids:
        query = select(Beneficiary).where(Beneficiary.id.in_(sorted(ids)))
        candidates = session.scalars(query).all()
        visible = set(session.scalars(followed_ids(actor, today)).all())
        for candidate in candidates:
            # Candidates are decrypted here only to confirm the match; nothing is shown of
            # those the actor's structure does not follow.
            if not same_person(identity, open_identity(vault, session, candidate)):
                continue
            if candidate.id in visible:
                result.followed.append(candidate)
            else:
                result.elsewhere = True
    audit.record(
        session,
        actor,
        AuditAction.DUPLICATE_CHECK,
        actor,
        matches=len(result.followed) + int(result.elsewhere),
    )
    return result

"""Free texts checked against the person's own identity before they are saved: a hand-off
note, the message of an answer or a reminder, a step's action.

The rule is the domain's (``app.domain.mentions``); here the identity is decrypted for the
check, for an actor whose structure may see it, and the decryption is audited
(``beneficiary:reveal``, purpose ``free_text_check``) like any other. An actor who may not
see the identity (a receiving structure answering a hand-off it has not accepted) gets no
check: a warning would tell them whether a guessed name is the person's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from app.domain.mentions import IdentityTerms, Mention, find_mentions
from app.models import Beneficiary, FollowUp, User
from app.services.people.access import followed_ids
from app.services.people.identity import reveal_identity
from app.services.security.vault import Vault

CHECKED_FIELDS = ("last_name", "first_name", "birth_date", "phone", "email")
PURPOSE = "free_text_check"


def may_check(session: Session, actor: User, person: Beneficiary, today: date) -> bool:
    """Whether ``actor``'s structure may see ``person``'s identity, hence have texts checked."""
    if person.erased_at is not None:
        return False
    query = followed_ids(actor, today).where(FollowUp.beneficiary_id == person.id)
    return session.scalar(query.limit(1)) is not None


def identity_mentions(
    session: Session,
    vault: Vault,
    actor: User,
    person: Beneficiary,
    texts: Sequence[str | None],
    *,
    today: date,
) -> list[Mention]:
    """Where ``texts`` name ``person`` (their names, phone, e-mail or birth date, in any
    common spelling); empty when they do not, when all are blank, or when ``actor`` may not
    see the identity (nothing is decrypted then)."""
    if not any(text and text.strip() for text in texts):
        return []
    if not may_check(session, actor, person, today):
        return []
    identity = reveal_identity(vault, session, actor, person, PURPOSE, CHECKED_FIELDS)
    terms = IdentityTerms(
        last_name=identity.last_name,
        first_name=identity.first_name,
        phone=identity.phone,
        email=identity.email,
        birth_date=identity.birth_date,
    )
    return [mention for text in texts for mention in find_mentions(text, terms)]

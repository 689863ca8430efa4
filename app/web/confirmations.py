"""Confirmations that name the person to those who may see the name ("Hand-off of Aurélie
ZEPHYRIN sent to the Mission Locale."); the pseudonym to anyone else. Each name shown is an
audited reveal (purpose ``confirmation``), like every other."""

from __future__ import annotations

from app.models import Beneficiary
from app.services.handoffs.lists import follows_person
from app.services.people.identity import reveal_identity
from app.web.context import actor, dbs, today, vault

NAME_FIELDS = ("last_name", "first_name")


def who(person: Beneficiary, *, follows: bool = False) -> str:
    """The person's name if the signed-in caseworker's structure may see it, else the
    pseudonym. ``follows``: the caller knows that it does (its use case has just opened or
    found the structure's follow-up of the person), so it is not asked again."""
    session, user = dbs(), actor()
    if person.erased_at is not None:
        return person.pseudonym
    if not follows and not follows_person(session, user, person, today()):
        return person.pseudonym
    return reveal_identity(vault(), session, user, person, "confirmation", NAME_FIELDS).full_name

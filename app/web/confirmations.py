"""Confirmations that name the person to those who may see the name ("Hand-off of Aurélie
ZEPHYRIN sent to the Mission Locale."); the pseudonym to anyone else. Each name shown is an
audited reveal (purpose ``confirmation``), like every other.

A confirmation flashed before a redirect (``flash_naming``) names the person with the reveal
of the page it is shown on: the page it redirects to reveals that person's name already when
the structure may see it (the hand-off's page, the person's page: ``shown_on_page``), and the
confirmation uses that reveal and its audit event instead of decrypting and auditing the name
a second time. Shown on any other page (the redirect not followed, an error page), it gives
the pseudonym: showing a name there would need a reveal of its own, and an error page's audit
events are rolled back with the rest of its request. Showing it reads nothing (an error page
drawn while the database is down stays drawable). The name never rides in the session
cookie: the flashed message holds the person's id and pseudonym.
"""

from __future__ import annotations

import uuid

from flask import flash, g

from app.models import Beneficiary
from app.services.handoffs.lists import follows_person
from app.services.people.identity import Identity, reveal_identity
from app.web.context import actor, dbs, today, vault

NAME_FIELDS = ("last_name", "first_name")
# Where the person goes in a translated confirmation given to ``flash_naming``.
PERSON = "\x00person\x00"
_SEP = "\x00"
_SHOWN = "relais_names_shown"  # on ``g``: the names this request revealed, by person id


def who(person: Beneficiary, *, follows: bool = False) -> str:
    """The person's name if the signed-in caseworker's structure may see it, else the
    pseudonym. ``follows``: the caller knows that it does (its use case has just opened or
    found the structure's follow-up of the person), so it is not asked again."""
    session, user = dbs(), actor()
    if person.erased_at is not None:
        return person.pseudonym
    if not follows and not follows_person(session, user, person, today()):
        return person.pseudonym
    name = reveal_identity(vault(), session, user, person, "confirmation", NAME_FIELDS).full_name
    _names().setdefault(person.id, name)
    return name


def shown_on_page(person: Beneficiary, identity: Identity) -> None:
    """Note that this request's page reveals ``person``'s name (``identity``, read and
    audited by the page): a confirmation about them shown on it names them from it."""
    _names().setdefault(person.id, identity.full_name)


def flash_naming(person: Beneficiary, message: str, category: str = "success") -> None:
    """Flash ``message`` (translated, ``PERSON`` where the person goes), naming the person
    when it is shown (see the module). Flashed as text: the message's two parts, the person's
    id and pseudonym, separated by NULs (which no translated text holds)."""
    before, _sep, after = message.partition(PERSON)
    flash(_SEP.join((before, person.id.hex, person.pseudonym, after)), category)


def flash_text(message: str) -> str:
    """A flashed message as shown: a ``flash_naming`` one names the person if this request's
    page revealed their name, else gives their pseudonym."""
    parts = message.split(_SEP)
    if len(parts) != 4:
        return message
    before, person_id, pseudonym, after = parts
    try:
        name = _names().get(uuid.UUID(hex=person_id), pseudonym)
    except ValueError:
        name = pseudonym
    return f"{before}{name}{after}"


def _names() -> dict[uuid.UUID, str]:
    names: dict[uuid.UUID, str] | None = g.get(_SHOWN)
    if names is None:
        names = {}
        setattr(g, _SHOWN, names)
    return names

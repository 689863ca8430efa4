"""Finding people in a caseload by what a caseworker knows of them, and listing it by name.

Identities are encrypted, so neither can be a plain SQL query. A search narrows the caseload
in SQL first, on the blind indexes (name prefixes, e-mail, phone) and on the clear birth year,
then decrypts only these candidates, in memory, to confirm them: ``decrypted`` says how many.
Decrypting is not showing: the caller reveals (and the audit log records) only the page of
people it displays. What the name-prefix index leaks is in ``docs/security.md``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ScalarSelect, Select, func, select
from sqlalchemy.orm import Session

from app.crypto.blind_index import (
    name_prefix,
    name_words,
    normalise_email,
    normalise_name,
    squash_name,
)
from app.domain.people import canonical_pseudonym
from app.models import Beneficiary, NameSearchToken, PersonKey, User
from app.services.errors import N_, InvalidInput
from app.services.people.identity import TABLE, normalise_phone
from app.services.people.overview import (
    PER_PAGE,
    Filters,
    Page,
    PathwayRow,
    caseload_query,
    rows_for,
)
from app.services.security.vault import Vault

QUERY_LIMIT = 200  # characters of a search that are read
# re.ASCII: the digits 0 to 9 only (``\d`` alone also matches other scripts' digits).
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$", re.ASCII)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)
_PHONE_CHARACTERS = re.compile(r"^\+?[\d\s.()/-]+$")


@dataclass(frozen=True, repr=False)
class SearchTerms:
    """What a search asks for, normalised. ``repr`` hides the values (identity)."""

    words: tuple[str, ...] = ()
    birth_date: date | None = None
    email: str | None = None
    phone: str | None = None  # E.164
    pseudonym: str | None = None

    def __repr__(self) -> str:
        return "SearchTerms(<hidden>)"

    @property
    def name_words(self) -> tuple[str, ...]:
        """The words that narrow a search by index: two letters or more."""
        return tuple(word for word in self.words if len(word) >= 2)


@dataclass
class SearchResult:
    page: Page[PathwayRow]
    decrypted: int  # people whose identity was decrypted to answer (candidates)


def parse_query(text: str) -> SearchTerms:
    """Read a search box: a name (words in any order, any case, with or without accents), a
    birth date (``12/03/2004``, ``12-03-2004`` or ``2004-03-12``), a pseudonym, a phone number
    or an e-mail address, or a name with a birth date, e-mail or phone.

    ``InvalidInput`` (field ``q``) when nothing in it can be searched.
    """
    text = text.strip()[:QUERY_LIMIT]
    if not text:
        raise InvalidInput(
            N_("Type a name, a birth date, a pseudonym, a phone number or an e-mail address."),
            field="q",
        )
    pseudonym = canonical_pseudonym(text)
    digits = sum(ch.isdigit() for ch in text)
    if _PHONE_CHARACTERS.match(text) and digits >= 6 and _date(text) is None:
        return SearchTerms(phone=_phone(text), pseudonym=pseudonym)
    words: list[str] = []
    found: dict[str, Any] = {}
    for token in text.split():
        if "@" in token:
            found["email"] = normalise_email(token)
        elif (day := _date(token)) is not None:
            found["birth_date"] = day
        else:
            # A word typed with its apostrophe or hyphen (n'diaye, jean-pierre) is searched
            # joined: the stored names give every name's words joined too, so it finds the
            # name typed with or without them (N'Diaye and NDIAYE).
            if joined := squash_name(token):
                words.append(joined)
    terms = SearchTerms(words=tuple(words), pseudonym=pseudonym, **found)
    if not (terms.name_words or terms.birth_date or terms.email or terms.pseudonym):
        raise InvalidInput(N_("Type at least two letters of a name."), field="q")
    return terms


def _date(token: str) -> date | None:
    """The date ``token`` writes, ``None`` if it does not look like one, ``InvalidInput`` if
    it looks like one that does not exist."""
    if match := _DAY_FIRST.match(token):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO_DATE.match(token):
        year, month, day = (int(part) for part in match.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidInput(N_("%(value)s is not a date."), field="q", value=token) from None


def _phone(text: str) -> str:
    try:
        return normalise_phone(text)
    except InvalidInput:
        raise InvalidInput(N_("This is not a valid phone number."), field="q") from None


def search_caseload(
    session: Session,
    vault: Vault,
    actor: User,
    text: str,
    *,
    today: date,
    filters: Filters,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> SearchResult:
    """The people the actor's structure follows who match ``text`` (see ``parse_query``),
    sorted by name. A pseudonym is looked up as such first; when no followed person has it,
    the text is searched as a name (``GAMBETTA`` is also a possible pseudonym)."""
    terms = parse_query(text)
    people = caseload_query(actor, today, filters)
    if terms.pseudonym is not None:
        found = session.scalars(people.where(Beneficiary.pseudonym == terms.pseudonym)).all()
        if found or not (terms.name_words or terms.birth_date or terms.email or terms.phone):
            return SearchResult(Page(rows_for(session, found), 1, per_page, len(found)), 0)
    candidates = _narrowed(people, vault, terms)
    names = _open_columns(session, vault, candidates, _columns(terms))
    matches = [pid for pid, values in names.items() if _confirmed(terms, values)]
    ordered = sorted(matches, key=lambda pid: _name_key(names[pid]))
    total = len(ordered)
    page = max(1, min(page, max(1, -(-total // per_page))))
    wanted = ordered[(page - 1) * per_page : page * per_page]
    return SearchResult(_page_of(session, wanted, page, per_page, total), decrypted=len(names))


def caseload_by_name(
    session: Session,
    vault: Vault,
    actor: User,
    *,
    today: date,
    filters: Filters,
    limit: int,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> SearchResult | None:
    """The caseload (with ``filters``) sorted by last name then first name, accents folded;
    ``None`` when it holds more than ``limit`` people: not sorted at all (the caller says so
    and offers the filters that narrow it), never sorted in part.

    Names cannot be sorted in SQL: the last names of the whole (filtered) list are decrypted
    in memory to order it - at most ``limit`` of them - then the first names of
    the page's people and of those sharing a last name with the page's first or last person
    (who of them is on the page depends on them); only the page's people are then revealed
    by the caller. ``decrypted`` counts the last names decrypted.
    """
    people = caseload_query(actor, today, filters)
    # One statement answers both "how many" (up to the limit) and "who": the list's last
    # names and data keys (each key looked up by primary key: ``_key_columns``).
    listed = people.with_only_columns(Beneficiary.id, *_key_columns(), Beneficiary.last_name)
    rows = session.execute(listed.order_by(None).limit(limit + 1)).all()
    if len(rows) > limit:
        return None
    last_names = {
        pid: normalise_name(_opened(vault, pid, kek_id, wrapped, "last_name", stored) or "")
        for pid, kek_id, wrapped, stored in rows
        if wrapped is not None  # a key gone: the person is being erased
    }
    by_last = sorted(last_names, key=lambda pid: (last_names[pid], pid.hex))
    total = len(by_last)
    page = max(1, min(page, max(1, -(-total // per_page))))
    start, end = (page - 1) * per_page, min(page * per_page, total)
    if start >= end:
        return SearchResult(_page_of(session, [], page, per_page, total), decrypted=total)
    low, high = start, end  # widened to whole last names: [low, high) of ``by_last``
    while low > 0 and last_names[by_last[low - 1]] == last_names[by_last[start]]:
        low -= 1
    while high < total and last_names[by_last[high]] == last_names[by_last[end - 1]]:
        high += 1
    around = by_last[low:high]
    first_names = _open_ids(session, vault, around, ("first_name",))

    def name(pid: uuid.UUID) -> tuple[str, str, str]:
        first = first_names.get(pid, {}).get("first_name") or ""
        return (last_names[pid], normalise_name(first), pid.hex)

    wanted = sorted(around, key=name)[start - low : end - low]
    return SearchResult(_page_of(session, wanted, page, per_page, total), decrypted=total)


def _narrowed(people: Select[Beneficiary], vault: Vault, terms: SearchTerms) -> Select[Beneficiary]:
    """``people`` narrowed in SQL to the candidates for ``terms``."""
    indexer = vault.indexer
    indexed = False
    if terms.email:
        people = people.where(Beneficiary.email_index == indexer.compute("email", terms.email))
        indexed = True
    if terms.phone:
        people = people.where(Beneficiary.phone_index == indexer.compute("phone", terms.phone))
        indexed = True
    prefixes = {indexer.compute("name_prefix", name_prefix(word)) for word in terms.name_words}
    if prefixes:
        having_all = (
            select(NameSearchToken.beneficiary_id)
            .where(NameSearchToken.value.in_(prefixes))
            .group_by(NameSearchToken.beneficiary_id)
            .having(func.count(NameSearchToken.value.distinct()) == len(prefixes))
        )
        people = people.where(Beneficiary.id.in_(having_all))
        indexed = True
    if terms.birth_date:
        people = people.where(Beneficiary.birth_year == terms.birth_date.year)
    if indexed:  # index values of another version say nothing
        people = people.where(Beneficiary.index_version == indexer.version)
    return people


def _columns(terms: SearchTerms) -> tuple[str, ...]:
    wanted = ["last_name", "first_name"]
    if terms.birth_date:
        wanted.append("birth_date")
    if terms.email:
        wanted.append("email")
    if terms.phone:
        wanted.append("phone")
    return tuple(wanted)


def _key_columns() -> tuple[ScalarSelect[str], ScalarSelect[bytes]]:
    """The data key of each row's person (its KEK's id and the wrapped key), looked up by
    primary key for each row: a correlated subquery, never a join, so that the database
    reads the keys of the rows it returns and no other whatever its estimate of their number.
    Joined, PostgreSQL estimated a search's candidates as the whole caseload and read every
    key of the territory (a sequential scan of ``person_keys``: 1.1 s of a search's 2.8 s at
    1,000,000 people, docs/scaling.md); the same join with the candidates' ids written in
    still hashed the whole table at 100,000 people."""
    mine = PersonKey.beneficiary_id == Beneficiary.id
    return (
        select(PersonKey.kek_id).where(mine).scalar_subquery(),
        select(PersonKey.wrapped_key).where(mine).scalar_subquery(),
    )


def _open_columns(
    session: Session, vault: Vault, people: Select[Beneficiary], columns: Sequence[str]
) -> dict[uuid.UUID, dict[str, str | None]]:
    """Decrypt ``columns`` of the people of ``people`` (one query, their data keys looked up
    by ``_key_columns``), by person id; people whose key is gone (erased) are left out."""
    rows = session.execute(
        people.with_only_columns(
            Beneficiary.id, *_key_columns(), *(getattr(Beneficiary, c) for c in columns)
        ).order_by(None)
    )
    opened: dict[uuid.UUID, dict[str, str | None]] = {}
    for pid, kek_id, wrapped, *stored in rows:
        if wrapped is None:
            continue
        key = vault.keys.unwrap(kek_id, wrapped)
        opened[pid] = {
            column: vault.open(key, TABLE, column, pid, pid, value)
            for column, value in zip(columns, stored, strict=True)
        }
    return opened


def _open_ids(
    session: Session, vault: Vault, ids: Sequence[uuid.UUID], columns: Sequence[str]
) -> dict[uuid.UUID, dict[str, str | None]]:
    """``_open_columns`` of the people ``ids`` (a page and its namesakes: a few dozen)."""
    return _open_columns(
        session, vault, select(Beneficiary).where(Beneficiary.id.in_(ids)), columns
    )


def _opened(
    vault: Vault, pid: uuid.UUID, kek_id: str, wrapped: bytes, column: str, stored: bytes | None
) -> str | None:
    """One column of one person, decrypted with their wrapped data key."""
    return vault.open(vault.keys.unwrap(kek_id, wrapped), TABLE, column, pid, pid, stored)


def _confirmed(terms: SearchTerms, values: dict[str, str | None]) -> bool:
    """Whether a candidate's decrypted values really match: each typed word starts a word of
    the names, and the birth date, e-mail and phone are the same."""
    words = name_words(values["last_name"] or "", values["first_name"] or "")
    if not all(any(word.startswith(typed) for word in words) for typed in terms.words):
        return False
    if terms.birth_date and values.get("birth_date") != terms.birth_date.isoformat():
        return False
    if terms.email and normalise_email(values.get("email") or "") != terms.email:
        return False
    return not (terms.phone and values.get("phone") != terms.phone)


def _name_key(values: dict[str, str | None]) -> tuple[str, str]:
    return (normalise_name(values["last_name"] or ""), normalise_name(values["first_name"] or ""))


def _page_of(
    session: Session, wanted: Sequence[uuid.UUID], page: int, per_page: int, total: int
) -> Page[PathwayRow]:
    """Page ``page`` of a list of ``total`` people: the people ``wanted``, as rows in order."""
    return Page(rows_for(session, _in_order(session, wanted)), page, per_page, total)


def _in_order(session: Session, ids: Iterable[uuid.UUID]) -> list[Beneficiary]:
    wanted = list(ids)
    if not wanted:
        return []
    found = {
        p.id: p for p in session.scalars(select(Beneficiary).where(Beneficiary.id.in_(wanted)))
    }
    return [found[pid] for pid in wanted if pid in found]

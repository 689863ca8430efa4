"""The caseload search: blind-index candidates, decrypted and confirmed; the list by name."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.crypto.blind_index import name_words
from app.domain.people import canonical_pseudonym
from app.domain.rights import ErasureCause
from app.models import Beneficiary, NameSearchToken, User
from app.services.errors import InvalidInput
from app.services.people import search
from app.services.people.identity import Identity, update_identity
from app.services.people.overview import Filters, Sort, caseload
from app.services.rights.erasure import erase_person
from app.services.security import keys
from app.services.security.vault import Vault
from tests import factories
from tests.factories import TODAY
from tests.rights_helpers import register_in
from tests.sql_count import count_queries

PEOPLE = (
    # last name, first name, birth date, phone, e-mail
    ("Dupont", "Marie", date(2004, 3, 12), "06 11 22 33 44", "marie.d@exemple.fr"),
    ("Dupont-Lajoie", "Éric", date(2003, 5, 1), None, None),
    ("N'Diaye", "Aïssatou", date(2005, 7, 30), "07 55 44 33 22", None),
    ("Martin", "Jean Marc", date(2004, 3, 12), None, "jm.martin@exemple.fr"),
    ("Lefèvre", "Marine", date(2002, 1, 9), None, None),
    ("Marchand", "Lucas", date(2006, 11, 2), None, None),
    ("NDIAYE", "Binta", date(2001, 2, 3), None, None),  # her name typed without its apostrophe
)


@pytest.fixture
def caseworker(db_session: Session, vault: Vault) -> User:
    worker = factories.user(db_session, structure_=factories.structure(db_session, "AAA"))
    for last, first, born, phone, email in PEOPLE:
        factories.person(
            db_session, vault, worker, last_name=last, first_name=first, birth_date=born,
            phone=phone, email=email,
        )  # fmt: skip
    other = factories.user(
        db_session, structure_=factories.structure(db_session, "BBB"), email="b@relais.example"
    )
    factories.person(db_session, vault, other, last_name="Dupont", first_name="Marius")
    return worker


def found(db_session: Session, vault: Vault, actor: User, text: str) -> list[str]:
    result = search.search_caseload(db_session, vault, actor, text, today=TODAY, filters=Filters())
    people = [row.person for row in result.page.items]
    names = search._open_columns(  # the names, to compare
        db_session, vault, select(Beneficiary).where(Beneficiary.id.in_([p.id for p in people])),
        ("last_name", "first_name"),
    )  # fmt: skip
    return [f"{names[p.id]['first_name']} {names[p.id]['last_name']}" for p in people]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dupont", ["Marie Dupont", "Éric Dupont-Lajoie"]),
        ("DUPONT marie", ["Marie Dupont"]),
        ("marie dupont", ["Marie Dupont"]),
        ("Dupont-Lajoie", ["Éric Dupont-Lajoie"]),
        ("eric", ["Éric Dupont-Lajoie"]),
        ("lefevre", ["Marine Lefèvre"]),
        ("LEFÈVRE", ["Marine Lefèvre"]),
        ("ndiaye", ["Aïssatou N'Diaye", "Binta NDIAYE"]),
        ("n'diaye", ["Aïssatou N'Diaye", "Binta NDIAYE"]),  # with or without the apostrophe
        ("N’Diaye binta", ["Binta NDIAYE"]),
        ("n'diaye aissatou", ["Aïssatou N'Diaye"]),
        ("mar", ["Marie Dupont", "Marine Lefèvre", "Lucas Marchand", "Jean Marc Martin"]),
        ("jean marc", ["Jean Marc Martin"]),
        ("marc martin", ["Jean Marc Martin"]),
        ("m dupont", ["Marie Dupont"]),
        ("12/03/2004", ["Marie Dupont", "Jean Marc Martin"]),
        ("2004-03-12", ["Marie Dupont", "Jean Marc Martin"]),
        ("martin 12.03.2004", ["Jean Marc Martin"]),
        ("dupont 01/05/2003", ["Éric Dupont-Lajoie"]),
        ("06 11 22 33 44", ["Marie Dupont"]),
        ("+33755443322", ["Aïssatou N'Diaye"]),
        ("Marie.D@Exemple.fr", ["Marie Dupont"]),
        ("marius", []),  # followed by another structure
        ("durand", []),
        ("06 98 76 54 32", []),
    ],
)
def test_search_finds_people_by_what_a_caseworker_knows(
    db_session: Session, vault: Vault, caseworker: User, text: str, expected: list[str]
) -> None:
    assert found(db_session, vault, caseworker, text) == expected


def test_search_by_pseudonym_in_any_spelling(
    db_session: Session, vault: Vault, caseworker: User
) -> None:
    person = db_session.scalars(select(Beneficiary).order_by(Beneficiary.created_at)).first()
    assert person is not None
    code = person.pseudonym  # P-XXXX-XXXX
    for typed in (code, code.lower(), code.replace("-", ""), code[2:].replace("-", " ").lower()):
        result = search.search_caseload(
            db_session, vault, caseworker, typed, today=TODAY, filters=Filters()
        )
        assert [row.person.id for row in result.page.items] == [person.id]
        assert result.decrypted == 0


def test_pseudonyms_are_read_in_any_spelling() -> None:
    assert canonical_pseudonym("p-7k3m-q9xa") == "P-7K3M-Q9XA"
    assert canonical_pseudonym("7K3MQ9XA") == "P-7K3M-Q9XA"
    assert canonical_pseudonym(" P 7K3M Q9XA ") == "P-7K3M-Q9XA"
    assert canonical_pseudonym("dupont") is None
    assert canonical_pseudonym("P-7K3M-Q9X1") is None  # 1 is not in the alphabet


def test_a_name_shaped_like_a_pseudonym_is_searched_as_a_name(
    db_session: Session, vault: Vault, caseworker: User
) -> None:
    factories.person(db_session, vault, caseworker, last_name="Gambetta", first_name="Léa")
    assert canonical_pseudonym("GAMBETTA") is not None
    assert found(db_session, vault, caseworker, "gambetta") == ["Léa Gambetta"]


def test_only_candidates_are_decrypted(db_session: Session, vault: Vault, caseworker: User) -> None:
    result = search.search_caseload(
        db_session, vault, caseworker, "dupont marie", today=TODAY, filters=Filters()
    )
    assert result.page.total == 1
    # Candidates share the prefixes of "dup" and "mar" (a few false ones at most, by
    # truncation); never the whole caseload of seven.
    assert 1 <= result.decrypted < len(PEOPLE)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Type a name"),
        ("   ", "Type a name"),
        ("x", "at least two letters"),
        ("31/02/2004", "is not a date"),
        ("06 00 00", "not a valid phone number"),
    ],
)
def test_searches_that_cannot_be_run_say_why(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        search.parse_query(text)
    assert message in str(caught.value)
    assert caught.value.field == "q"


def test_search_terms_hide_their_values() -> None:
    assert "dupont" not in repr(search.parse_query("dupont"))


def test_name_words_cover_compound_names() -> None:
    assert name_words("N'Diaye", "Jean-Marc") == {
        "n",
        "diaye",
        "ndiaye",
        "jean",
        "marc",
        "jeanmarc",
    }


def test_tokens_follow_identity_changes_and_erasure(
    db_session: Session, vault: Vault, caseworker: User, tmp_path: Path
) -> None:
    person = factories.person(db_session, vault, caseworker, last_name="Zola", first_name="Émile")
    assert found(db_session, vault, caseworker, "zola") == ["Émile Zola"]
    update_identity(
        vault, db_session, caseworker, person,
        Identity(last_name="Hugo", first_name="Victor", birth_date=date(2004, 1, 1)), today=TODAY,
    )  # fmt: skip
    assert found(db_session, vault, caseworker, "zola") == []
    assert found(db_session, vault, caseworker, "victor hugo") == ["Victor Hugo"]
    erase_person(
        db_session, vault, caseworker, person, cause=ErasureCause.REQUEST,
        register=register_in(tmp_path), today=TODAY, now=datetime.now(UTC),
    )  # fmt: skip
    tokens = select(func.count()).where(NameSearchToken.beneficiary_id == person.id)
    assert db_session.scalar(tokens) == 0


def test_rebuilt_indexes_find_people_again(
    db_session: Session, vault: Vault, caseworker: User
) -> None:
    db_session.execute(NameSearchToken.__table__.delete())
    keys.mark_indexes_stale(db_session)
    assert found(db_session, vault, caseworker, "dupont") == []
    while keys.reindex_batch(db_session, vault, limit=3):
        pass
    assert found(db_session, vault, caseworker, "dupont") == ["Marie Dupont", "Éric Dupont-Lajoie"]


def test_the_caseload_sorts_by_name_with_accents_folded(
    db_session: Session, vault: Vault, caseworker: User
) -> None:
    result = search.caseload_by_name(
        db_session, vault, caseworker, today=TODAY, filters=Filters(), limit=100, per_page=4
    )
    assert result.page.total == len(PEOPLE)
    assert result.decrypted == len(PEOPLE)
    first_page = [row.person.id for row in result.page.items]
    second = search.caseload_by_name(
        db_session, vault, caseworker, today=TODAY, filters=Filters(), limit=100, page=2,
        per_page=4,
    )  # fmt: skip
    ids = first_page + [row.person.id for row in second.page.items]
    names = search._open_columns(
        db_session, vault, select(Beneficiary).where(Beneficiary.id.in_(ids)), ("last_name",)
    )
    assert [names[pid]["last_name"] for pid in ids] == [
        "Dupont", "Dupont-Lajoie", "Lefèvre", "Marchand", "Martin", "N'Diaye", "NDIAYE",
    ]  # fmt: skip


@pytest.mark.parametrize("sort", [Sort.RECENT, Sort.LAST_EVENT, Sort.STAGE])
def test_the_caseload_sorts_in_sql(
    db_session: Session, vault: Vault, caseworker: User, sort: Sort
) -> None:
    page = caseload(db_session, caseworker, today=TODAY, filters=Filters(), sort=sort)
    assert page.total == len(PEOPLE)
    assert len({row.person.id for row in page.items}) == len(PEOPLE)


TIED = (  # last names shared across the pages' bounds (pages of 3), first names to order them
    ("Martin", "Zoé"), ("martin", "Élodie"), ("Martin", "Bruno"), ("Martin", "Yves"),
    ("Abadie", "Léa"), ("Martín", "Anaïs"), ("Noël", "Chloé"), ("Noel", "Adèle"),
    ("Ba", "Inès"), ("Ba", "Ibrahim"),
)  # fmt: skip


def test_the_name_order_decrypts_first_names_only_around_the_page(
    db_session: Session, vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Walking the pages gives the whole caseload in (last name, first name) order, accents
    and case folded, with ties across the pages' bounds; a page decrypts the last names of
    the caseload and the first names of its people and of their namesakes only."""
    actor = factories.user(db_session, email="names@relais.example")
    for last, first in TIED:
        factories.person(db_session, vault, actor, last_name=last, first_name=first)
    db_session.commit()
    opened: list[tuple[str, ...]] = []
    open_columns, open_ids = search._open_columns, search._open_ids

    def counting(session, vault, ids, columns):  # type: ignore[no-untyped-def]
        found = open_ids(session, vault, ids, columns)
        opened.append((*columns, str(len(found))))
        return found

    monkeypatch.setattr(search, "_open_ids", counting)
    walked = []
    for number in (1, 2, 3, 4):
        result = search.caseload_by_name(
            db_session, vault, actor, today=TODAY, filters=Filters(), limit=100, page=number,
            per_page=3,
        )  # fmt: skip
        assert (result.page.page, result.page.total, result.decrypted) == (number, 10, 10)
        walked += [row.person.id for row in result.page.items]
    names = open_columns(
        db_session, vault, select(Beneficiary).where(Beneficiary.id.in_(walked)),
        ("last_name", "first_name"),
    )  # fmt: skip
    shown = [(names[pid]["last_name"], names[pid]["first_name"]) for pid in walked]
    assert shown == [
        ("Abadie", "Léa"), ("Ba", "Ibrahim"), ("Ba", "Inès"),
        ("Martín", "Anaïs"), ("Martin", "Bruno"), ("martin", "Élodie"),
        ("Martin", "Yves"), ("Martin", "Zoé"), ("Noel", "Adèle"),
        ("Noël", "Chloé"),
    ]  # fmt: skip
    # Page 1: Abadie, Ba, Ba (3); page 2 and 3: the five Martins; page 4: the two Noël.
    assert [o for o in opened if o[0] == "first_name"] == [
        ("first_name", "3"),
        ("first_name", "5"),
        ("first_name", "7"),
        ("first_name", "2"),
    ]


def test_the_name_order_is_refused_past_its_limit_never_sorted_in_part(
    db_session: Session, vault: Vault, caseworker: User
) -> None:
    """At ``limit`` people the whole list is sorted; one more and nothing is (``None``)."""
    exact = search.caseload_by_name(
        db_session, vault, caseworker, today=TODAY, filters=Filters(), limit=len(PEOPLE)
    )
    assert exact is not None
    assert (exact.page.total, exact.decrypted) == (len(PEOPLE), len(PEOPLE))
    over = search.caseload_by_name(
        db_session, vault, caseworker, today=TODAY, filters=Filters(), limit=len(PEOPLE) - 1
    )
    assert over is None


def test_the_keys_of_a_search_are_looked_up_by_person_never_joined(
    db_session: Session, vault: Vault, caseworker: User
) -> None:
    """Each candidate's data key is a correlated lookup by primary key, never a join that
    the database may answer by reading every key of the territory (PostgreSQL did at
    1,000,000 people, and with the candidates' ids written in at 100,000)."""
    with count_queries() as queries:
        assert found(db_session, vault, caseworker, "dupont") == [
            "Marie Dupont", "Éric Dupont-Lajoie",
        ]  # fmt: skip
    keyed = [s for s in queries.statements if "person_keys.wrapped_key" in s]
    assert keyed
    assert not any("JOIN person_keys" in s for s in keyed)

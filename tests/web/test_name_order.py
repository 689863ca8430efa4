"""The caseload by name: exact up to ``NAME_ORDER_LIMIT`` people after the filters, and past it
not sorted by name at all - the page says so and offers what narrows the list."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.services.security.vault import Vault
from tests import factories
from tests.sql_count import count_queries
from tests.web.helpers import login

WORKER, COLLEAGUE = "quillivic@relais.example", "brezellec@relais.example"
# Registered in this order (the newest last): the worker's people, then the colleague's.
HERS = (("Tréguer", "Anouk"), ("Abgrall", "Nolwenn"), ("Kerhervé", "Maïwenn"))
THEIRS = (("Ollivro", "Gwenola"), ("Bégoc", "Soizic"), ("Yvinec", "Armelle"), ("Cozic", "Rozenn"))
NOTICE = "Cette liste n'est pas triée par nom."


@pytest.fixture
def caseload(db_session: Session, vault: Vault) -> None:
    """Seven people followed by one structure: three whose referent is WORKER (she registered
    them), four whose referent is COLLEAGUE."""
    structure = factories.structure(db_session, "NOM")
    worker = factories.user(db_session, structure_=structure, email=WORKER)
    colleague = factories.user(db_session, structure_=structure, email=COLLEAGUE)
    for actor, names in ((worker, HERS), (colleague, THEIRS)):
        for last, first in names:
            factories.person(
                db_session, vault, actor, last_name=last, first_name=first, phone=None,
                email=None,
            )  # fmt: skip
    db_session.commit()


@pytest.fixture
def limit(app: Flask) -> Iterator[None]:
    previous = app.config["NAME_ORDER_LIMIT"]
    app.config["NAME_ORDER_LIMIT"] = 4
    yield
    app.config["NAME_ORDER_LIMIT"] = previous


def shown(page: str) -> list[str]:
    """The last names of the list's rows, in their order (the names as shown, upper case)."""
    return re.findall(r'<th scope="row">\s*<a href="[^"]+">[^<]*? ([^ <]+)</a>', page)


def test_past_the_limit_the_list_is_not_sorted_by_name_and_says_why(
    client: FlaskClient, caseload: None, limit: None
) -> None:
    login(client, WORKER)
    page = client.get("/people/?sort=name").get_data(as_text=True)
    assert NOTICE in page
    assert "il trie ainsi par nom les listes de 4 personnes au plus" in page
    assert "Personnes suivies, les plus récentes d'abord" in page  # the caption says so
    assert 'aria-sort="ascending"' not in page  # no column claims to be sorted
    # The order asked for stays chosen: filtering from here sorts by name when it can.
    assert '<option value="name" selected>' in page
    # Newest first, all seven: never a part of the list sorted by name.
    newest = [last.upper() for last, _first in reversed(HERS + THEIRS)]
    assert shown(page) == newest
    assert 'href="/people/?sort=name&amp;mine=1"' in page  # the narrowing that gets there
    narrowed = client.get("/people/?sort=name&stage=&cohort=&mine=1").get_data(as_text=True)
    assert NOTICE not in narrowed  # the filter form's submission, narrowed to her people
    assert shown(narrowed) == ["ABGRALL", "KERHERVÉ", "TRÉGUER"]


def test_narrowed_to_her_own_people_the_list_is_sorted_by_name(
    client: FlaskClient, caseload: None, limit: None
) -> None:
    login(client, WORKER)
    page = client.get("/people/?sort=name&mine=1").get_data(as_text=True)
    assert NOTICE not in page
    assert 'aria-sort="ascending"' in page
    assert "Personnes suivies, par nom" in page
    assert shown(page) == ["ABGRALL", "KERHERVÉ", "TRÉGUER"]
    assert 'id="filter-mine" name="mine" value="1" checked' in page


def test_the_limit_counts_the_people_after_the_filters(
    client: FlaskClient, app: Flask, caseload: None, limit: None
) -> None:
    """Seven people: sorted with a limit of seven, refused with six."""
    login(client, COLLEAGUE)
    assert shown(client.get("/people/?sort=name&mine=1").get_data(as_text=True)) == [
        "BÉGOC", "COZIC", "OLLIVRO", "YVINEC",
    ]  # fmt: skip
    app.config["NAME_ORDER_LIMIT"] = 7
    page = client.get("/people/?sort=name").get_data(as_text=True)
    assert NOTICE not in page
    assert shown(page) == [
        "ABGRALL", "BÉGOC", "COZIC", "KERHERVÉ", "OLLIVRO", "TRÉGUER", "YVINEC",
    ]  # fmt: skip
    app.config["NAME_ORDER_LIMIT"] = 6
    assert NOTICE in client.get("/people/?sort=name").get_data(as_text=True)


def test_the_filter_of_her_own_people_applies_to_every_order(
    client: FlaskClient, caseload: None
) -> None:
    login(client, WORKER)
    for sort in ("recent", "idle", "stage", "last_event", "name"):
        page = client.get(f"/people/?sort={sort}&mine=1").get_data(as_text=True)
        assert sorted(shown(page)) == ["ABGRALL", "KERHERVÉ", "TRÉGUER"], sort
        assert "3 personnes" in page
    assert len(shown(client.get("/people/").get_data(as_text=True))) == 7


def test_a_refused_name_order_costs_one_statement_more_than_the_newest_first_page(
    client: FlaskClient, caseload: None, limit: None
) -> None:
    """Past the limit the list's keys and last names are read up to the limit and one more
    (one statement, bounded by the limit whatever the caseload), none is decrypted, and the
    page is the newest-first page, statement for statement."""
    login(client, WORKER)
    client.get("/people/")
    with count_queries() as newest:
        assert client.get("/people/").status_code == 200
    with count_queries() as refused:
        assert NOTICE in client.get("/people/?sort=name").get_data(as_text=True)
    assert refused.count == newest.count + 1
    keyed = [s for s in refused.statements if "person_keys.wrapped_key" in s and "LIMIT" in s]
    assert len(keyed) == 1

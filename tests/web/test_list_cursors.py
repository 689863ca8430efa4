"""The lists' page links carry keyset cursors; a cursor that Relais did not give is a 400;
and a page costs the same statements with 2 rows as with 50 (and on its second page)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.domain.roles import Role
from app.services import keyset
from app.services.keyset import encode_cursor
from app.services.security.vault import Vault
from tests import factories
from tests.sql_count import count_queries, pin_flat
from tests.web.helpers import login
from tests.web.test_query_counts import CASEWORKER, PARTNER, caseload  # noqa: F401 - fixture

LINK = re.compile(r'<a href="([^"]+)" rel="(prev|next)">')


def _links(page: str) -> dict[str, str]:
    return {rel: html.unescape(href) for href, rel in LINK.findall(page)}


@pytest.fixture
def busy(db_session: Session, vault: Vault) -> None:
    worker = factories.user(db_session, email="busy@relais.example")
    factories.user(db_session, Role.COORDINATOR, email="coord2@relais.example")
    for n in range(27):
        factories.person(db_session, vault, worker, last_name=f"Person{n}")
    db_session.commit()


@pytest.mark.parametrize("sort", ["", "?sort=idle", "?sort=last_event", "?sort=stage"])
def test_the_caseload_pages_follow_cursors(client: FlaskClient, busy: None, sort: str) -> None:
    login(client, "busy@relais.example")
    first = client.get(f"/people/{sort}").get_data(as_text=True)
    assert "Page 1 sur 2" in first
    following = _links(first)["next"]
    assert "after=" in following
    assert "page=" not in following
    second = client.get(following).get_data(as_text=True)
    assert "Page 2 sur 2" in second
    assert second.count('class="pseudonym"') == 2
    back = _links(second)["prev"]
    assert "before=" in back
    again = client.get(back).get_data(as_text=True)
    assert "Page 1 sur 2" in again
    assert again.count('class="pseudonym"') == 25
    pseudonyms = re.compile(r'class="pseudonym">([^<]+)<')
    assert pseudonyms.findall(again) == pseudonyms.findall(first)
    # Choosing another order starts from its first page: no cursor of this one.
    paging = set(_links(second).values())
    orders = {html.unescape(h) for h in re.findall(r'href="(/people/\?[^"]*sort=[^"]*)"', second)}
    assert len(orders - paging) >= 2  # the other orders (the newest first has no sort=)
    for href in orders - paging:
        assert "after=" not in href
        assert "before=" not in href


def test_the_coordinators_list_pages_follow_cursors(client: FlaskClient, busy: None) -> None:
    login(client, "coord2@relais.example")
    first = client.get("/pathways/").get_data(as_text=True)
    second = client.get(_links(first)["next"]).get_data(as_text=True)
    assert "Page 2 sur 2" in second


@pytest.mark.parametrize("name", ["structure", "cohort", "stage", "qpv"])
def test_a_filter_value_not_in_its_list_is_said_not_answered_with_nobody(
    client: FlaskClient, busy: None, name: str
) -> None:
    """The list of the filter would show "All" beside "no pathway matches these filters"."""
    login(client, "coord2@relais.example")
    answer = client.get(f"/pathways/?{name}=zzz")
    assert answer.status_code == 400
    page = html.unescape(answer.get_data(as_text=True))
    assert 'id="filter-error"' in page
    assert "Aucun parcours ne correspond" not in page
    assert client.get("/pathways/?cohort=young_dropout").status_code == 200


MOMENT, ID = "2026-11-02T08:00:00+00:00", "0" * 32
PEOPLE_CURSOR = encode_cursor({"s": "recent", "n": "0", "k0": MOMENT, "k1": ID})
BOX_CURSOR = encode_cursor({"s": "box", "n": "0", "k0": "0", "k1": MOMENT, "k2": ID})
BAD = (
    "zzz",
    "x" * 3000,
    encode_cursor({"s": "recent", "n": "0", "k0": "2026-11-02", "k1": ID}),  # a day
    encode_cursor({"s": "box", "n": "0", "k0": "first", "k1": MOMENT, "k2": ID}),  # not a number
    encode_cursor({"s": "recent", "n": "-3", "k0": MOMENT, "k1": ID}),  # no such position
)
LISTS = ("/people/?", "/people/?sort=idle&", "/handoffs/?box=out&", "/handoffs/?")


@pytest.mark.parametrize("bad", BAD)
def test_a_cursor_not_given_by_relais_is_a_bad_request(
    client: FlaskClient, busy: None, bad: str
) -> None:
    login(client, "busy@relais.example")
    for path in LISTS:
        for name in ("after", "before"):
            assert client.get(f"{path}{name}={bad}").status_code == 400, (path, name)
    login(client, "coord2@relais.example")
    assert client.get(f"/pathways/?after={bad}").status_code == 400


def test_a_cursor_of_another_list_is_a_bad_request(client: FlaskClient, busy: None) -> None:
    login(client, "busy@relais.example")
    for path in LISTS:
        box = path.startswith("/handoffs/")
        for cursor, fits in ((PEOPLE_CURSOR, not box and "idle" not in path), (BOX_CURSOR, box)):
            wanted = 200 if fits else 400
            assert client.get(f"{path}after={cursor}").status_code == wanted, (path, cursor)


def test_the_pages_cost_the_same_with_2_rows_as_with_50(
    client: FlaskClient,
    caseload: Callable[[int], None],  # noqa: F811 - the fixture
) -> None:
    """The caseload (25 a page: the second page by its cursor) and both boxes (50 a page)."""

    def counts() -> dict[str, object]:
        login(client, CASEWORKER)
        seen = {}
        for path in ("/people/", "/people/?sort=idle", "/handoffs/?box=out"):
            with count_queries() as queries:
                response = client.get(path)
            assert response.status_code == 200
            seen[path] = queries
            following = _links(response.get_data(as_text=True)).get("next")
            if following is not None:
                with count_queries() as queries:
                    assert client.get(following).status_code == 200
                seen[path + " next"] = queries
        login(client, PARTNER)
        with count_queries() as queries:
            assert client.get("/handoffs/").status_code == 200
        seen["inbox"] = queries
        return seen

    caseload(2)
    few = counts()
    caseload(48)
    many = counts()
    assert set(many) - set(few) == {"/people/ next", "/people/?sort=idle next"}
    for path, queries in few.items():
        pin_flat(queries, many[path])  # type: ignore[arg-type]
    pin_flat(few["/people/"], many["/people/ next"])  # type: ignore[arg-type]
    pin_flat(few["/people/?sort=idle"], many["/people/?sort=idle next"])  # type: ignore[arg-type]


def test_a_caseload_longer_than_the_count_limit_says_more_than(
    client: FlaskClient, busy: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``keyset.COUNT_LIMIT`` people the count says "more than" it, and the pages are
    numbered without a last page, linked by their cursors."""
    monkeypatch.setattr(keyset, "COUNT_LIMIT", 26)
    login(client, "busy@relais.example")
    first = client.get("/people/").get_data(as_text=True)
    assert 'data-total="26" data-exact="no"' in first
    assert "Page 1" in first
    assert "Page 1 sur" not in first
    assert "prev" not in _links(first)
    second = client.get(_links(first)["next"]).get_data(as_text=True)
    assert second.count('class="pseudonym"') == 2
    assert "Page 2" in second
    assert "next" not in _links(second)  # the last page, though never counted
    again = client.get(_links(second)["prev"]).get_data(as_text=True)
    pseudonyms = re.compile(r'class="pseudonym">([^<]+)<')
    assert pseudonyms.findall(again) == pseudonyms.findall(first)
    monkeypatch.setattr(keyset, "COUNT_LIMIT", 1000)
    counted = client.get("/people/").get_data(as_text=True)
    assert 'data-total="27" data-exact="yes"' in counted

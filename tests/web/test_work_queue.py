"""The caseworker's home page: the work queue, its badges, names only where the structure
follows the person, and an audit record for each name shown."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent
from app.domain.roles import Role
from app.models import AuditEvent, FollowUp
from app.services import work_queue as work_queue_module
from app.services.handoffs import apply_event
from app.services.security.vault import Vault
from tests import factories
from tests.audit_log import people_shown
from tests.sql_count import Queries, count_queries, pin, pin_flat
from tests.web.helpers import login


def test_caseworkers_land_on_their_work_queue(
    client: FlaskClient, db_session: Session, vault: Vault
) -> None:
    a = factories.structure(db_session, "AAA")
    b = factories.structure(db_session, "BBB")
    worker_a = factories.user(db_session, structure_=a, email="a@relais.example")
    worker_b = factories.user(db_session, structure_=b, email="b@relais.example")
    waiting = factories.person(db_session, vault, worker_a, last_name="Attente", first_name="Léa")
    other = factories.person(db_session, vault, worker_a, last_name="Autre", first_name="Max")
    declined = factories.person(db_session, vault, worker_b, last_name="Dunoyer", first_name="Tom")
    unsure = factories.person(db_session, vault, worker_b, last_name="Sansaccord", consent=False)
    now = datetime.now(UTC)
    factories.handoff(db_session, vault, worker_a, waiting, b, now=now - timedelta(days=12))
    factories.handoff(db_session, vault, worker_a, other, b, now=now - timedelta(days=1))
    refused = factories.handoff(db_session, vault, worker_b, declined, a, now=now)
    apply_event(
        db_session, vault, worker_a, refused, HandoffEvent.DECLINE, now=now,
        reason_code="no_capacity",
    )  # fmt: skip
    db_session.commit()

    login(client, "b@relais.example")
    assert client.get("/").headers["Location"].endswith("/work/")
    page = client.get("/work/").get_data(as_text=True)
    assert "<title>À faire" in page
    assert "2 en attente" in page
    assert page.count("En retard") == 1  # sent 12 days ago, overdue after 10
    assert "ATTENTE" not in page
    assert waiting.pseudonym in page
    assert "Refusée" in page
    assert "Réorienter" in page
    assert "Tom DUNOYER" in page
    assert "1 sans consentement" in page
    assert "SANSACCORD" in page
    shown = people_shown(
        db_session.scalars(select(AuditEvent).where(AuditEvent.purpose == "work_queue"))
    )
    assert set(shown) == {declined.id, unsure.id}
    assert len(shown) == 2


def test_an_empty_queue_says_so(client: FlaskClient, db_session: Session) -> None:
    factories.user(
        db_session, structure_=factories.structure(db_session, "AAA"), email="a@relais.example"
    )
    db_session.commit()
    login(client, "a@relais.example")
    page = client.get("/work/").get_data(as_text=True)
    assert "Rien n'attend votre structure." in page


def test_other_roles_have_no_work_queue(client: FlaskClient, db_session: Session) -> None:
    factories.user(db_session, Role.COORDINATOR, email="coord@relais.example")
    db_session.commit()
    login(client, "coord@relais.example")
    assert client.get("/work/").status_code == 404


@pytest.fixture
def busy_queue(db_session: Session, vault: Vault) -> Callable[[int], None]:
    """Adds ``count`` rows to every list of the work queue of a@relais.example (structure
    AAA, which declares 1 free place): hand-offs from BBB to answer (overdue) and accepted
    without a first contact, hand-offs of AAA declined by BBB, and people followed since
    January without news nor consent (idle, lost from view, without consent)."""
    a = factories.structure(db_session, "AAA")
    b = factories.structure(db_session, "BBB")
    a.capacity = 1
    worker_a = factories.user(db_session, structure_=a, email="a@relais.example")
    worker_b = factories.user(db_session, structure_=b, email="b@relais.example")
    now = datetime.now(UTC)

    def add(count: int) -> None:
        quiet = []
        for _ in range(count):
            waiting = factories.person(db_session, vault, worker_b)
            factories.handoff(db_session, vault, worker_b, waiting, a, now=now - timedelta(days=12))
            accepted = factories.person(db_session, vault, worker_b)
            handoff = factories.handoff(
                db_session, vault, worker_b, accepted, a, now=now - timedelta(days=5)
            )
            apply_event(db_session, vault, worker_a, handoff, HandoffEvent.ACCEPT, now=now)
            declined = factories.person(db_session, vault, worker_a)
            handoff = factories.handoff(
                db_session, vault, worker_a, declined, b, now=now - timedelta(days=3)
            )
            apply_event(
                db_session, vault, worker_b, handoff, HandoffEvent.DECLINE,
                now=now - timedelta(days=1), reason_code="no_capacity",
            )  # fmt: skip
            quiet.append(factories.person(db_session, vault, worker_a, consent=False).id)
        for follow_up in db_session.scalars(
            select(FollowUp).where(FollowUp.beneficiary_id.in_(quiet))
        ):
            follow_up.started_on = date(2026, 1, 1)
        db_session.commit()

    db_session.commit()
    return add


def test_the_work_queue_costs_the_same_with_2_rows_as_with_50(
    client: FlaskClient, busy_queue: Callable[[int], None]
) -> None:
    """Every list of the page full (and cut at 10 rows with 50): the same statements, one per
    list, the count of each list taken by the same query (a window before the LIMIT)."""

    def seen() -> tuple[Queries, str]:
        login(client, "a@relais.example")
        with count_queries() as queries:
            response = client.get("/work/")
        assert response.status_code == 200
        return queries, response.get_data(as_text=True)

    busy_queue(2)
    few, few_page = seen()
    busy_queue(48)
    many, many_page = seen()
    for page, n in ((few_page, 2), (many_page, 50)):
        for count in ("en attente", "à contacter", "à réorienter", "sans consentement"):
            assert f"{n} {count}" in page
        assert page.count(f"{n} personnes") == 2  # idle and lost from view
        assert f'data-pending="{n}" data-places="1"' in page
    assert many_page.count("et 40 autres") == 6
    assert many_page.count('data-total="50" data-exact="yes"') == 3  # the lists of people
    pin_flat(few, many)
    # The user; a query for each of the six lists (the idle list and the lost from view read
    # the kept pathway state: their shown people with their count); which of their people
    # the structure follows; the names' keys;
    # the inbox badge; the card reminder (2); the erasure notices; the audit append (head
    # read - with its row lock on PostgreSQL - and moved, the event, its people).
    pin(many, sqlite=17)


def test_a_list_longer_than_its_bound_says_more_than(
    client: FlaskClient, busy_queue: Callable[[int], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lists of people count up to ``COUNT_LIMIT``: beyond, the page says "more than"."""
    monkeypatch.setattr(work_queue_module, "COUNT_LIMIT", 12)
    busy_queue(15)
    login(client, "a@relais.example")
    page = client.get("/work/").get_data(as_text=True)
    assert page.count('data-total="12" data-exact="no"') == 3
    assert "15 en attente" in page  # the hand-off lists count in full


def test_what_the_queue_cuts_is_one_click_away_whole(
    client: FlaskClient, busy_queue: Callable[[int], None]
) -> None:
    """ "And 2 more" under the people lost from view and those without consent opens the
    caseload filtered to them (the referent's own for the lost), every one of them listed
    with their name, the filter shown chosen."""
    busy_queue(12)
    login(client, "a@relais.example")
    page = client.get("/work/").get_data(as_text=True)
    links = {
        situation: re.search(rf'href="(/people/\?[^"]*situation={situation}[^"]*)"', page)
        for situation in ("lost", "no_consent")
    }
    assert all(links.values()), links
    for situation, link in links.items():
        assert link is not None
        target = link.group(1).replace("&amp;", "&")
        listed = client.get(target).get_data(as_text=True)
        assert 'data-total="12" data-exact="yes">12 personnes</p>' in listed
        assert f'<option value="{situation}" selected>' in listed
        assert listed.count('class="pseudonym"') >= 12
        # Lost from view: why each one is (here, no news since January).
        assert listed.count('data-reason="no_news"') == (12 if situation == "lost" else 0)
    assert "mine=1" in links["lost"].group(1)
    # An unknown one is no filter, as an unknown sort.
    total = re.compile(r'data-total="(\d+)"')
    everyone = total.search(client.get("/people/").get_data(as_text=True))
    unknown = total.search(client.get("/people/?situation=nope").get_data(as_text=True))
    assert everyone is not None
    assert unknown is not None
    assert unknown.group(1) == everyone.group(1) == "36"  # the quiet, accepted and declined

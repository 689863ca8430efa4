"""The steering index (a line and a headline figure per steering page, in the coordinators'
navigation) and the count table of the people lost from view: exact by default, the
publication view on request, its CSV export in the publication view only, audited."""

from __future__ import annotations

import csv
import io

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.models import AuditEvent, Structure, User
from app.services.people.overview import Page
from app.services.security.vault import Vault
from app.web.steering import lost as steering_lost
from tests.web.helpers import csrf_token, login
from tests.web.test_capacity_pages import _lost_person, network

__all__ = ["network"]  # the fixture


def _three_lost(db_session: Session, vault: Vault) -> list[str]:
    worker = db_session.scalars(select(User).where(User.email == "aaa@relais.example")).one()
    people = [_lost_person(db_session, vault, worker, f"Perdu{n}") for n in range(3)]
    db_session.commit()
    return [p.pseudonym for p in people]


def test_the_index_lists_the_steering_pages_with_their_figures(
    client: FlaskClient, db_session: Session, vault: Vault, network: dict[str, Structure]
) -> None:
    _three_lost(db_session, vault)
    login(client, "coord@relais.example")
    page = client.get("/steering/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for link in (
        'href="/steering/delays"',
        'href="/steering/unmet-needs"',
        'href="/steering/lost"',
    ):
        assert link in html
    assert '<strong data-figure="lost">3</strong>' in html
    assert '<strong data-figure="decisions">0</strong>' in html
    assert '<strong data-figure="unmet-needs">0</strong>' in html
    # In the coordinators' navigation, current on every steering page.
    lost_page = client.get("/steering/lost").get_data(as_text=True)
    assert 'href="/steering/" aria-current="page"' in lost_page


def test_the_index_is_for_coordinators_only(
    client: FlaskClient, network: dict[str, Structure]
) -> None:
    login(client, "aaa@relais.example")
    assert client.get("/steering/").status_code == 404
    assert 'href="/steering/"' not in client.get("/work/").get_data(as_text=True)


def test_lost_counts_in_both_views(
    client: FlaskClient, db_session: Session, vault: Vault, network: dict[str, Structure]
) -> None:
    _three_lost(db_session, vault)
    login(client, "coord@relais.example")
    html = client.get("/steering/lost").get_data(as_text=True)
    assert 'id="table-lost-counts"' in html
    assert 'data-view="exact"' in html
    assert '<td class="total" data-grand-total>3</td>' in html
    assert '<td data-column-total="no_news">3</td>' in html
    html = client.get("/steering/lost?view=publication").get_data(as_text=True)
    assert 'data-view="publication"' in html
    assert '<td class="total" data-grand-total>3</td>' not in html
    assert 'class="hidden-value"' in html
    # The list below is unchanged by the view.
    assert 'data-total="3"' in html


def test_the_lost_export_is_the_publication_view_and_audited(
    client: FlaskClient, db_session: Session, vault: Vault, network: dict[str, Structure]
) -> None:
    pseudonyms = _three_lost(db_session, vault)
    login(client, "coord@relais.example")
    for view in ("", "?view=publication"):
        response = client.get(f"/steering/lost/export.csv{view}")
        assert response.status_code == 200
        assert "publication" in response.headers["Content-Disposition"]
        text = response.get_data(as_text=True).removeprefix("\ufeff")
        lines = list(csv.reader(io.StringIO(text), delimiter=";"))
        assert lines[-1][0] == "view"
        assert "3" not in [cell for line in lines[1:-1] for cell in line[2:]]
        assert not any(p in text for p in pseudonyms)
    assert client.get("/steering/lost/export.csv?cohort=nope").status_code == 400
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.STATISTICS_EXPORT)
    ).all()
    assert len(events) == 2


def test_the_lost_list_writes_its_total_the_french_way(
    client: FlaskClient, network: dict[str, Structure], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A territory's count (tens of thousands) with the thousands separator: 50 616, not
    50616; the figure in ``data-total`` stays plain."""
    login(client, "coord@relais.example")
    monkeypatch.setattr(
        steering_lost,
        "lost_from_view",
        lambda *args, **kwargs: Page(items=[], page=1, per_page=25, total=50616),
    )
    html = client.get("/steering/lost").get_data(as_text=True)
    assert 'data-total="50616">50\u202f616 personnes</p>' in html
    client.post(
        "/language", data={"lang": "en", "csrf_token": csrf_token(client, "/steering/lost")}
    )
    html = client.get("/steering/lost").get_data(as_text=True)
    assert 'data-total="50616">50,616 people</p>' in html

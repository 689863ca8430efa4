"""The "no solution found" form on the person's side, and the coordinators' unmet-needs page
with its two views and its CSV exports (publication view only, audited)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.domain.unmet_needs import UnmetNeedSource
from app.models import AuditEvent, Beneficiary, ReferenceKind, UnmetNeed
from app.services.pathways import add_barrier
from app.services.security.vault import Vault
from app.services.structures import reference_item
from tests import factories
from tests.web.helpers import login, page_tokens

PERIOD = "start=2026-01-01&end=2026-12-31"


@pytest.fixture
def net(db_session: Session, vault: Vault) -> dict[str, object]:
    a = factories.structure(db_session, "AAA")
    worker = factories.user(db_session, structure_=a, email="a@relais.example")
    factories.user(db_session, Role.COORDINATOR, email="coord@relais.example")
    person = factories.person(db_session, vault, worker)
    other = factories.person(db_session, vault, worker, last_name="Autre")
    mine = add_barrier(
        db_session, worker, person, category_code="mobility", identified_on=factories.TODAY
    )
    theirs = add_barrier(
        db_session, worker, other, category_code="housing", identified_on=factories.TODAY
    )
    db_session.commit()
    return {"person": person, "mine": mine.id.hex, "theirs": theirs.id.hex}


def _person(net: dict[str, object]) -> Beneficiary:
    person = net["person"]
    assert isinstance(person, Beneficiary)
    return person


def _post(client: FlaskClient, pseudonym: str, **data: str) -> object:
    path = f"/handoffs/no-solution/{pseudonym}"
    return client.post(path, data={**page_tokens(client, path), **data})


def _needs(session: Session) -> list[UnmetNeed]:
    session.expire_all()
    return list(session.scalars(select(UnmetNeed)))


def test_a_caseworker_records_no_solution_found_and_sees_it_in_the_chronology(
    client: FlaskClient, net: dict[str, object], db_session: Session
) -> None:
    pseudonym = _person(net).pseudonym
    login(client, "a@relais.example")
    person_page = client.get(f"/people/{pseudonym}").get_data(as_text=True)
    assert 'id="no-solution-link"' in person_page
    form = client.get(f"/handoffs/no-solution/{pseudonym}").get_data(as_text=True)
    assert f'value="barrier:{net["mine"]}"' in form
    assert f'value="barrier:{net["theirs"]}"' not in form  # another person's barrier
    answer = _post(
        client, pseudonym, need=f"barrier:{net['mine']}", precision="no_partner_on_territory"
    )
    assert answer.status_code == 302  # type: ignore[attr-defined]
    (need,) = _needs(db_session)
    assert need.source is UnmetNeedSource.NO_SOLUTION
    page = client.get(f"/people/{pseudonym}").get_data(as_text=True)
    assert 'data-unmet-need="mobility"' in page
    audited = db_session.scalar(
        select(AuditEvent).where(AuditEvent.action == AuditAction.UNMET_NEED_RECORD)
    )
    assert audited is not None


@pytest.mark.parametrize(
    "need", ["", "barrier:theirs", "barrier:zzz", "category:teleportation", "other:1", "x" * 500]
)
def test_bad_input_is_a_form_error_and_records_nothing(
    client: FlaskClient, net: dict[str, object], db_session: Session, need: str
) -> None:
    login(client, "a@relais.example")
    need = need.replace("theirs", str(net["theirs"]))
    answer = _post(client, _person(net).pseudonym, need=need)
    assert answer.status_code == 422  # type: ignore[attr-defined]
    assert 'aria-invalid="true"' in answer.get_data(as_text=True)  # type: ignore[attr-defined]
    assert _needs(db_session) == []


def test_a_double_submission_records_once(
    client: FlaskClient, net: dict[str, object], db_session: Session
) -> None:
    login(client, "a@relais.example")
    pseudonym = _person(net).pseudonym
    path = f"/handoffs/no-solution/{pseudonym}"
    data = {**page_tokens(client, path), "need": "category:housing"}
    assert client.post(path, data=data).status_code == 302
    assert client.post(path, data=data).status_code == 302
    assert len(_needs(db_session)) == 1


def _seed(session: Session, net: dict[str, object], count: int) -> None:
    person = _person(net)
    category = reference_item(session, ReferenceKind.BARRIER_CATEGORY, "mobility")
    for _ in range(count):
        session.add(
            UnmetNeed(
                source=UnmetNeedSource.NO_CAPACITY,
                occurred_on=factories.TODAY,
                structure_id=person.created_by_structure_id,
                beneficiary_id=person.id,
                category_id=category.id,
            )
        )
    session.commit()


def test_the_coordinator_reads_exact_and_publication_views(
    client: FlaskClient, net: dict[str, object], db_session: Session
) -> None:
    _seed(db_session, net, 3)
    login(client, "coord@relais.example")
    exact = client.get(f"/steering/unmet-needs?{PERIOD}")
    assert exact.status_code == 200
    text = exact.get_data(as_text=True)
    assert 'data-view="exact"' in text
    assert re.search(r"data-grand-total>3<", text)
    published = client.get(f"/steering/unmet-needs?{PERIOD}&view=publication")
    text = published.get_data(as_text=True)
    assert 'data-view="publication"' in text
    assert not re.search(r"data-grand-total>3<", text)
    assert "<svg" in text
    assert _person(net).pseudonym not in text
    assert client.get("/steering/unmet-needs?start=2026-12-01&end=2026-01-01").status_code == 400


def test_caseworkers_do_not_reach_the_page(client: FlaskClient, net: dict[str, object]) -> None:
    login(client, "a@relais.example")
    assert client.get("/steering/unmet-needs").status_code == 404


def test_the_exports_are_in_the_publication_view_and_audited(
    client: FlaskClient, net: dict[str, object], db_session: Session
) -> None:
    _seed(db_session, net, 3)
    login(client, "coord@relais.example")
    for view in ("", "&view=publication"):
        response = client.get(
            f"/steering/unmet-needs/export/unmet-needs-sources.csv?{PERIOD}{view}"
        )
        assert response.status_code == 200
        assert "publication" in response.headers["Content-Disposition"]
        text = response.get_data(as_text=True).removeprefix("\ufeff")
        lines = list(csv.reader(io.StringIO(text), delimiter=";"))
        assert lines[-1][0] == "view"
        assert "3" not in [cell for line in lines[1:-1] for cell in line[2:]]
    assert client.get(f"/steering/unmet-needs/export/people.csv?{PERIOD}").status_code == 404
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.STATISTICS_EXPORT)
    ).all()
    assert len(events) == 2

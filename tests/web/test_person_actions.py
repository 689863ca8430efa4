"""The person's page only reads; each action opens its form on its own page.

The page links to each action's page (a GET of the address its form posts to), renders none
of their fields, and each action's page shows its form, empty and dated today; a structure in
its reading grace period sees the page, not the form.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Beneficiary, User
from app.services.pathways import add_barrier, end_follow_up
from app.services.security.vault import Vault
from tests import factories
from tests.web.helpers import login

WORKER = "act@relais.example"
PARIS = ZoneInfo("Europe/Paris")


def _paris_today() -> date:
    """The day the views write on forms (read when needed: a run may cross midnight)."""
    return datetime.now(PARIS).date()


# The fields of every form the person's page opens (prefixes of their names).
FIELDS = re.compile(r'name="(step|barrier|decision|end|consent|a[0-9a-f]{8}|b[0-9a-f]{8})-')


@pytest.fixture
def followed(db_session: Session, vault: Vault) -> tuple[str, str]:
    """The pseudonym of a person WORKER's structure follows, and their barrier's id."""
    worker = factories.user(db_session, email=WORKER)
    person = factories.person(db_session, vault, worker)
    barrier = add_barrier(
        db_session, worker, person, category_code="mobility", identified_on=factories.TODAY
    )
    db_session.commit()
    return person.pseudonym, barrier.id.hex


def test_the_page_links_to_each_form_and_renders_none(
    client: FlaskClient, followed: tuple[str, str]
) -> None:
    pseudonym, barrier = followed
    login(client, WORKER)
    page = client.get(f"/people/{pseudonym}").get_data(as_text=True)
    assert not FIELDS.search(page)
    for action in ("steps", "barriers", "decisions", "end", f"barriers/{barrier}"):
        assert f'href="/people/{pseudonym}/{action}"' in page, action
    for action, field in (
        ("steps", "step-stage"),
        ("barriers", "barrier-category"),
        ("decisions", "decision-pathway_type"),
        ("end", "end-reason"),
        (f"barriers/{barrier}", f"b{barrier[:8]}-status"),
    ):
        answer = client.get(f"/people/{pseudonym}/{action}")
        assert answer.status_code == 200, action
        text = answer.get_data(as_text=True)
        assert f'name="{field}"' in text, action
        assert "error-summary" not in text, action  # an empty form, no error yet
    before = _paris_today()
    steps = client.get(f"/people/{pseudonym}/steps").get_data(as_text=True)
    days = {before, _paris_today()}  # the request may fall on either side of midnight
    assert any(f'value="{day.isoformat()}"' in steps for day in days)


def test_a_structure_in_its_grace_period_reads_without_forms(
    client: FlaskClient, db_session: Session, followed: tuple[str, str]
) -> None:
    pseudonym, _barrier = followed
    login(client, WORKER)
    worker = db_session.scalars(select(User).where(User.email == WORKER)).one()
    person = db_session.scalars(select(Beneficiary).where(Beneficiary.pseudonym == pseudonym)).one()
    end_follow_up(db_session, worker, person, reason_code="other", on=_paris_today())
    db_session.commit()
    page = client.get(f"/people/{pseudonym}").get_data(as_text=True)
    assert f'href="/people/{pseudonym}/steps"' not in page
    answer = client.get(f"/people/{pseudonym}/steps")
    assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    assert 'id="read-only"' in text
    assert not FIELDS.search(text)

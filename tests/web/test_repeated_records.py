"""Two tabs and second sendings the one-time tokens cannot see: the same step, barrier or
network event typed in two forms is recorded once and the second shows it; a barrier's status
or an answer to a hand-off sent twice says it is recorded, while a different answer is refused
as before."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.domain.handoffs import HandoffStatus
from app.domain.pathway import BarrierStatus
from app.models import Barrier, Handoff, HandoffTransition, PathwayStep, Structure
from tests import factories
from tests.directory_data import paris_today
from tests.web.helpers import action_tokens, login, logout, page_tokens

ALREADY = "déjà enregistré (depuis un autre onglet ou par un second envoi)"
NOT_POSSIBLE = "Cette action n&#39;est pas possible sur cette orientation pour le moment."
IDENTITY = {"last_name": "Okafor", "first_name": "Ruth", "birth_date": "2001-02-03"}


@pytest.fixture
def partners(db_session: Session) -> dict[str, Structure]:
    found = {code: factories.structure(db_session, code) for code in ("RPA", "RPB")}
    for code, structure in found.items():
        factories.user(db_session, structure_=structure, email=f"{code.lower()}@relais.example")
    db_session.commit()
    return found


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def _register(client: FlaskClient) -> str:
    data = {**page_tokens(client, "/people/new"), **IDENTITY, "cohorts": "young_graduate"}
    data |= {"consent_method": "oral", "consent_on": "2026-11-01"}
    response = client.post("/people/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[-1]


def _post(
    client: FlaskClient, path: str, tab: dict[str, str], prefix: str, **fields: str
) -> TestResponse:
    data = {
        f"{prefix}-csrf_token": tab["csrf_token"],
        f"{prefix}-submission": tab[f"{prefix}-submission"],
    }
    data |= {f"{prefix}-{name}": value for name, value in fields.items()}
    return client.post(path, data=data)


def _shown(client: FlaskClient, response: TestResponse) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_step_and_a_barrier_typed_in_two_tabs_are_recorded_once(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "rpa@relais.example")
    pseudonym = _register(client)
    page = f"/people/{pseudonym}"
    tabs = [action_tokens(client, pseudonym) for _ in range(2)]
    step = {"stage": "training", "started_on": "2026-11-02"}
    assert "Étape enregistrée" in _shown(
        client, _post(client, f"{page}/steps", tabs[0], "step", **step)
    )
    second = _post(client, f"{page}/steps", tabs[1], "step", **step)
    assert second.headers["Location"].endswith(f"{page}#timeline-title")
    assert ALREADY in _shown(client, second)
    assert _count(db_session, PathwayStep) == 1
    # Another step the same day, from the same second tab, is recorded.
    other = _post(
        client, f"{page}/steps", tabs[1], "step", stage="orientation", started_on="2026-11-02"
    )
    assert ALREADY not in _shown(client, other)
    assert _count(db_session, PathwayStep) == 2

    barrier = {"category": "housing", "identified_on": "2026-11-03"}
    _shown(client, _post(client, f"{page}/barriers", tabs[0], "barrier", **barrier))
    again = _post(client, f"{page}/barriers", tabs[1], "barrier", **barrier)
    assert again.headers["Location"].endswith(f"{page}#barriers-title")
    assert ALREADY in _shown(client, again)
    assert _count(db_session, Barrier) == 1


def test_a_barrier_status_sent_twice_says_it_is_recorded(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "rpa@relais.example")
    pseudonym = _register(client)
    page = f"/people/{pseudonym}"
    tab = action_tokens(client, pseudonym)
    _shown(
        client,
        _post(
            client,
            f"{page}/barriers",
            tab,
            "barrier",
            category="housing",
            identified_on="2026-11-03",
        ),
    )
    barrier = db_session.scalars(select(Barrier)).one()
    prefix = f"b{barrier.id.hex[:8]}"
    path = f"{page}/barriers/{barrier.id.hex}"
    data = {
        f"{prefix}-csrf_token": tab["csrf_token"],
        f"{prefix}-status": "lifted",
        f"{prefix}-on": "2026-11-04",
    }
    assert "Frein mis à jour" in _shown(client, client.post(path, data=data))
    second = client.post(path, data=data)  # the double click
    assert second.headers["Location"].endswith(f"{page}#barriers-title")
    text = _shown(client, second)
    assert ALREADY in text
    assert "Frein mis à jour" not in text
    db_session.expire_all()
    assert db_session.get(Barrier, barrier.id).status is BarrierStatus.LIFTED  # type: ignore[union-attr]
    # Another status sent from the same stale form is refused on the form, as before.
    refused = client.post(path, data={**data, f"{prefix}-status": "not_addressed"})
    assert refused.status_code == 200  # the page again, the form refused (not a redirect)
    text = refused.get_data(as_text=True)
    assert "<title>Erreur" in text
    assert ALREADY not in text


def _answer(
    client: FlaskClient, handoff: str, event: str, tokens: str, **fields: str
) -> TestResponse:
    data = {f"{event}-csrf_token": tokens, **{f"{event}-{k}": v for k, v in fields.items()}}
    return client.post(f"/handoffs/{handoff}/{event}", data=data)


def _csrf(client: FlaskClient, handoff: str, event: str) -> str:
    page = client.get(f"/handoffs/{handoff}").get_data(as_text=True)
    found = re.search(rf'name="{event}-csrf_token"[^>]*value="([^"]+)"', page)
    assert found, f"{event} is not offered"
    return found.group(1)


def test_each_answer_sent_twice_is_recorded_once(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "rpa@relais.example")
    pseudonym = _register(client)
    sent = client.post(
        f"/handoffs/new/{pseudonym}",
        data={
            **page_tokens(client, f"/handoffs/new/{pseudonym}"),
            "to_structure": str(partners["RPB"].id),
            "purpose": "stage:training",
            "consent_confirmed": "y",
        },
    )
    handoff = sent.headers["Location"].rsplit("/", 1)[-1]
    logout(client)
    login(client, "rpb@relais.example")
    today = paris_today().isoformat()
    answers = (
        ("accept", {"on": today}),
        ("first_contact", {"on": today}),
        ("complete", {"on": today, "outcome": "training_entered"}),
    )
    for event, fields in answers:
        token = _csrf(client, handoff, event)
        first = _answer(client, handoff, event, token, **fields)
        assert ALREADY not in _shown(client, first), event
        events = _count(db_session, HandoffTransition)
        second = _answer(client, handoff, event, token, **fields)  # the double click
        assert second.headers["Location"].endswith(f"/handoffs/{handoff}"), event
        assert ALREADY in _shown(client, second), event
        assert _count(db_session, HandoffTransition) == events, event
    assert db_session.scalars(select(Handoff)).one().status is HandoffStatus.COMPLETED
    assert _count(db_session, PathwayStep) == 1  # the training the outcome recorded, once


def test_accept_then_decline_is_still_a_conflict(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "rpa@relais.example")
    pseudonym = _register(client)
    sent = client.post(
        f"/handoffs/new/{pseudonym}",
        data={
            **page_tokens(client, f"/handoffs/new/{pseudonym}"),
            "to_structure": str(partners["RPB"].id),
            "purpose": "stage:training",
            "consent_confirmed": "y",
        },
    )
    handoff = sent.headers["Location"].rsplit("/", 1)[-1]
    logout(client)
    login(client, "rpb@relais.example")
    decline_token = _csrf(client, handoff, "decline")  # the page of a second tab
    _shown(
        client,
        _answer(
            client,
            handoff,
            "accept",
            _csrf(client, handoff, "accept"),
            on=paris_today().isoformat(),
        ),
    )
    refused = _answer(client, handoff, "decline", decline_token, reason="no_capacity")
    assert refused.status_code != 302
    text = refused.get_data(as_text=True)
    assert NOT_POSSIBLE in text
    assert ALREADY not in text
    assert db_session.scalars(select(Handoff)).one().status is HandoffStatus.ACCEPTED


def test_the_end_of_a_follow_up_sent_twice_says_it_is_recorded(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "rpa@relais.example")
    pseudonym = _register(client)
    tab = action_tokens(client, pseudonym)
    data = {
        "end-csrf_token": tab["csrf_token"],
        "end-reason": "moved",
        "end-ended_on": paris_today().isoformat(),
    }
    first = client.post(f"/people/{pseudonym}/end", data=data)
    assert first.headers["Location"].endswith("/people/")
    second = client.post(f"/people/{pseudonym}/end", data=data)  # the double click
    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert ALREADY in _shown(client, second)
    assert client.post("/people/P-0000-0000/end", data=data).status_code == 404

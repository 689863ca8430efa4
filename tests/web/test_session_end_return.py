"""A session that ends under someone's hands (idle for 30 minutes, too old, ended from another
device) sends them to the sign-in page saying so, and back afterwards: to the page they asked
for, or - for a form they sent, whose target may answer only to the form - to the page the
form was on. It once brought them back to the button's address itself, a 405 page, with
"Sign in to see this page" and no word that what they sent was not saved."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffStatus
from app.models import Handoff, User, UserSession
from app.services.security.vault import Vault
from tests import factories
from tests.factories import PASSWORD
from tests.web.helpers import csrf_token, login

ENDED_SENDING = (
    "Votre session a pris fin : ce que vous veniez d'envoyer n'a pas été enregistré. "
    "Reconnectez-vous, puis recommencez."
)
ENDED_READING = "Votre session a pris fin. Reconnectez-vous pour continuer."
SIGN_IN = "Connectez-vous pour voir cette page."


def _idle(session: Session, user: User, minutes: int = 31) -> None:
    """The account's sessions last seen ``minutes`` earlier than they were."""
    for row in session.scalars(select(UserSession).where(UserSession.user_id == user.id)):
        session.execute(
            update(UserSession)
            .where(UserSession.id == row.id)
            .values(last_seen_at=row.last_seen_at - timedelta(minutes=minutes))
        )
    session.commit()


def _next_of(location: str) -> str | None:
    found = parse_qs(urlsplit(location).query).get("next")
    return found[0] if found else None


@pytest.fixture
def pending(db_session: Session, vault: Vault) -> tuple[User, Handoff]:
    sender = factories.user(db_session)
    receiver = factories.user(db_session, structure_=factories.structure(db_session))
    person = factories.person(db_session, vault, sender)
    handoff = factories.handoff(db_session, vault, sender, person, receiver.structure)
    db_session.commit()
    return receiver, handoff


def _sign_in_to(client: FlaskClient, email: str, target: str) -> str:
    """Sign in from the page the redirect led to (its ``next``); where the answer sends."""
    answer = client.post(
        "/login",
        data={
            "email": email,
            "password": PASSWORD,
            "next": target,
            "csrf_token": csrf_token(client, f"/login?next={target}"),
        },
    )
    assert answer.status_code == 302
    return answer.location


def test_a_button_pressed_after_the_session_ended_comes_back_to_its_page(
    client: FlaskClient, db_session: Session, pending: tuple[User, Handoff]
) -> None:
    receiver, handoff = pending
    assert login(client, receiver.email).status_code == 302
    page = f"/handoffs/{handoff.id.hex}"
    assert client.get(page).status_code == 200
    token = csrf_token(client, page)
    _idle(db_session, receiver)

    answer = client.post(
        f"{page}/accept",
        data={"accept-csrf_token": token},
        headers={"Referer": f"http://localhost{page}"},
    )
    assert answer.status_code == 302
    assert urlsplit(answer.location).path == "/login"
    assert _next_of(answer.location) == page
    shown = html.unescape(client.get(answer.location).get_data(as_text=True))
    assert ENDED_SENDING in shown
    assert db_session.scalar(select(Handoff.status).where(Handoff.id == handoff.id)) == (
        HandoffStatus.SENT
    )

    back = _sign_in_to(client, receiver.email, page)
    assert back == page
    assert client.get(back).status_code == 200  # the page, not a 405


def test_a_form_from_elsewhere_comes_back_to_the_home_page(
    client: FlaskClient, db_session: Session, pending: tuple[User, Handoff]
) -> None:
    receiver, handoff = pending
    login(client, receiver.email)
    token = csrf_token(client, f"/handoffs/{handoff.id.hex}")
    _idle(db_session, receiver)
    for referrer in ("https://elsewhere.example/handoffs/x", None):
        headers = {"Referer": referrer} if referrer else {}
        answer = client.post(
            f"/handoffs/{handoff.id.hex}/accept",
            data={"accept-csrf_token": token},
            headers=headers,
        )
        assert answer.status_code == 302
        assert answer.location == "/login?next=/"


def test_a_page_asked_for_after_the_session_ended_comes_back_as_it_was(
    client: FlaskClient, db_session: Session, pending: tuple[User, Handoff]
) -> None:
    receiver, _handoff = pending
    login(client, receiver.email)
    _idle(db_session, receiver)
    answer = client.get("/people/?sort=name&page=2")
    assert answer.status_code == 302
    assert _next_of(answer.location) == "/people/?sort=name&page=2"
    assert ENDED_READING in client.get(answer.location).get_data(as_text=True)


def test_a_visitor_is_asked_to_sign_in(client: FlaskClient) -> None:
    answer = client.get("/people/")
    assert answer.status_code == 302
    assert _next_of(answer.location) == "/people/"
    shown = client.get(answer.location).get_data(as_text=True)
    assert SIGN_IN in shown
    assert "Votre session a pris fin" not in shown


# -- the keep-alive of a page where someone types (app/static/keepalive.js) ------------------


def test_typing_keeps_the_session_open(
    client: FlaskClient, db_session: Session, pending: tuple[User, Handoff]
) -> None:
    receiver, _handoff = pending
    login(client, receiver.email)
    page = client.get("/people/new").get_data(as_text=True)
    found = re.search(r'id="keep-alive"[^>]*data-token="([^"]+)"', page)
    assert found is not None
    assert 'data-every="300"' in page  # five minutes, with the idle limit of 30
    _idle(db_session, receiver, minutes=25)
    assert client.post("/account/alive", headers={"X-CSRFToken": found.group(1)}).status_code == 204
    _idle(db_session, receiver, minutes=25)  # 50 minutes since the page, 25 since the typing
    assert client.get("/people/new").status_code == 200

    assert client.post("/account/alive").status_code == 400  # no token: a form's CSRF check
    _idle(db_session, receiver, minutes=31)
    ended = client.post("/account/alive", headers={"X-CSRFToken": found.group(1)})
    assert ended.status_code == 302
    assert urlsplit(ended.location).path == "/login"
    # The page's script says so; nothing flashed for the sign-in page to say again.
    with client.session_transaction() as cookie:
        assert not cookie.get("_flashes")


def test_the_keep_alive_is_for_signed_in_pages_only(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "keep-alive" not in page
    assert "keepalive.js" not in page

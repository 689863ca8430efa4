"""Malformed input is answered, never a 500: control characters refused with a 400 and the
reason before any view, numbers read as ASCII digits within range, ids beyond the database's
integer range a 404, blank choices treated as empty (issue 12, item 7)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.models import Barrier
from app.services.security.vault import Vault
from app.web.request_guard import FORM_REASON, PATH_REASON
from tests import factories
from tests.web.helpers import action_tokens, csrf_token, login


@pytest.fixture
def pseudonym(db_session: Session, vault: Vault) -> str:
    """A person followed by the caseworker mal@relais.example."""
    structure = factories.structure(db_session, "MAL")
    worker = factories.user(db_session, structure_=structure, email="mal@relais.example")
    followed = factories.person(db_session, vault, worker)
    db_session.commit()
    return followed.pseudonym


def _refused_for_control(app: Flask, answer: TestResponse) -> None:
    """A 400 whose page gives the reason, in the page's language."""
    assert answer.status_code == 400
    with app.test_request_context():
        reasons = {escape(str(PATH_REASON)), escape(str(FORM_REASON))}
    assert any(reason in answer.get_data(as_text=True) for reason in reasons)


def test_a_nul_byte_in_the_anonymous_sign_in_is_a_400_with_its_reason(
    app: Flask, client: FlaskClient
) -> None:
    token = csrf_token(client)
    answer = client.post(
        "/login", data={"email": "a\x00b@x.fr", "password": "whatever it is", "csrf_token": token}
    )
    _refused_for_control(app, answer)


def test_a_nul_byte_in_a_query_value_is_a_400(
    app: Flask, client: FlaskClient, pseudonym: str
) -> None:
    login(client, "mal@relais.example")
    answer = client.get("/people/?cohort=%00")
    _refused_for_control(app, answer)


REFUSED = (
    ("/people/P%00X", None),  # in the path
    ("/people/?co%01hort=x", None),  # in a parameter's name
    ("/people/?cohort=a%7Fb", None),  # DEL in a value
    ("/directory/?q=a%00b", None),  # found by the fuzz test: a 500 on PostgreSQL
    ("/login", {"em\x0aail": "x"}),  # LF in a form field's name
    ("/login", {"email": "a\x1bb@x.fr"}),  # ESC in a form value
)


def test_control_characters_are_refused_everywhere_but_tab_and_newlines_in_values(
    app: Flask, client: FlaskClient, pseudonym: str
) -> None:
    login(client, "mal@relais.example")
    token = csrf_token(client, "/account/password")
    for path, data in REFUSED:
        if data is None:
            answer = client.get(path)
        else:
            answer = client.post(path, data={**data, "csrf_token": token})
        _refused_for_control(app, answer)
    assert client.get("/people/?cohort=a%09b").status_code == 200  # TAB in a value: allowed


def test_tab_and_newlines_in_a_form_value_reach_the_form(client: FlaskClient) -> None:
    token = csrf_token(client)
    answer = client.post(
        "/login", data={"email": "a\tb@x.fr", "password": "one\r\ntwo", "csrf_token": token}
    )
    assert answer.status_code == 200  # the form's own answer (not an e-mail address)
    assert "<h1>" in answer.get_data(as_text=True)
    assert 'name="password"' in answer.get_data(as_text=True)


def test_a_page_number_that_is_not_plain_digits_is_the_first_page(
    client: FlaskClient, pseudonym: str
) -> None:
    login(client, "mal@relais.example")
    # "9" * 5000: beyond int()'s 4,300 digits (found by the fuzz test on the hand-off lists).
    for page in ["²", "١", "１", " 2", "9" * 400, "9" * 5000, "-1", ""]:
        answer = client.get("/people/", query_string={"page": page})
        assert answer.status_code == 200, page
        assert pseudonym in answer.get_data(as_text=True)


def test_an_id_beyond_the_database_integer_is_a_404(client: FlaskClient, pseudonym: str) -> None:
    login(client, "mal@relais.example")
    for event_id in ["9" * 400, "2147483648", "99999999999", "0"]:
        assert client.get(f"/network-events/{event_id}").status_code == 404
        assert client.get(f"/network-events/{event_id}/edit").status_code == 404


def test_a_blank_acting_structure_is_no_acting_structure(
    client: FlaskClient, pseudonym: str, db_session: Session
) -> None:
    login(client, "mal@relais.example")
    tokens = action_tokens(client, pseudonym)
    answer = client.post(
        f"/people/{pseudonym}/barriers",
        data={
            "barrier-csrf_token": tokens["csrf_token"],
            "barrier-submission": tokens["barrier-submission"],
            "barrier-category": " mobility ",
            "barrier-identified_on": "2026-11-02",
            "barrier-acting_structure": " ",
        },
    )
    assert answer.status_code == 302
    barrier = db_session.scalars(select(Barrier)).one()
    assert barrier.acting_structure_id is None


def test_a_body_too_large_for_the_form_parser_is_a_413(client: FlaskClient) -> None:
    token = csrf_token(client)
    fields = {"email": "x" * 600_000, "password": "p", "csrf_token": token}
    body = "".join(
        f'--cut\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    answer = client.post(
        "/login",
        data=(body + "--cut--\r\n").encode(),
        content_type="multipart/form-data; boundary=cut",
    )
    assert answer.status_code == 413  # was shown as a 500

"""The JSON API (/api/v1): tokens and scopes, every endpoint, structure A against structure B,
idempotency keys, problem details, the rate limit, and the session cookie refused."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, scoped_session

from app.domain.audit import AuditAction
from app.domain.handoffs import HandoffStatus
from app.domain.pathway import BarrierStatus
from app.domain.roles import Role
from app.models import (
    ApiIdempotencyKey,
    ApiToken,
    AuditEvent,
    Beneficiary,
    Handoff,
    Structure,
    User,
)
from app.services.api import idempotency
from app.services.api.tokens import authenticate_token, revoke_token
from app.services.pathways.recording import add_barrier
from app.services.security.vault import Vault
from app.web.access import MATRIX
from tests import factories
from tests.sql_count import count_queries, pin_flat
from tests.web.api_helpers import auth, get, post, token_for
from tests.web.helpers import csrf_token, login

PROBLEM = "application/problem+json"
NEW_PERSON = {
    "identity": {"last_name": "Durand", "first_name": "Léa", "birth_date": "2003-05-06"},
    "cohorts": ["young_dropout"],
    "consent": {"method": "oral", "given_on": "2026-11-02"},
}


@pytest.fixture
def net(db_session: scoped_session[Session], vault: Vault) -> dict[str, object]:
    session = db_session()
    a, b, c = (factories.structure(session) for _ in range(3))
    worker_a = factories.user(session, structure_=a)
    worker_b = factories.user(session, structure_=b)
    person_a = factories.person(session, vault, worker_a, last_name="Alpha")
    person_b = factories.person(
        session, vault, worker_b, last_name="Bravo", email="b@exemple.fr", phone=None
    )
    handoff_ab = factories.handoff(session, vault, worker_a, person_a, b)
    session.commit()
    # Plain values: each request ends the session the objects were loaded in.
    return {
        "a": a.id, "a_code": a.code, "b": b.id, "b_code": b.code, "c": c.id, "c_code": c.code,
        "worker_a": worker_a.email, "worker_b": worker_b.id,
        "person_a": person_a.pseudonym, "person_b": person_b.pseudonym,
        "person_b_id": str(person_b.id), "person_b_uuid": person_b.id,
        "handoff_ab": str(handoff_ab.id),
        "token_a": token_for(session, a), "token_b": token_for(session, b),
    }  # fmt: skip


def _structure(db_session: scoped_session[Session], structure_id: object) -> Structure:
    found = db_session().get(Structure, structure_id)
    assert found is not None
    return found


def _problem(answer: object, status: int) -> dict[str, object]:
    assert answer.status_code == status, answer.get_data(as_text=True)  # type: ignore[attr-defined]
    assert answer.mimetype == PROBLEM  # type: ignore[attr-defined]
    body = answer.get_json(force=True)  # type: ignore[attr-defined]
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"]
    return body  # type: ignore[no-any-return]


# -- authentication ----------------------------------------------------------------------------


def test_no_token_wrong_token_revoked_or_expired_token_get_401(
    client: FlaskClient, net: dict[str, object], db_session: scoped_session[Session]
) -> None:
    _problem(client.get("/api/v1/people"), 401)
    _problem(get(client, "relais_00000000_" + "x" * 43, "/api/v1/people"), 401)
    _problem(client.get("/api/v1/people", headers={"Authorization": "Basic abc"}), 401)
    assert get(client, net["token_a"], "/api/v1/people").status_code == 200  # type: ignore[arg-type]

    def token_row() -> tuple[Session, ApiToken]:
        session = db_session()  # each request ends the session it used: a fresh one
        row = session.scalar(select(ApiToken).where(ApiToken.structure_id == net["a"]))  # type: ignore[attr-defined]
        assert row is not None
        return session, row

    session, token = token_row()
    token.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    session.commit()
    _problem(get(client, net["token_a"], "/api/v1/people"), 401)  # type: ignore[arg-type]
    session, token = token_row()
    token.expires_at = None
    revoke_token(session, None, token, now=datetime.now(UTC))
    session.commit()
    _problem(get(client, net["token_a"], "/api/v1/people"), 401)  # type: ignore[arg-type]
    assert token_row()[1].user.active is False


def test_a_session_cookie_is_not_accepted(client: FlaskClient, net: dict[str, object]) -> None:
    assert login(client, net["worker_a"]).status_code == 302  # type: ignore[attr-defined]
    assert client.get("/people/").status_code == 200
    _problem(client.get("/api/v1/people"), 401)
    _problem(client.post("/api/v1/people", json=NEW_PERSON, headers={"Idempotency-Key": "k1"}), 401)


def test_the_token_is_stored_hashed_and_its_account_cannot_sign_in(
    client: FlaskClient, net: dict[str, object], db_session: scoped_session[Session]
) -> None:
    value = str(net["token_a"])
    row = db_session().scalar(select(ApiToken).where(ApiToken.prefix == value.split("_")[1]))
    assert row is not None
    assert value not in (row.token_hash, row.prefix)
    assert row.user.api_client
    assert row.user.role is Role.CASEWORKER
    assert row.user.display_name.startswith("API: ")
    answer = login(client, row.user.email, "!api-token")
    assert answer.status_code == 200  # the form again: refused


@pytest.mark.parametrize(
    ("endpoint", "method", "path"),
    [
        ("api.list_people", "GET", "/api/v1/people"),
        ("api.register_person_", "POST", "/api/v1/people"),
        ("api.list_handoffs", "GET", "/api/v1/handoffs"),
        ("api.send_handoff_", "POST", "/api/v1/handoffs"),
        ("api.directory", "GET", "/api/v1/directory"),
    ],
)
def test_each_endpoint_needs_its_scope(
    client: FlaskClient,
    net: dict[str, object],
    db_session: scoped_session[Session],
    endpoint: str,
    method: str,
    path: str,
) -> None:
    needed = MATRIX[endpoint].scope
    assert needed is not None
    others = tuple(
        s
        for s in (
            "people:read",
            "people:write",
            "handoffs:read",
            "handoffs:write",
            "directory:read",
        )
        if s != needed
    )
    token = token_for(db_session(), _structure(db_session, net["a"]), others, name="narrow")  # type: ignore[arg-type]
    answer = client.open(path, method=method, headers=auth(token, "k"), json={})
    _problem(answer, 403)
    token = token_for(db_session(), _structure(db_session, net["a"]), (needed,), name="just")  # type: ignore[arg-type]
    answer = client.open(path, method=method, headers=auth(token, "k"), json={})
    assert answer.status_code != 403


# -- people ------------------------------------------------------------------------------------


def test_the_list_gives_name_and_birth_date_only_as_documented(
    client: FlaskClient, net: dict[str, object]
) -> None:
    """docs/api.md: the list's other identity fields are null whatever the record holds."""
    token = str(net["token_a"])
    identity = {"last_name": "Quintal", "first_name": "Zoé", "birth_date": "1999-04-17"}
    with_phone = {
        **NEW_PERSON,
        "identity": {**identity, "phone": "06 12 34 56 78"},
        "register_anyway": True,
    }
    created = post(client, token, "/api/v1/people", with_phone)
    assert created.status_code == 201, created.get_data(as_text=True)
    pseudonym = created.get_json()["pseudonym"]
    one = get(client, token, f"/api/v1/people/{pseudonym}").get_json()["identity"]
    assert one["phone"] == "+33612345678"
    items = get(client, token, "/api/v1/people", limit=200).get_json()["items"]
    (listed,) = [item["identity"] for item in items if item["pseudonym"] == pseudonym]
    assert (listed["last_name"], listed["birth_date"]) == ("Quintal", "1999-04-17")
    assert listed["phone"] is None


def test_register_read_and_list_people(
    client: FlaskClient, net: dict[str, object], db_session: scoped_session[Session]
) -> None:
    token = str(net["token_a"])
    created = post(client, token, "/api/v1/people", NEW_PERSON)
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["identity"] is None
    assert body["consent"] is True
    assert "Durand" not in created.get_data(as_text=True)
    pseudonym = body["pseudonym"]
    assert created.headers["Location"] == f"/api/v1/people/{pseudonym}"
    one = get(client, token, f"/api/v1/people/{pseudonym}")
    assert one.status_code == 200
    assert one.get_json()["identity"]["last_name"] == "Durand"
    listed = get(client, token, "/api/v1/people", limit=1)
    assert listed.status_code == 200
    page = listed.get_json()
    assert len(page["items"]) == 1
    assert page["next_cursor"]
    second = get(client, token, "/api/v1/people", limit=1, cursor=page["next_cursor"]).get_json()
    assert second["items"][0]["pseudonym"] > page["items"][0]["pseudonym"]
    session = db_session()
    account = session.scalar(select(ApiToken).where(ApiToken.prefix == token.split("_")[1])).user  # type: ignore[union-attr]
    reveals = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == AuditAction.BENEFICIARY_REVEAL.value,
            AuditEvent.actor_id == account.id,
        )
    ).all()
    assert len(reveals) == 3  # the person read, then each person of the two pages
    created_event = session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == AuditAction.BENEFICIARY_CREATE.value,
            AuditEvent.actor_id == account.id,
        )
    )
    assert created_event is not None


def test_registration_checks_and_duplicates(
    client: FlaskClient, net: dict[str, object], db_session: scoped_session[Session]
) -> None:
    token = str(net["token_a"])
    bad = dict(NEW_PERSON, identity={"last_name": "X", "first_name": "Y", "phone": "12"})
    body = _problem(post(client, token, "/api/v1/people", bad), 422)
    assert body["errors"][0]["field"] == "phone"  # type: ignore[index]
    _problem(post(client, token, "/api/v1/people", dict(NEW_PERSON, cohorts=["nope"])), 422)
    _problem(post(client, token, "/api/v1/people", {"identity": {}}), 400)
    _problem(post(client, token, "/api/v1/people", NEW_PERSON, key=None), 400)
    twin = dict(
        NEW_PERSON,
        identity={"last_name": "Alpha", "first_name": "Aurélie", "birth_date": "2004-03-14"},
    )
    lookups = select(func.count()).where(AuditEvent.action == AuditAction.DUPLICATE_CHECK.value)
    before = db_session.scalar(lookups)
    body = _problem(post(client, token, "/api/v1/people", twin, key="twin-1"), 409)
    assert body["duplicates"] == [net["person_a"]]  # type: ignore[attr-defined]
    # The lookup read identities: it stays in the audit log with the refusal, as on the web.
    db_session.expire_all()
    assert db_session.scalar(lookups) == (before or 0) + 1
    # The same key and request get the same answer again (no second lookup).
    again = post(client, token, "/api/v1/people", twin, key="twin-1")
    assert again.status_code == 409
    assert again.headers.get("Idempotent-Replayed") == "true"
    db_session.expire_all()
    assert db_session.scalar(lookups) == (before or 0) + 1
    assert (
        post(client, token, "/api/v1/people", dict(twin, register_anyway=True)).status_code == 201
    )


# -- hand-offs ---------------------------------------------------------------------------------


def test_send_poll_and_answer_a_handoff(
    client: FlaskClient, net: dict[str, object], db_session: scoped_session[Session]
) -> None:
    token_a, token_b = str(net["token_a"]), str(net["token_b"])
    inbox = get(client, token_b, "/api/v1/handoffs", box="inbox").get_json()
    assert [item["id"] for item in inbox["items"]] == [str(net["handoff_ab"])]  # type: ignore[attr-defined]
    cursor = inbox["next_cursor"]
    sent = post(
        client,
        token_a,
        "/api/v1/handoffs",
        {"pseudonym": net["person_a"], "to_structure": net["b_code"],  # type: ignore[attr-defined]
         "purpose_stage": "employment", "consent_confirmed": True, "note": "Rappeler le matin"},
    )  # fmt: skip
    assert sent.status_code == 201, sent.get_data(as_text=True)
    handoff_id = sent.get_json()["id"]
    changed = get(client, token_b, "/api/v1/handoffs", box="inbox", since=cursor).get_json()
    assert handoff_id in [item["id"] for item in changed["items"]]
    accepted = post(client, token_b, f"/api/v1/handoffs/{handoff_id}/accept", {})
    assert accepted.status_code == 200
    assert accepted.get_json()["status"] == "accepted"
    contact = post(client, token_b, f"/api/v1/handoffs/{handoff_id}/first-contact", {})
    assert contact.get_json()["status"] == "in_progress"
    closed = post(
        client, token_b, f"/api/v1/handoffs/{handoff_id}/outcome",
        {"completed": False, "outcome": "person_stopped"},
    )  # fmt: skip
    assert closed.status_code == 200, closed.get_data(as_text=True)
    assert closed.get_json()["status"] == "not_completed"
    outbox = get(client, token_a, "/api/v1/handoffs", box="outbox").get_json()
    assert {i["id"]: i["status"] for i in outbox["items"]}[handoff_id] == "not_completed"
    # The sender cannot answer; an answer not possible now is a 422.
    _problem(post(client, token_a, f"/api/v1/handoffs/{handoff_id}/accept", {}), 422)
    assert post(client, token_b, f"/api/v1/handoffs/{handoff_id}/accept", {}).status_code in (
        409,
        422,
    )


def test_a_person_s_open_barriers_are_read_and_a_hand_off_sent_for_one(
    client: FlaskClient, net: dict[str, object], db_session: scoped_session[Session]
) -> None:
    session = db_session()
    person = session.scalar(select(Beneficiary).where(Beneficiary.pseudonym == net["person_a"]))
    worker = session.scalar(select(User).where(User.email == net["worker_a"]))
    assert person is not None
    assert worker is not None
    day = date(2026, 11, 3)
    mobility = add_barrier(session, worker, person, category_code="mobility", identified_on=day)
    lifted = add_barrier(session, worker, person, category_code="housing", identified_on=day)
    lifted.status, lifted.closed_on = BarrierStatus.LIFTED, day
    session.commit()
    token_a = str(net["token_a"])
    read = get(client, token_a, f"/api/v1/people/{net['person_a']}").get_json()
    assert read["open_barriers"] == [
        {"id": str(mobility.id), "category": "mobility", "status": "identified", "level": None,
         "identified_on": "2026-11-03"}
    ]  # fmt: skip
    sent = post(
        client,
        token_a,
        "/api/v1/handoffs",
        {"pseudonym": net["person_a"], "to_structure": net["c_code"],
         "purpose_barrier": read["open_barriers"][0]["id"], "consent_confirmed": True},
    )  # fmt: skip
    assert sent.status_code == 201, sent.get_data(as_text=True)
    assert sent.get_json()["purpose_barrier"] == str(mobility.id)
    # The list gives none (a person's barriers are read one person at a time).
    listed = get(client, token_a, "/api/v1/people").get_json()["items"]
    assert all(item.get("open_barriers") is None for item in listed)


def test_decline_and_redirect(client: FlaskClient, net: dict[str, object]) -> None:
    token_b = str(net["token_b"])
    handoff_id = str(net["handoff_ab"])  # type: ignore[attr-defined]
    _problem(
        post(client, token_b, f"/api/v1/handoffs/{handoff_id}/decline", {"reason": "nope"}), 422
    )
    redirected = post(
        client,
        token_b,
        f"/api/v1/handoffs/{handoff_id}/redirect",
        {"to_structure": net["c_code"]},  # type: ignore[attr-defined]
    )
    assert redirected.status_code == 200, redirected.get_data(as_text=True)
    assert redirected.get_json()["parent_id"] == handoff_id
    _problem(
        post(client, token_b, f"/api/v1/handoffs/{handoff_id}/decline", {"reason": "full"}), 422
    )


def test_the_changes_cursor_is_checked(client: FlaskClient, net: dict[str, object]) -> None:
    _problem(get(client, str(net["token_b"]), "/api/v1/handoffs", since="abc"), 422)
    _problem(get(client, str(net["token_b"]), "/api/v1/handoffs", box="sideways"), 400)
    _problem(get(client, str(net["token_a"]), "/api/v1/people", cursor="e30"), 422)


# -- structure A sees nothing of structure B's people ------------------------------------------


def test_a_token_of_structure_a_sees_nothing_of_structure_b(
    client: FlaskClient, net: dict[str, object], db_session: scoped_session[Session]
) -> None:
    """Through every endpoint: B's person (followed by B only) never appears, by pseudonym,
    name or id, in any answer to A's token; naming them is a 404, as for no one."""
    token_a = str(net["token_a"])
    pseudonym_b = str(net["person_b"])
    secret_bits = (pseudonym_b, "Bravo", "b@exemple.fr", str(net["person_b_id"]))
    answers = [
        get(client, token_a, "/api/v1/people"),
        get(client, token_a, "/api/v1/people", limit=200),
        get(client, token_a, f"/api/v1/people/{pseudonym_b}"),
        get(client, token_a, "/api/v1/handoffs", box="inbox"),
        get(client, token_a, "/api/v1/handoffs", box="outbox"),
        get(client, token_a, "/api/v1/directory"),
        post(client, token_a, "/api/v1/handoffs", {"pseudonym": pseudonym_b,
             "to_structure": net["c_code"], "purpose_stage": "training", "consent_confirmed": True}),
        post(client, token_a, "/api/v1/people", dict(NEW_PERSON, identity={
            "last_name": "Bravo", "first_name": "Aurélie", "birth_date": "2004-03-14"})),
    ]  # fmt: skip
    # B's own hand-off of its person, to C: A is no party.
    session = db_session()
    handoff_bc = factories.handoff(
        session,
        client.application.extensions["relais_vault"],
        session.get(User, net["worker_b"]),  # type: ignore[arg-type]
        session.get(Beneficiary, net["person_b_uuid"]),  # type: ignore[arg-type]
        _structure(db_session, net["c"]),
    )
    handoff_bc_id = handoff_bc.id
    session.commit()
    for path in ("", "/accept", "/decline", "/redirect", "/first-contact", "/outcome"):
        if path:
            answers.append(post(client, token_a, f"/api/v1/handoffs/{handoff_bc_id}{path}", {}))
        else:
            answers.append(get(client, token_a, f"/api/v1/handoffs/{handoff_bc_id}"))
    assert answers[2].status_code == 404
    assert answers[6].status_code == 404
    for answer in answers:
        text = answer.get_data(as_text=True)
        assert not any(bit in text for bit in secret_bits), (answer.request.path, text)
        assert answer.status_code < 500
    # A's possible-duplicate answer says only that someone matches elsewhere.
    assert answers[7].status_code == 409
    assert answers[7].get_json()["duplicates"] == []
    assert answers[7].get_json()["elsewhere"] is True
    for answer in answers[-6:]:
        assert answer.status_code in (400, 404)


# -- idempotency -------------------------------------------------------------------------------


def test_the_same_key_gives_the_same_answer_once(
    client: FlaskClient, net: dict[str, object], db_session: scoped_session[Session]
) -> None:
    token = str(net["token_a"])
    first = post(client, token, "/api/v1/people", NEW_PERSON, key="order-1")
    again = post(client, token, "/api/v1/people", NEW_PERSON, key="order-1")
    assert first.status_code == again.status_code == 201
    assert first.get_data() == again.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db_session().scalar(select(func.count()).select_from(Beneficiary)) == 3
    other = dict(NEW_PERSON, cohorts=["young_dropout", "rsa"])
    body = _problem(post(client, token, "/api/v1/people", other, key="order-1"), 422)
    assert body["type"].endswith("idempotency-key-reused")  # type: ignore[union-attr]
    # Another token's same key is another key.
    assert post(client, str(net["token_b"]), "/api/v1/people", dict(NEW_PERSON, identity={
        "last_name": "Zed", "first_name": "Ann"}), key="order-1").status_code == 201  # fmt: skip


def test_a_refused_request_leaves_its_key_free(
    client: FlaskClient, net: dict[str, object], db_session: scoped_session[Session]
) -> None:
    token = str(net["token_a"])
    _problem(
        post(client, token, "/api/v1/people", dict(NEW_PERSON, cohorts=["nope"]), key="k-2"), 422
    )
    assert db_session().scalar(select(func.count()).select_from(ApiIdempotencyKey)) == 0
    assert post(client, token, "/api/v1/people", NEW_PERSON, key="k-3").status_code == 201


def test_keys_expire_after_a_day(
    net: dict[str, object], db_session: scoped_session[Session]
) -> None:
    session = db_session()
    token = session.scalar(select(ApiToken).where(ApiToken.structure_id == net["a"]))  # type: ignore[attr-defined]
    assert token is not None
    now = datetime.now(UTC)
    row = idempotency.claim(session, token, "old", "h1", now=now - timedelta(hours=25))
    assert isinstance(row, ApiIdempotencyKey)
    idempotency.fulfil(session, row, 201, b"{}", None)
    assert isinstance(
        idempotency.claim(session, token, "old", "h1", now=now - timedelta(hours=1)),
        idempotency.Stored,
    )
    fresh = idempotency.claim(session, token, "old", "h2", now=now)  # expired: free again
    assert isinstance(fresh, ApiIdempotencyKey)


# -- problems, limits, documents ---------------------------------------------------------------


def test_unknown_routes_and_methods_are_problems(
    client: FlaskClient, net: dict[str, object]
) -> None:
    _problem(client.get("/api/v1/nothing"), 404)
    _problem(client.delete("/api/v1/people", headers=auth(str(net["token_a"]))), 405)
    _problem(get(client, str(net["token_a"]), "/api/v1/handoffs/not-an-id"), 404)
    _problem(
        client.post(
            "/api/v1/people",
            data="{",
            headers={**auth(str(net["token_a"]), "k"), "Content-Type": "application/json"},
        ),
        400,
    )


def test_the_rate_limit_is_per_token(
    app: Flask, client: FlaskClient, net: dict[str, object]
) -> None:
    from app.extensions import limiter

    previous = app.config["API_RATE_LIMIT"]
    app.config["API_RATE_LIMIT"] = "3 per minute"
    limiter.reset()
    try:
        for left in (2, 1, 0):
            answered = get(client, str(net["token_a"]), "/api/v1/directory")
            assert answered.status_code == 200
            # The counters are told; Retry-After only when there is something to retry.
            assert answered.headers["X-RateLimit-Remaining"] == str(left)
            assert "Retry-After" not in answered.headers
        refused = get(client, str(net["token_a"]), "/api/v1/directory")
        _problem(refused, 429)
        assert "Retry-After" in refused.headers
        assert get(client, str(net["token_b"]), "/api/v1/directory").status_code == 200
    finally:
        app.config["API_RATE_LIMIT"] = previous
        limiter.reset()


def test_failed_authentications_are_limited_per_address_never_a_valid_token(
    app: Flask, client: FlaskClient, net: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random tokens each had a counter of their own: guessing was never slowed down. Now the
    requests without a valid token are counted per client address; a valid token still
    passes from that address."""
    from app.extensions import limiter

    monkeypatch.setitem(app.config, "API_AUTH_FAILURE_LIMIT", "3 per minute")
    limiter.reset()
    try:
        for attempt in range(3):
            _problem(get(client, f"relais_0000000{attempt}_guess", "/api/v1/directory"), 401)
        _problem(client.get("/api/v1/directory"), 429)  # no token at all counts too
        refused = get(client, "relais_00000009_guess", "/api/v1/directory")
        body = _problem(refused, 429)
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "valid API token" in str(body["detail"])
        # A valid token is never turned away by the failures of its address, and is not
        # counted among them.
        for _ in range(3):
            assert get(client, str(net["token_a"]), "/api/v1/directory").status_code == 200
        # Another address has its own count.
        other = client.get(
            "/api/v1/directory",
            headers=auth("relais_0000000a_guess"),
            environ_base={"REMOTE_ADDR": "192.0.2.7"},
        )
        _problem(other, 401)
    finally:
        limiter.reset()


def test_an_administrator_neither_closes_nor_reopens_a_token_s_account(
    app: Flask, client: FlaskClient, net: dict[str, object], db_session: scoped_session[Session]
) -> None:
    """The administrators' list offered "Deactivate" on a token's account ("API: name"): the
    token stopped working while its structure's page still showed it in force; and
    "Reactivate" on a revoked token's account made it active again."""
    session = db_session()
    factories.user(session, Role.ADMIN, email="admin.api@relais.example")
    token = session.scalars(select(ApiToken).where(ApiToken.structure_id == net["a"])).one()
    account_id = token.user_id
    session.commit()
    login(client, "admin.api@relais.example")
    page = client.get("/admin/users").get_data(as_text=True)
    assert f"/admin/users/{account_id}/deactivate" not in page
    path = f"/admin/users/{account_id}/deactivate"
    assert client.get(path).headers["Location"] == "/admin/users"  # refused before asking
    client.post(path, data={"confirmed": "y", "csrf_token": csrf_token(client, "/admin/users")})
    assert get(app.test_client(), str(net["token_a"]), "/api/v1/directory").status_code == 200

    session = db_session()  # each request ended the session the objects were loaded in
    token = session.scalars(select(ApiToken).where(ApiToken.structure_id == net["a"])).one()
    revoke_token(session, None, token, now=datetime.now(UTC))
    session.commit()
    again = f"/admin/users/{account_id}/reactivate"
    client.post(again, data={"confirm": "y", "csrf_token": csrf_token(client, "/admin/users")})
    session = db_session()
    account = session.get(User, account_id)
    assert account is not None
    assert not account.active


def test_the_openapi_document_and_its_page(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200
    body = json.loads(document.get_data())
    assert body["openapi"].startswith("3.1.")
    assert "/api/v1/handoffs/{handoff_id}/accept" in body["paths"]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert b'id="registerPerson"' in page.data
    assert b"<script" not in page.data


def test_service_token_lookup_refuses_other_shapes(
    net: dict[str, object], db_session: scoped_session[Session]
) -> None:
    session, now = db_session(), datetime.now(UTC)
    assert authenticate_token(session, str(net["token_a"]), now=now) is not None
    assert authenticate_token(session, str(net["token_a"]) + "x", now=now) is None
    assert authenticate_token(session, "", now=now) is None


def test_answers_hold_no_identity_in_stored_keys(
    client: FlaskClient, net: dict[str, object], db_session: scoped_session[Session]
) -> None:
    post(client, str(net["token_a"]), "/api/v1/people", NEW_PERSON, key="stored")
    row = db_session().scalar(select(ApiIdempotencyKey))
    assert row is not None
    assert row.response is not None
    assert b"Durand" not in row.response
    assert (
        db_session().scalar(select(Handoff).where(Handoff.status == HandoffStatus.SENT)) is not None
    )


def test_the_change_feed_runs_the_same_statements_for_few_and_many_hand_offs(
    client: FlaskClient, net: dict[str, object], db_session: scoped_session[Session], vault: Vault
) -> None:
    """Each hand-off's structures, person and codes are loaded with it (no query per row), and
    only the box's own transitions are read."""
    token_b = str(net["token_b"])
    get(client, token_b, "/api/v1/handoffs", box="inbox")  # the token's first use is recorded
    with count_queries() as few:
        assert get(client, token_b, "/api/v1/handoffs", box="inbox").status_code == 200
    session = db_session()
    sender = factories.user(session)
    for n in range(5):
        person = factories.person(session, vault, sender, last_name=f"Many{n}")
        factories.handoff(session, vault, sender, person, _structure(db_session, net["b"]))
    db_session.commit()
    # A first request after the factories' commit sends their mails' wake-up (PostgreSQL).
    get(client, token_b, "/api/v1/handoffs", box="inbox")
    with count_queries() as many:
        found = get(client, token_b, "/api/v1/handoffs", box="inbox").get_json()
    assert len(found["items"]) == 6
    pin_flat(few, many)


# -- bodies ------------------------------------------------------------------------------------


def test_a_body_that_is_not_json_is_refused_not_read_as_empty(
    client: FlaskClient, net: dict[str, object], db_session: scoped_session[Session]
) -> None:
    """An answer sent as text, or cut short, was read as an empty body and applied: accepted
    today, without its message. Every such body is a 400 and changes nothing."""
    token_b, path = str(net["token_b"]), f"/api/v1/handoffs/{net['handoff_ab']}/accept"
    text = json.dumps({"on": "2026-12-01", "message": "Rappel mardi"})
    for body, kind in (
        (text, "text/plain"),
        ('{"on": "2026-12-0', "application/json"),
        ("[" * 20_000 + "]" * 20_000, "application/json"),  # deeper than the parser goes
        (b"\xff\xfe{}", "application/json"),
    ):
        answer = client.post(path, data=body, content_type=kind, headers=auth(token_b))
        detail = _problem(answer, 400)["detail"]
        assert detail in (
            "Send a JSON body (Content-Type: application/json).",
            "The body is not valid JSON.",
        )
    handoff = db_session().get(Handoff, uuid.UUID(str(net["handoff_ab"])))
    assert handoff is not None
    assert handoff.status is HandoffStatus.SENT
    # A body larger than the largest request is refused before it is read.
    big = json.dumps({"message": "x" * (70 * 1024)})
    _problem(
        client.post(path, data=big, content_type="application/json", headers=auth(token_b)), 413
    )
    # No body at all: an accept needs none.
    empty = client.post(path, headers=auth(token_b, uuid.uuid4().hex))
    assert empty.status_code == 200, empty.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/people", {**NEW_PERSON, "register_anyway": "yes"}),
        (
            "/api/v1/people",
            {**NEW_PERSON, "identity": {**NEW_PERSON["identity"], "birth_date": 1043000000}},
        ),  # type: ignore[dict-item]
        (
            "/api/v1/people",
            {**NEW_PERSON, "consent": {"method": "oral", "given_on": "2026-11-02T10:00:00"}},
        ),
        (
            "/api/v1/handoffs",
            {
                "pseudonym": "P-AAAA-AAAA",
                "to_structure": "X",
                "purpose_stage": "employment",
                "consent_confirmed": "true",
            },
        ),
        ("/api/v1/handoffs/{id}/outcome", {"completed": "no", "outcome": "person_stopped"}),
        ("/api/v1/handoffs/{id}/accept", {"on": 1764547200}),
    ],
)
def test_values_are_taken_as_sent_not_converted(
    client: FlaskClient, net: dict[str, object], path: str, body: dict[str, object]
) -> None:
    """A yes/no is JSON true or false, a day ISO text: "yes", "true", "no", a number of
    seconds or a date and time are 400s naming the field, not values read another way."""
    token = str(net["token_a"] if "{id}" not in path else net["token_b"])
    answer = post(client, token, path.replace("{id}", str(net["handoff_ab"])), body)
    problem = _problem(answer, 400)
    assert problem["errors"], problem

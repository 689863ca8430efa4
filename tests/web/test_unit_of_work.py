"""One unit of work per request: committed when the response is not an error, rolled back
otherwise, a failed use case undone on its own inside ``attempt()``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, SessionTransaction

from app import unit_of_work
from app.extensions import db
from app.models import AuditEvent, Beneficiary, Structure
from app.services.errors import InvalidInput, ServiceError
from app.services.people.identity import open_identity
from app.services.security.vault import Vault
from app.services.structures import create_structure
from tests import factories
from tests.web.helpers import csrf_token, login


def _structure_codes(db_session: Session) -> set[str]:
    db_session.expire_all()
    return set(db_session.scalars(select(Structure.code)))


def _writing_view(status: int, *, fail: bool = False) -> Callable[[], ResponseReturnValue]:
    def view() -> ResponseReturnValue:
        create_structure(
            db.session(), None, code="UOW", name="Unit of work", type_code="association"
        )
        if fail:
            raise RuntimeError("the view broke after writing")
        return "written", status

    return view


@pytest.mark.parametrize(("status", "kept"), [(200, True), (302, True), (400, False), (404, False)])
def test_a_request_commits_unless_its_response_is_an_error(
    app: Flask,
    client: FlaskClient,
    db_session: Session,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    kept: bool,
) -> None:
    monkeypatch.setitem(app.view_functions, "home.health", _writing_view(status))
    assert client.get("/health").status_code == status
    assert ("UOW" in _structure_codes(db_session)) is kept


def test_an_exception_rolls_the_request_back(
    app: Flask, client: FlaskClient, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.view_functions, "home.health", _writing_view(200, fail=True))
    response = client.get("/health")
    assert response.status_code == 500
    assert "UOW" not in _structure_codes(db_session)


def test_a_failed_commit_gives_the_error_page_and_keeps_nothing(
    app: Flask, client: FlaskClient, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(_session: Session) -> None:
        raise OperationalError("COMMIT", {}, Exception("serialization failure"))

    monkeypatch.setitem(app.view_functions, "home.health", _writing_view(200))
    monkeypatch.setattr(unit_of_work, "complete", refused)
    response = client.get("/health")
    assert response.status_code == 500
    assert "Une erreur est survenue" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"  # the security headers are kept
    assert "UOW" not in _structure_codes(db_session)


def test_attempt_undoes_the_failed_use_case_only(
    app: Flask, client: FlaskClient, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def view() -> ResponseReturnValue:
        session = db.session()
        create_structure(session, None, code="KEPT", name="Kept", type_code="association")
        try:
            with unit_of_work.attempt():
                create_structure(
                    session, None, code="UNDONE", name="Undone", type_code="association"
                )
                raise InvalidInput("refused after a write")
        except ServiceError:
            return "shown on the form", 200
        return "not reached", 500

    monkeypatch.setitem(app.view_functions, "home.health", view)
    assert client.get("/health").status_code == 200
    codes = _structure_codes(db_session)
    assert "KEPT" in codes
    assert "UNDONE" not in codes


def test_a_refused_identity_edit_keeps_the_audited_reveal(
    client: FlaskClient, db_session: Session, vault: Vault
) -> None:
    """The page revealed the identity (audited) before the edit was refused: the reveal is
    committed with the page, the refused change is not."""
    home = factories.structure(db_session, "UOWH")
    caseworker = factories.user(db_session, structure_=home, email="uow@relais.example")
    person = factories.person(db_session, vault, caseworker, last_name="Quenouille")
    db_session.commit()
    reveals_before = _reveals(db_session, person)
    login(client, "uow@relais.example")
    path = f"/people/{person.pseudonym}/edit"
    token = csrf_token(client, path)
    response = client.post(
        path,
        data={
            "csrf_token": token,
            "first_name": "Anne",
            "last_name": "Changed",
            "birth_date": "1890-01-01",  # implausible: refused by the service
        },
    )
    assert response.status_code == 200
    assert _reveals(db_session, person) == reveals_before + 2  # the GET, then the refused POST
    db_session.expire_all()
    stored = db_session.get(Beneficiary, person.id)
    assert stored is not None
    assert open_identity(vault, db_session, stored).last_name == "Quenouille"


def _reveals(db_session: Session, person: Beneficiary) -> int:
    db_session.expire_all()
    return len(
        db_session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "beneficiary:reveal", AuditEvent.beneficiary_id == person.id
            )
        ).all()
    )


def test_attempt_after_reads_only_needs_no_savepoint(
    app: Flask, client: FlaskClient, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request that has only read when its use case runs (an answer to a hand-off) opens no
    savepoint: a success costs no SAVEPOINT and RELEASE, a failure rolls everything back and
    the request goes on (what it writes then is committed). After a write, a savepoint again."""
    nested: list[str] = []
    begin_nested = Session.begin_nested

    def counted(session: Session) -> SessionTransaction:
        nested.append(request.path)
        return begin_nested(session)

    monkeypatch.setattr(Session, "begin_nested", counted)

    def view() -> ResponseReturnValue:
        session = db.session()
        session.scalars(select(Structure.code)).all()
        with unit_of_work.attempt():
            create_structure(session, None, code="DONEUOW", name="D", type_code="association")
        with unit_of_work.attempt():  # after a write: in a savepoint
            create_structure(session, None, code="NEXTUOW", name="N", type_code="association")
        return "written", 200

    def failing_view() -> ResponseReturnValue:
        session = db.session()
        session.scalars(select(Structure.code)).all()
        try:
            with unit_of_work.attempt():
                create_structure(session, None, code="UNDONEUOW", name="U", type_code="association")
                raise InvalidInput("refused after a write")
        except ServiceError:
            create_structure(session, None, code="AFTERUOW", name="A", type_code="association")
            return "shown on the form", 200
        return "not reached", 500

    for shown in (view, failing_view):
        monkeypatch.setitem(app.view_functions, "home.health", shown)
        assert client.get("/health").status_code == 200
    assert len(nested) == 1  # the second use case of the first request
    codes = _structure_codes(db_session)
    assert {"DONEUOW", "NEXTUOW", "AFTERUOW"} <= codes
    assert "UNDONEUOW" not in codes

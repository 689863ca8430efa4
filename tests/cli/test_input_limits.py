"""Bad values given on the command line are refused before the write, with the field and the
limit: a capacity too large for the column, a text longer than its column (PostgreSQL would
name no field; SQLite would store it), and values no check foresaw are a message, never a
traceback."""

from __future__ import annotations

import pytest
from click import ClickException
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cli.common import transaction
from app.domain.capacity import MAX_FREE_PLACES
from app.models import ReferenceItem, ReferenceKind, Structure, User
from app.services.errors import InvalidInput
from app.services.structures import create_structure

GOOD = "a perfectly fine passphrase\n"
LONG = "x" * 3000


def _structure(db_session: Session, code: str) -> Structure | None:
    return db_session.scalar(select(Structure).where(Structure.code == code))


# -- capacity --------------------------------------------------------------------------


def test_a_capacity_beyond_the_maximum_is_a_usage_error(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    args = ["ZZCAP", "--name", "Z cap", "--type", "association"]
    result = runner.invoke(
        args=["structures", "create", *args, "--capacity", "99999999999999999999"]
    )
    assert result.exit_code == 2
    assert f"0<=x<={MAX_FREE_PLACES}" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert _structure(db_session, "ZZCAP") is None
    largest = runner.invoke(
        args=["structures", "create", *args, "--capacity", str(MAX_FREE_PLACES)]
    )
    assert largest.exit_code == 0, largest.output


def test_the_service_refuses_a_capacity_the_card_form_would_refuse(
    db_session: Session,
) -> None:
    with pytest.raises(InvalidInput) as raised:
        create_structure(
            db_session,
            None,
            code="ZZBIG",
            name="Big",
            type_code="association",
            capacity=10**20,
        )
    assert raised.value.field == "capacity"
    assert str(MAX_FREE_PLACES) in str(raised.value)


def _create_then_fail(error: Exception) -> None:
    with transaction() as session:
        create_structure(session, None, code="ZZGONE", name="Gone", type_code="association")
        raise error


@pytest.mark.parametrize(
    "error",
    [
        OverflowError("Python int too large to convert to SQLite INTEGER"),
        UnicodeEncodeError("utf-8", "\udcff", 0, 1, "surrogates not allowed"),
    ],
)
def test_a_value_the_driver_cannot_send_is_a_message(
    app: Flask, db_session: Session, error: Exception
) -> None:
    with app.app_context(), pytest.raises(ClickException) as raised:
        _create_then_fail(error)
    assert raised.value.message.startswith("a value cannot be stored (")
    assert raised.value.message.endswith("nothing was changed")
    assert _structure(db_session, "ZZGONE") is None


def test_text_the_driver_cannot_encode_is_refused_without_a_traceback(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    result = runner.invoke(
        args=["structures", "create", "ZZSUR", "--name", "Z \udcff", "--type", "association"]
    )
    assert result.exit_code == 1
    assert "a value cannot be stored (UnicodeEncodeError" in result.output
    assert _structure(db_session, "ZZSUR") is None


# -- text lengths ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "field", "limit"),
    [
        ("--name", "name", 200),
        ("--city", "city", 100),
        ("--contact", "contact", 300),
        ("--missions", "missions", 4000),
    ],
)
def test_structures_create_refuses_text_longer_than_its_column(
    runner: FlaskCliRunner, db_session: Session, option: str, field: str, limit: int
) -> None:
    args = ["structures", "create", "ZZLONG", "--name", "Long", "--type", "association"]
    result = runner.invoke(args=[*args, option, LONG * 2])
    assert result.exit_code == 1
    assert f"This text is too long ({limit} characters at most). ({field})" in result.output
    assert _structure(db_session, "ZZLONG") is None
    fits = runner.invoke(args=[*args, option, "y" * limit])
    assert fits.exit_code == 0, fits.output


def test_users_create_refuses_a_name_longer_than_its_column(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    result = runner.invoke(
        args=["users", "create", "long@relais.example", "--name", "x" * 500]
        + ["--role", "admin", "--stdin"],
        input=GOOD,
    )
    assert result.exit_code == 1
    assert "too long (200 characters at most). (display_name)" in result.output
    assert db_session.scalar(select(User).where(User.email == "long@relais.example")) is None


def _qpv(db_session: Session, code: str) -> ReferenceItem | None:
    return db_session.scalar(
        select(ReferenceItem).where(
            ReferenceItem.kind == ReferenceKind.QPV, ReferenceItem.code == code
        )
    )


@pytest.mark.parametrize(
    ("code", "fr", "en", "said"),
    [
        ("QLONG", LONG, "Label", "too long (200 characters at most). (label_fr)"),
        ("QLONG", "Label", LONG, "too long (200 characters at most). (label_en)"),
        ("Q" * 300, "Label", "Label", "too long (64 characters at most). (code)"),
    ],
)
def test_reference_add_refuses_text_longer_than_its_column(
    runner: FlaskCliRunner, db_session: Session, code: str, fr: str, en: str, said: str
) -> None:
    result = runner.invoke(args=["reference", "add", "qpv", code, "--fr", fr, "--en", en])
    assert result.exit_code == 1
    assert said in result.output
    assert "letters, digits" not in result.output
    assert _qpv(db_session, code) is None

"""``flask demo load`` gives the demo's coordinator and administrator a second factor, and
prints its enrolment URI in development only."""

from __future__ import annotations

import re

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.demo.data.network import ADMIN_EMAIL, COORDINATOR_EMAIL, DEMO_PASSWORD
from app.extensions import db
from app.models import User
from tests.web.helpers import csrf_token, enter_code

URI = re.compile(r"otpauth://totp/\S+")


def test_development_prints_an_otpauth_uri_per_account_that_signs_in(
    app: Flask,
    runner: FlaskCliRunner,
    client: FlaskClient,
    db_session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "RELAIS_ENV", "development")
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    # The label ends with the e-mail address as it is written (its "@" not encoded).
    uris = {uri.split("?")[0].rsplit(":", 1)[-1]: uri for uri in URI.findall(result.output)}
    assert set(uris) == {ADMIN_EMAIL, COORDINATOR_EMAIL}
    totp = pyotp.parse_uri(uris[COORDINATOR_EMAIL])
    assert isinstance(totp, pyotp.TOTP)

    token = csrf_token(client)
    client.post(
        "/login",
        data={"email": COORDINATOR_EMAIL, "password": DEMO_PASSWORD, "csrf_token": token},
    )
    assert enter_code(client, totp.now()).status_code == 302
    assert client.get("/dashboard/").status_code == 200

    # A second run (already loaded) prints them again.
    again = runner.invoke(args=["demo", "load"])
    assert "already loaded" in again.output
    assert sorted(URI.findall(again.output)) == sorted(uris.values())


@pytest.mark.parametrize(("env", "args"), [("testing", []), ("production", ["--allow-production"])])
def test_outside_development_no_seed_is_printed(
    app: Flask,
    runner: FlaskCliRunner,
    db_session: Session,
    monkeypatch: pytest.MonkeyPatch,
    env: str,
    args: list[str],
) -> None:
    monkeypatch.setitem(app.config, "RELAIS_ENV", env)
    result = runner.invoke(args=["demo", "load", *args])
    assert result.exit_code == 0, result.output
    assert "otpauth" not in result.output
    assert "secret=" not in result.output
    assert "users reset-2fa" in result.output
    accounts = db.session().scalars(
        select(User).where(User.email.in_([ADMIN_EMAIL, COORDINATOR_EMAIL]))
    )
    assert all(account.has_second_factor for account in accounts)

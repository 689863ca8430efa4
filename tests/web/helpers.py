"""Driving the web client like a browser: CSRF tokens come from the pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.extensions import db
from app.models import LoginThrottle
from app.services.security import second_factor
from app.services.security.accounts import find_user
from app.services.security.throttling import attempt_keys
from tests.factories import PASSWORD

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# The one script of every signed-in page (app/static/keepalive.js), as the page names it.
KEEP_ALIVE_SCRIPT = '<script src="/static/keepalive.js" defer>'
# The CSRF token the keep-alive posts with, as the page gives it to the script.
KEEP_ALIVE_TOKEN = re.compile(r'data-token="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path)
    found = TOKEN.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


# The one-time tokens of forms that create something (app/web/submissions.py), by field name:
# "submission", or "step-submission" for a prefixed form.
SUBMISSION = re.compile(r'name="((?:\w+-)?submission)"[^>]*value="([^"]+)"')


def page_tokens(client: FlaskClient, path: str) -> dict[str, str]:
    """The page's CSRF token (as ``csrf_token``) and the submission token of each of its forms
    that creates something (``submission``, ``step-submission``...), as a browser sends them."""
    page = client.get(path).get_data(as_text=True)
    found = TOKEN.search(page)
    assert found, f"no CSRF token on {path}"
    return {"csrf_token": found.group(1), **dict(SUBMISSION.findall(page))}


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> TestResponse:
    """Sign in as a person does: the password, then the code when the account has a second
    factor (computed from its seed, never one the account already used)."""
    token = csrf_token(client)
    answer = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    if answer.status_code == 302 and urlsplit(answer.location).path == "/login/code":
        answer = enter_code(client, fresh_code(client.application, email))
    return answer


def enter_code(client: FlaskClient, code: str) -> TestResponse:
    token = csrf_token(client, "/login/code")
    return client.post("/login/code", data={"code": code, "csrf_token": token})


def fresh_code(app: Flask, email: str) -> str:
    """A code of the account's second factor it has not used yet.

    Codes are single use and accepted one step either side: the current step's code, else
    (spent by an earlier sign-in of the test) the next step's, else a recovery code of a new
    set (committed, as an administrator's ``users recovery-codes`` does).
    """
    session = db.session()
    user = find_user(session, email)
    assert user is not None, "no such account"
    enrolment = second_factor.enrolment(app.extensions["relais_vault"].keys, user)
    assert enrolment is not None, "the account has no second factor"
    now = datetime.now(UTC)
    step = second_factor.time_step(now)
    last = user.second_factor_step if user.second_factor_step is not None else -1
    if last < step:
        return second_factor.code_at(enrolment.seed, step)
    if last == step:
        return second_factor.code_at(enrolment.seed, step + 1)
    codes = second_factor.issue_recovery_codes(session, None, user, now=now)
    session.commit()
    return codes[0]


def reauthenticate(
    client: FlaskClient, email: str, next_page: str = "", password: str = PASSWORD
) -> TestResponse:
    """Prove again who one is (``/account/confirm``), with a fresh code when enrolled; the
    answer redirects to ``next_page``."""
    token = csrf_token(client, "/account/confirm")
    data = {"password": password, "csrf_token": token, "next": next_page}
    session = db.session()
    user = find_user(session, email)
    if user is not None and user.has_second_factor:
        data["code"] = fresh_code(client.application, email)
    return client.post("/account/confirm", data=data)


def duplicate_ids(html: str) -> list[str]:
    """The ids given to more than one element of a page (a label or a link to such an id
    reaches the first element only)."""
    ids = re.findall(r'\sid="([^"]+)"', html)
    return sorted({i for i in ids if ids.count(i) > 1})


def region_names(html: str) -> list[str]:
    """The names of a page's regions (a named ``section``, a ``role="region"``), as assistive
    technologies list them."""
    names = []
    for tag in re.findall(r'<(?:section\b[^>]*|[^>]*role="region"[^>]*)>', html):
        label = re.search(r'aria-label="([^"]*)"', tag)
        ids = re.search(r'aria-labelledby="([^"]*)"', tag)
        if label:
            names.append(label.group(1))
        elif ids:
            texts = []
            for one in ids.group(1).split():
                found = re.search(rf'<(\w+)[^>]*\sid="{one}"[^>]*>(.*?)</\1>', html, re.S)
                texts.append(re.sub(r"<[^>]+>", "", found.group(2)).strip() if found else one)
            names.append(" ".join(texts))
    return names


def logout(client: FlaskClient) -> TestResponse:
    token = csrf_token(client, "/account/confirm")
    return client.post("/logout", data={"csrf_token": token})


def login_failures(app: Flask, email: str) -> int:
    """The failed sign-ins counted for this login (wrong passwords and codes, from any
    address), as committed."""
    key = attempt_keys(app.config["SECRET_KEY"], email, "127.0.0.1").account
    found = db.session.scalar(select(LoginThrottle.failures).where(LoginThrottle.key == key))
    return int(found or 0)


# The forms a person's page opens, each on its own page (``/people/<pseudonym>/steps``...).
PERSON_ACTIONS = ("steps", "barriers", "decisions", "consent")


def action_tokens(client: FlaskClient, pseudonym: str) -> dict[str, str]:
    """``page_tokens`` of every form the person's page opens, as a browser gets them by
    opening each (``step-submission``, ``barrier-submission``...)."""
    tokens: dict[str, str] = {}
    for action in PERSON_ACTIONS:
        tokens.update(page_tokens(client, f"/people/{pseudonym}/{action}"))
    return tokens

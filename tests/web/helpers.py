"""Driving the web client like a browser: CSRF tokens come from the pages."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.factories import PASSWORD

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


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
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def logout(client: FlaskClient) -> TestResponse:
    token = csrf_token(client, "/account/password")
    return client.post("/logout", data={"csrf_token": token})

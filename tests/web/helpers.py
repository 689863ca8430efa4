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


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> TestResponse:
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def logout(client: FlaskClient) -> TestResponse:
    token = csrf_token(client, "/account/password")
    return client.post("/logout", data={"csrf_token": token})

"""Helpers of the API tests: tokens for a structure, and requests with a token."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.domain.api import Scope
from app.models import Structure
from app.services.api.tokens import create_token

EVERY_SCOPE = tuple(scope.value for scope in Scope)


def token_for(
    session: Session, structure: Structure, scopes: tuple[str, ...] = EVERY_SCOPE, name: str = "CRM"
) -> str:
    _row, value = create_token(
        session, None, structure, name=name, scopes=scopes, now=datetime.now(UTC)
    )
    session.commit()
    return value


def auth(token: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


def get(client: FlaskClient, token: str, path: str, **query: Any) -> TestResponse:
    return client.get(path, headers=auth(token), query_string=query)


def post(
    client: FlaskClient, token: str, path: str, body: Any, key: str | None = "new"
) -> TestResponse:
    key = uuid.uuid4().hex if key == "new" else key
    return client.post(path, json=body, headers=auth(token, key))

"""The caseworker who imports, in a structure with one QPV."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.models import ReferenceKind, User
from app.services.structures import add_reference_item
from tests import factories


@pytest.fixture
def worker(db_session: Session) -> User:
    add_reference_item(db_session, None, ReferenceKind.QPV, "QN09001M", "Les Glacis", "Les Glacis")
    return factories.user(db_session, structure_=factories.structure(db_session, "IMP"))

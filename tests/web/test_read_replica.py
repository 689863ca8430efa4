"""The read replica (``RELAIS_READ_DATABASE_URL``): the statistics pages and exports read
through it, in read-only transactions, and nothing is written through it (the export's audit
event goes through the main engine). Pointed at the test database itself, as a replica would
hold the same data; it sees what was committed (the reference lists of the migrations)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.extensions import db, make_engine
from app.models import AuditEvent
from tests.web.test_dashboard import PERIOD, coordinator  # noqa: F401 - a fixture

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def replica(app: Flask, db_url: str) -> Iterator[list[str]]:
    """A second engine on the same database, read-only, as the read engine; the statements
    it runs."""
    engine = make_engine(db_url, read_only=True)
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.lstrip().split(None, 1)[0].upper() + " " + statement)

    event.listen(engine, "before_cursor_execute", record)
    db.use_read_engine(engine)
    try:
        yield seen
    finally:
        db.use_read_engine(None)
        engine.dispose()


def test_the_dashboard_and_its_exports_read_through_the_replica(
    client: FlaskClient,
    coordinator: None,  # noqa: F811
    replica: list[str],
    db_session: Session,
) -> None:
    assert client.get(f"/dashboard/?{PERIOD}&view=publication").status_code == 200
    read = len(replica)
    assert any("pathway_steps" in s for s in replica)
    assert any("handoffs" in s for s in replica)
    response = client.get(f"/dashboard/export/handoffs-by-quarter.csv?{PERIOD}")
    assert response.status_code == 200
    assert len(replica) > read
    assert client.get("/steering/unmet-needs?view=publication").status_code == 200
    assert any("unmet_needs" in s for s in replica)
    assert not [s for s in replica if s.startswith(WRITES)]
    # The export's audit event was written, through the main engine (in the test's
    # transaction, which the replica cannot see).
    exported = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.STATISTICS_EXPORT.value)
    ).all()
    assert len(exported) == 1


def test_nothing_can_be_written_through_the_replica(app: Flask, replica: list[str]) -> None:
    with app.app_context():
        reading = db.reading()
        assert reading is not db.session()
        with pytest.raises(DBAPIError):
            reading.execute(text("UPDATE reference_items SET position = position WHERE 1 = 0"))
        reading.rollback()


def test_without_a_replica_the_statistics_read_the_main_session(app: Flask) -> None:
    assert db.read_engine is None
    with app.app_context():
        assert db.reading() is db.session()


SETTING_SCRIPT = """
import os, sys
from app import create_app
from app.crypto import KeyRing
from app.extensions import db
from config import TestingConfig
url = sys.argv[1]
create_app(TestingConfig, overrides={"DATABASE_URL": url, "READ_DATABASE_URL": url},
           keyring=KeyRing.generate())
print(db.read_engine is not None and db.read_engine is not db.engine,
      db.read_engine.url == db.engine.url)
"""


def test_the_setting_makes_a_read_only_engine(db_url: str) -> None:
    # In a fresh interpreter: an application made here would take over the suite's ``db``.
    done = subprocess.run(
        [sys.executable, "-c", SETTING_SCRIPT, db_url],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True", "True"]


def test_health_names_the_replica_when_one_is_configured(
    client: FlaskClient, replica: list[str]
) -> None:
    answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.json == {
        "status": "ok",
        "checks": {"database": "ok", "rate_limits": "ok", "read_database": "ok"},
    }
    assert "SELECT SELECT 1" in replica  # asked of the replica itself


def test_a_replica_that_is_down_degrades_the_health_without_failing_it(
    app: Flask,
    client: FlaskClient,
    coordinator: None,  # noqa: F811
) -> None:
    # A server that refuses every connection, as the read replica.
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1")
    db.use_read_engine(engine)
    try:
        answer = client.get("/health")
        # The statistics read through it: the "momentarily unavailable" page, not a 500.
        dashboard = client.get(f"/dashboard/?{PERIOD}")
        assert dashboard.status_code == 503
        assert "Service momentanément indisponible" in dashboard.get_data(as_text=True)
        # What does not read through it still works.
        assert client.get("/pathways/").status_code == 200
    finally:
        db.use_read_engine(None)
        engine.dispose()
    # The instance still serves (a load balancer keeps it), and monitoring sees the replica.
    assert answer.status_code == 200
    assert answer.json == {
        "status": "degraded",
        "checks": {"database": "ok", "rate_limits": "ok", "read_database": "down"},
    }

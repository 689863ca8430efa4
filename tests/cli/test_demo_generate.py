"""``flask demo generate``: adds people to the demo network in batches, says what it did, and
refuses what it must refuse."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.demo.data.network import PEOPLE
from app.demo.synthetic.writing import BatchWriter
from app.domain.handoffs import HandoffStatus
from app.extensions import db
from app.models import AuditEvent, Beneficiary, Handoff, User
from app.services.pathways import stale_people
from app.services.security.vault import Vault
from app.services.structures import list_structures
from tests import factories


def _count(model: Any) -> int:
    return db.session().scalar(select(func.count()).select_from(model)) or 0


def _pseudonyms() -> set[str]:
    return set(db.session().scalars(select(Beneficiary.pseudonym)))


def test_help(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["demo", "generate", "--help"])
    assert result.exit_code == 0
    assert "--people" in result.output
    assert "--batch-size" in result.output


def test_on_a_fresh_database_loads_the_network_then_generates(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    result = runner.invoke(args=["demo", "generate", "--people", "120", "--batch-size", "50"])

    assert result.exit_code == 0, result.output
    assert "loading it first" in result.stdout
    assert "Generated 120 fictional people" in result.stdout
    assert "beneficiaries" in result.stdout
    assert "handoff_transitions" in result.stdout
    assert "Hand-offs by status:" in result.stdout
    # The progress bar is on standard error, never mixed with the summary.
    assert "Generating" in result.stderr
    assert "Generating" not in result.stdout
    assert _count(Beneficiary) == len(PEOPLE) + 120
    creates = db.session().scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "beneficiary:create", AuditEvent.purpose == "import")
    )
    assert creates == 120
    assert _count(Handoff) > 120
    assert stale_people(db.session()) == []


def test_a_second_run_adds_new_people(runner: FlaskCliRunner, db_session: Session) -> None:
    first = runner.invoke(args=["demo", "generate", "--people", "40", "--seed", "11"])
    assert first.exit_code == 0, first.output
    before = _pseudonyms()

    second = runner.invoke(args=["demo", "generate", "--people", "40", "--seed", "11"])

    assert second.exit_code == 0, second.output
    assert "loading it first" not in second.stdout
    assert "people 101 to 140 of the database" in second.stdout
    after = _pseudonyms()
    assert len(after) == len(before) + 40
    assert before < after


@pytest.mark.parametrize("people", ["0", "-3", "2000001", "many"])
def test_a_bad_number_of_people_is_refused(
    runner: FlaskCliRunner, db_session: Session, people: str
) -> None:
    result = runner.invoke(args=["demo", "generate", "--people", people])
    assert result.exit_code == 2
    assert "--people" in result.output
    assert _count(User) == 0
    assert _count(Beneficiary) == 0


def test_the_number_of_people_is_required(runner: FlaskCliRunner, db_session: Session) -> None:
    result = runner.invoke(args=["demo", "generate"])
    assert result.exit_code == 2
    assert "--people" in result.output


def test_a_bad_batch_size_is_refused(runner: FlaskCliRunner, db_session: Session) -> None:
    result = runner.invoke(args=["demo", "generate", "--people", "10", "--batch-size", "0"])
    assert result.exit_code == 2
    assert "--batch-size" in result.output


def test_production_is_refused(
    runner: FlaskCliRunner, db_session: Session, monkeypatch: pytest.MonkeyPatch, app: Flask
) -> None:
    monkeypatch.setitem(app.config, "RELAIS_ENV", "production")
    result = runner.invoke(args=["demo", "generate", "--people", "5"])
    assert result.exit_code != 0
    assert "production" in result.output
    assert _count(User) == 0

    allowed = runner.invoke(args=["demo", "generate", "--people", "5", "--allow-production"])
    assert allowed.exit_code == 0, allowed.output
    assert _count(Beneficiary) == len(PEOPLE) + 5


def test_a_database_with_real_people_is_refused(
    runner: FlaskCliRunner, db_session: Session, vault: Vault
) -> None:
    caseworker = factories.user(db_session)
    factories.person(db_session, vault, caseworker)
    db_session.commit()

    result = runner.invoke(args=["demo", "generate", "--people", "10"])

    assert result.exit_code == 1
    assert "already holds people" in result.output
    assert "nothing was written" in result.output
    assert _count(Beneficiary) == 1


def test_a_failing_batch_is_rolled_back_and_reported(
    runner: FlaskCliRunner, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    insert = BatchWriter.insert
    calls = []

    def fail_on_the_third_batch(writer: Any) -> None:
        calls.append(writer)
        insert(writer)  # the batch's rows are written...
        if len(calls) == 3:
            raise RuntimeError("disk full")  # ...then something fails before the commit

    monkeypatch.setattr(BatchWriter, "insert", fail_on_the_third_batch)
    result = runner.invoke(args=["demo", "generate", "--people", "100", "--batch-size", "30"])

    assert result.exit_code == 1
    assert "RuntimeError" in result.output
    assert "60 people were written" in result.output
    assert "rolled back" in result.output
    assert _count(Beneficiary) == len(PEOPLE) + 60
    # Nothing of the third batch is left: every hand-off belongs to a stored person.
    orphans = db.session().scalar(
        select(func.count())
        .select_from(Handoff)
        .where(Handoff.beneficiary_id.not_in(select(Beneficiary.id)))
    )
    assert orphans == 0


def test_every_state_appears_among_a_thousand_people(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    result = runner.invoke(args=["demo", "generate", "--people", "1000", "--seed", "5"])
    assert result.exit_code == 0, result.output
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("Hand-offs by status: ")]
    counts = dict(item.split(" ") for item in line.removesuffix(".").split(": ")[1].split(", "))
    assert set(counts) == {status.value for status in HandoffStatus}
    assert all(int(n) > 0 for n in counts.values())
    generated = select(AuditEvent.beneficiary_id).where(
        AuditEvent.action == "beneficiary:create", AuditEvent.purpose == "import"
    )
    handoffs = db.session().scalar(
        select(func.count()).select_from(Handoff).where(Handoff.beneficiary_id.in_(generated))
    )
    assert sum(int(n) for n in counts.values()) == handoffs


def test_an_incomplete_demo_network_is_refused(runner: FlaskCliRunner, db_session: Session) -> None:
    loaded = runner.invoke(args=["demo", "load"])
    assert loaded.exit_code == 0, loaded.output
    before = _count(Beneficiary)
    closed = list_structures(db_session)[0]
    closed.active = False
    code = closed.code
    db_session.commit()

    result = runner.invoke(args=["demo", "generate", "--people", "5"])

    assert result.exit_code == 1
    assert "nothing generated: The demo network is not complete" in result.output
    assert code in result.output
    assert "Traceback" not in result.output
    assert _count(Beneficiary) == before

"""``flask pathways check-state [--repair]``: the kept pathway state against the events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskCliRunner
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Beneficiary
from app.models.beneficiary import NO_EVENT
from app.services.handoffs import send_handoff
from app.services.security.vault import Vault
from tests import factories


def test_help(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["pathways", "check-state", "--help"])
    assert result.exit_code == 0
    assert "--repair" in result.output


def test_a_state_changed_behind_relais_is_found_then_repaired(
    runner: FlaskCliRunner, db_session: Session, vault: Vault
) -> None:
    a, b = factories.structure(db_session), factories.structure(db_session)
    sender = factories.user(db_session, structure_=a)
    person = factories.person(db_session, vault, sender)
    sent = datetime.now(UTC) - timedelta(days=3)
    send_handoff(
        db_session, vault, sender, person, to_structure=b, now=sent,
        purpose_stage_code="training", consent_confirmed=True,
    )  # fmt: skip
    db_session.commit()
    pid = person.id
    kept = db_session.scalars(select(Beneficiary.last_event_on).where(Beneficiary.id == pid))
    day = kept.one()
    assert day != NO_EVENT

    clean = runner.invoke(args=["pathways", "check-state"])
    assert (clean.exit_code, clean.output) == (0, "every pathway state matches its events\n")

    # A restore of the people's table from before the hand-off, say.
    db_session.execute(
        update(Beneficiary).where(Beneficiary.id == pid).values(last_event_on=NO_EVENT)
    )
    db_session.commit()
    found = runner.invoke(args=["pathways", "check-state"])
    assert found.exit_code == 1
    assert f"1 people's pathway state differs from their events: {pid}" in found.output
    assert "--repair" in found.output

    repaired = runner.invoke(args=["pathways", "check-state", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert f"repaired the pathway state of 1 people: {pid}" in repaired.output
    db_session.expire_all()
    assert db_session.get(Beneficiary, pid).last_event_on == day  # type: ignore[union-attr]
    again = runner.invoke(args=["pathways", "check-state"])
    assert again.exit_code == 0

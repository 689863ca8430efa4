"""``flask audit checkpoint`` copies the chain head outside the database; ``audit verify``
catches a cut tail with the head moved back (what the table owner can do with the triggers
disabled), which the chain alone cannot see."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.models import AuditEvent
from app.services.security import audit
from app.services.security.audit_checkpoint import MARKER
from tests import factories
from tests.audit_log import POSTGRESQL_TRIGGERS, SQLITE_TRIGGERS


def _log(session: Session, count: int) -> list[int]:
    """``count`` committed events; their seq."""
    worker = factories.user(session)
    events = [
        audit.record(session, worker, AuditAction.PATHWAY_VIEW, worker, purpose="caseload")
        for _ in range(count)
    ]
    session.commit()
    return [e.seq for e in events]


def _cut_tail_and_move_head_back(session: Session, keep_until: int) -> None:
    """What the owner of the tables can do: triggers off, the tail deleted, the head put back
    on the last row kept (a valid shorter chain)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        for name, table in POSTGRESQL_TRIGGERS.items():
            connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {name}")
    else:
        for name in SQLITE_TRIGGERS:
            connection.exec_driver_sql(f"DROP TRIGGER {name}")
    connection.execute(text("DELETE FROM audit_events WHERE seq > :s"), {"s": keep_until})
    mac = connection.execute(
        text("SELECT mac FROM audit_events WHERE seq = :s"), {"s": keep_until}
    ).scalar_one()
    connection.execute(
        text("UPDATE audit_chain_head SET seq = :s, mac = :m WHERE id = 1"),
        {"s": keep_until, "m": mac},
    )
    session.commit()


@pytest.fixture
def checkpoint_file(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "audit-checkpoints.log"
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT", str(path))
    return path


def test_checkpoint_appends_the_head(
    runner: FlaskCliRunner, db_session: Session, checkpoint_file: Path
) -> None:
    seqs = _log(db_session, 3)
    first = runner.invoke(args=["audit", "checkpoint"])
    assert first.exit_code == 0, first.output
    assert f"Checkpoint written: seq {seqs[-1]}" in first.stdout
    more = _log(db_session, 2)
    second = runner.invoke(args=["audit", "checkpoint"])
    assert second.exit_code == 0, second.output
    lines = checkpoint_file.read_text().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{MARKER} v1 seq={seqs[-1]} mac=")
    assert lines[1].startswith(f"{MARKER} v1 seq={more[-1]} mac=")
    assert stat.S_IMODE(os.stat(checkpoint_file).st_mode) == 0o600


def test_verify_passes_an_intact_chain_holding_the_checkpoint(
    runner: FlaskCliRunner, db_session: Session, checkpoint_file: Path
) -> None:
    seqs = _log(db_session, 3)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    _log(db_session, 2)  # the log goes on after the checkpoint
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"The chain holds the last checkpoint (seq {seqs[-1]}," in result.stdout
    assert "The audit chain is intact." in result.stdout


def test_verify_reports_a_cut_tail_with_the_head_moved_back(
    runner: FlaskCliRunner, db_session: Session, checkpoint_file: Path
) -> None:
    seqs = _log(db_session, 6)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    _cut_tail_and_move_head_back(db_session, seqs[1])
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert f"TRUNCATED at seq {seqs[2]}: the chain head is at seq {seqs[1]}" in result.stderr
    assert f"recorded seq {seqs[-1]}" in result.stderr
    assert "intact" not in result.stdout
    # and no new checkpoint blesses the cut log
    refused = runner.invoke(args=["audit", "checkpoint"])
    assert refused.exit_code == 1
    assert "No checkpoint written" in refused.stderr
    assert len(checkpoint_file.read_text().splitlines()) == 1


def test_verify_reports_a_cut_tail_written_again(
    runner: FlaskCliRunner, db_session: Session, checkpoint_file: Path
) -> None:
    """Cut, head moved back, then new rows past the checkpoint's place: the MAC differs."""
    seqs = _log(db_session, 4)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    _cut_tail_and_move_head_back(db_session, seqs[0])
    _log(db_session, 5)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert f"TRUNCATED at seq {seqs[-1]}: the row at seq {seqs[-1]} is not the one" in (
        result.stderr
    )


def test_verify_without_a_checkpoint_file_says_so(
    runner: FlaskCliRunner, db_session: Session, checkpoint_file: Path
) -> None:
    _log(db_session, 1)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"the checkpoint file {checkpoint_file} does not exist" in result.stderr
    assert "audit checkpoint" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("hello\n", "holds no audit checkpoint"),
        (f"{MARKER} v1 seq=12 mac=zz at=now\n", "is malformed"),
        (
            f"{MARKER} v1 seq=1 mac={'ab' * 32} at=2026-01-01T00:00:00.000000Z tag={'cd' * 32}\n",
            "does not carry this instance's audit tag",
        ),
    ],
)
def test_verify_refuses_a_bad_checkpoint_file(
    runner: FlaskCliRunner,
    db_session: Session,
    checkpoint_file: Path,
    content: str,
    message: str,
) -> None:
    _log(db_session, 1)
    checkpoint_file.write_text(content)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert message in result.stderr
    refused = runner.invoke(args=["audit", "checkpoint"])
    assert refused.exit_code == 1
    assert message in refused.stderr


def test_verify_reads_a_copy_given_on_the_command_line(
    app: Flask, runner: FlaskCliRunner, db_session: Session, tmp_path: Path, checkpoint_file: Path
) -> None:
    """The syslog form: the log server's lines carry a prefix; verify reads a copy of them."""
    seqs = _log(db_session, 3)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    copy = tmp_path / "syslog-copy.log"
    line = checkpoint_file.read_text().strip()
    copy.write_text(f"Dec  1 03:00:01 host relais[123]: {line}\n")
    _cut_tail_and_move_head_back(db_session, seqs[0])
    app.config["AUDIT_CHECKPOINT"] = "syslog:"
    plain = runner.invoke(args=["audit", "verify"])
    assert plain.exit_code == 1
    assert "pass --checkpoint FILE" in plain.stderr
    result = runner.invoke(args=["audit", "verify", "--checkpoint", str(copy)])
    assert result.exit_code == 1, result.output
    assert f"TRUNCATED at seq {seqs[1]}" in result.stderr


def test_checkpoint_needs_a_target(
    app: Flask, runner: FlaskCliRunner, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT", None)
    result = runner.invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 1
    assert "RELAIS_AUDIT_CHECKPOINT is not set" in result.stderr
    verify = runner.invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output
    assert "No audit checkpoint to compare with" in verify.stdout


# -- a restore from a backup ---------------------------------------------------------------


def test_a_restore_is_recorded_and_the_log_goes_on(
    runner: FlaskCliRunner, db_session: Session, checkpoint_file: Path
) -> None:
    seqs = _log(db_session, 6)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    # A backup taken at seqs[1], restored after the checkpoint: the same state as a cut tail.
    _cut_tail_and_move_head_back(db_session, seqs[1])
    refused = runner.invoke(args=["audit", "verify"])
    assert refused.exit_code == 1
    assert "flask --app app audit restored" in refused.stderr

    result = runner.invoke(args=["audit", "restored"])
    assert result.exit_code == 0, result.output
    assert f"Restore recorded at seq {seqs[1] + 1}" in result.stdout
    assert f"the restored log ended at seq {seqs[1]}" in result.stdout
    assert f"the last checkpoint before the restore was at seq {seqs[-1]}" in result.stdout
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.AUDIT_RESTORED.value)
    ).one()
    assert event.seq == seqs[1] + 1
    assert event.data["head_seq"] == seqs[1]
    assert event.data["checkpoint_seq"] == seqs[-1]
    lines = checkpoint_file.read_text().splitlines()
    assert len(lines) == 2  # the one before the restore stays
    assert lines[1].startswith(f"{MARKER} v1 seq={seqs[1] + 1} mac=")

    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "The audit chain is intact." in verified.stdout
    _log(db_session, 2)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0


def test_restored_refuses_when_nothing_was_lost(
    runner: FlaskCliRunner, db_session: Session, checkpoint_file: Path
) -> None:
    _log(db_session, 3)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    result = runner.invoke(args=["audit", "restored"])
    assert result.exit_code == 1
    assert "no restore to record" in result.output
    assert not db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.AUDIT_RESTORED.value)
    ).first()
    assert len(checkpoint_file.read_text().splitlines()) == 1


def test_restored_refuses_a_restored_log_that_is_not_intact(
    runner: FlaskCliRunner, db_session: Session, checkpoint_file: Path
) -> None:
    seqs = _log(db_session, 5)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    _cut_tail_and_move_head_back(db_session, seqs[2])  # the triggers stay off
    db_session.execute(
        text("UPDATE audit_events SET purpose = 'edited' WHERE seq = :s"), {"s": seqs[1]}
    )
    db_session.commit()
    result = runner.invoke(args=["audit", "restored"])
    assert result.exit_code == 1
    assert f"BROKEN at seq {seqs[1]}" in result.stderr
    assert "Nothing recorded" in result.stderr
    assert len(checkpoint_file.read_text().splitlines()) == 1


def test_restored_needs_a_checkpoint_target(runner: FlaskCliRunner, db_session: Session) -> None:
    result = runner.invoke(args=["audit", "restored"])
    assert result.exit_code == 1
    assert "RELAIS_AUDIT_CHECKPOINT is not set" in result.output

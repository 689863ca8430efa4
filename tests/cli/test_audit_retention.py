"""``flask audit seal | verify --month | verify --since-seal | partitions | prune``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services.security import audit, audit_checkpoint
from app.services.security.audit_seal import month_of
from tests.audit_log import drop_audit_guards


def _log(session: Session) -> list[int]:
    """Two committed rows in each of January and February 2025; their places."""
    rows = [
        {
            "at": datetime(2025, month, day, tzinfo=UTC),
            "action": "user:login",
            "subject_type": "users",
            "subject_id": str(day),
        }
        for month in (1, 2)
        for day in (3, 4)
    ]
    audit.append_many(session, rows)
    session.commit()
    return list(range(1, len(rows) + 1))


def _mac_at(session: Session, seq: int) -> bytes:
    mac = session.execute(text("SELECT mac FROM audit_events WHERE seq = :s"), {"s": seq})
    return bytes(mac.scalar_one())


def test_seal_then_verify_a_month_and_since_the_last_seal(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    _log(db_session)
    sealed = runner.invoke(args=["audit", "seal"])
    assert sealed.exit_code == 0, sealed.output
    assert "Sealed 2025-01: seq 1 to 2 (2 rows)." in sealed.stdout
    assert "Sealed 2025-02: seq 3 to 4 (2 rows)." in sealed.stdout
    assert "Sealed 2025-03: seq 5 to 4 (0 rows)." in sealed.stdout
    again = runner.invoke(args=["audit", "seal"])
    assert again.exit_code == 0, again.output
    assert "No finished month to seal." in again.stdout

    month = runner.invoke(args=["audit", "verify", "--month", "2025-02"])
    assert month.exit_code == 0, month.output
    assert "Month 2025-02: seq 3 to 4." in month.stdout
    assert "Rows checked: 2" in month.stdout
    assert "The month 2025-02 is intact and matches its seal." in month.stdout

    since = runner.invoke(args=["audit", "verify", "--since-seal"])
    assert since.exit_code == 0, since.output
    assert "(after the last seal)" in since.stdout
    assert "The audit chain is intact." in since.stdout

    drop_audit_guards(db_session)
    db_session.execute(text("UPDATE audit_events SET subject_id = 'x' WHERE seq = 3"))
    db_session.commit()
    broken = runner.invoke(args=["audit", "verify", "--month", "2025-02"])
    assert broken.exit_code == 1
    assert "BROKEN at seq 3" in broken.stderr
    assert runner.invoke(args=["audit", "verify", "--month", "2025-01"]).exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["verify", "--month", "2025-13"], "is not a month"),
        (["verify", "--month", "2025-01", "--since-seal"], "pick one"),
        (["prune", "--before", "soon"], "is not a month"),
    ],
)
def test_bad_periods_are_usage_errors(
    runner: FlaskCliRunner, db_session: Session, args: list[str], message: str
) -> None:
    result = runner.invoke(args=["audit", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_periods_without_a_seal_say_so(runner: FlaskCliRunner, db_session: Session) -> None:
    _log(db_session)
    # A young instance (or one whose cron checks since the last seal before the first month
    # is sealed): the whole chain is what follows a seal that does not exist yet.
    since = runner.invoke(args=["audit", "verify", "--since-seal"])
    assert since.exit_code == 0, since.output
    assert "No month of the audit log is sealed yet: the whole chain was checked." in since.stdout
    assert "Rows checked: 4" in since.stdout
    assert "The audit chain is intact." in since.stdout
    month = runner.invoke(args=["audit", "verify", "--month", "2025-01"])
    assert month.exit_code == 1
    assert "The month 2025-01 is not sealed: run flask --app app audit seal." in month.output
    before = runner.invoke(args=["audit", "verify", "--month", "2024-12"])
    assert before.exit_code == 1
    assert "The audit log holds nothing for 2024-12: its first row is later." in before.output
    this_month = month_of(datetime.now(UTC))
    current = runner.invoke(args=["audit", "verify", "--month", this_month])
    assert current.exit_code == 1
    assert f"The month {this_month} is not over yet" in current.output


def test_since_seal_without_a_seal_still_finds_a_broken_row(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    _log(db_session)
    drop_audit_guards(db_session)
    db_session.execute(text("UPDATE audit_events SET subject_id = 'x' WHERE seq = 2"))
    db_session.commit()
    since = runner.invoke(args=["audit", "verify", "--since-seal"])
    assert since.exit_code == 1
    assert "BROKEN at seq 2" in since.stderr


def test_prune_keeps_the_seals_and_refuses_unsealed_months(
    runner: FlaskCliRunner, db_session: Session, tmp_path: Path
) -> None:
    _log(db_session)
    checkpoints = tmp_path / "checkpoints.log"
    head = audit_checkpoint.current_head(db_session)
    audit_checkpoint.write_checkpoint(
        str(checkpoints), audit_checkpoint.Checkpoint(1, _mac_at(db_session, 1), head.at)
    )
    unsealed = runner.invoke(args=["audit", "prune", "--before", "2025-02"])
    assert unsealed.exit_code == 1
    assert "2025-01 is not sealed: only sealed months are pruned" in unsealed.output
    assert runner.invoke(args=["audit", "seal"]).exit_code == 0
    pruned = runner.invoke(args=["audit", "prune", "--before", "2025-02"])
    assert pruned.exit_code == 0, pruned.output
    assert "Pruned 2 audit rows before 2025-02 (seq 1 to 2); their seals are kept." in (
        pruned.stdout
    )
    verify = runner.invoke(args=["audit", "verify", "--checkpoint", str(checkpoints)])
    assert verify.exit_code == 0, verify.output
    assert "Checked from seq 3 (after the pruned months)." in verify.stdout
    # The checkpoint's row was pruned with its month: not a truncation.
    assert "The chain holds the last checkpoint (seq 1" in verify.stdout
    # By default, RELAIS_AUDIT_RETENTION_MONTHS (12) whole months before this one are kept:
    # everything of early 2025 goes.
    default = runner.invoke(args=["audit", "prune"])
    assert default.exit_code == 0, default.output
    assert "Pruned 2 audit rows" in default.stdout
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    nothing = runner.invoke(args=["audit", "prune", "--before", "2025-02"])
    assert nothing.exit_code == 0
    assert "Nothing to prune before 2025-02" in nothing.stdout


def test_partitions(runner: FlaskCliRunner, db_session: Session) -> None:
    _log(db_session)
    result = runner.invoke(args=["audit", "partitions", "--ahead", "1"])
    if db_session.connection().dialect.name == "sqlite":
        assert result.exit_code == 1
        assert "SQLite has no partitions" in result.output
        return
    assert result.exit_code == 0, result.output
    # January and February 2025 were in the default partition; this month and the next exist.
    assert "Created the partition of 2025-01." in result.stdout
    assert "Created the partition of 2025-02." in result.stdout
    again = runner.invoke(args=["audit", "partitions", "--ahead", "1"])
    assert "Every partition exists already." in again.stdout
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_a_young_instance_has_nothing_to_prune(runner: FlaskCliRunner, db_session: Session) -> None:
    """The months before the audit log's first row are never sealed: prune (from cron) finds
    nothing to remove there, instead of asking for a seal that seal will never write."""
    audit.append_many(
        db_session,
        [{"action": "user:login", "subject_type": "users", "subject_id": "1"}],
    )
    db_session.commit()
    sealed = runner.invoke(args=["audit", "seal"])
    assert sealed.exit_code == 0, sealed.output
    assert "No finished month to seal." in sealed.stdout
    assert "the months before it hold nothing to seal or prune" in sealed.stdout
    pruned = runner.invoke(args=["audit", "prune"])
    assert pruned.exit_code == 0, pruned.output
    assert "Nothing to prune before" in pruned.stdout
    assert "the audit log begins later" in pruned.stdout
    count = db_session.execute(text("SELECT count(*) FROM audit_events")).scalar_one()
    assert count == 1


def test_months_before_the_first_seal_are_nothing_to_prune(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    _log(db_session)
    assert runner.invoke(args=["audit", "seal"]).exit_code == 0
    before = runner.invoke(args=["audit", "prune", "--before", "2024-06"])
    assert before.exit_code == 0, before.output
    assert "Nothing to prune before 2024-06" in before.stdout
    at_start = runner.invoke(args=["audit", "prune", "--before", "2025-01"])
    assert at_start.exit_code == 0, at_start.output
    assert "Nothing to prune before 2025-01" in at_start.stdout
    assert db_session.execute(text("SELECT min(seq) FROM audit_events")).scalar_one() == 1
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0

"""``flask gdpr erase``, ``flask gdpr reapply-erasures`` and ``flask retention run``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import click
import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.rights import ErasureCause
from app.models import Beneficiary, ErasureRecord, FollowUp, PersonKey
from app.services.people.identity import open_identity
from app.services.rights.erasure import RegisterEntry, RegisterFile, erase_person
from app.services.security.vault import Vault
from tests import factories


@pytest.fixture
def register(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RegisterFile:
    path = tmp_path / "register.txt"
    monkeypatch.setitem(app.config, "ERASURE_REGISTER_PATH", str(path))
    return RegisterFile(path)


@pytest.mark.parametrize(
    "args",
    [
        ["gdpr"],
        ["gdpr", "erase"],
        ["gdpr", "reapply-erasures"],
        ["retention"],
        ["retention", "run"],
    ],
)
def test_every_command_has_help(runner: FlaskCliRunner, args: list[str]) -> None:
    result = runner.invoke(args=[*args, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def _person(db_session: Session, vault: Vault) -> Beneficiary:
    worker = factories.user(db_session)
    person = factories.person(db_session, vault, worker)
    db_session.commit()
    return person


def test_erase_with_yes(
    runner: FlaskCliRunner, db_session: Session, vault: Vault, register: RegisterFile
) -> None:
    person = _person(db_session, vault)
    pid, pseudonym = person.id, person.pseudonym
    result = runner.invoke(args=["gdpr", "erase", pseudonym.lower(), "--yes"])
    assert result.exit_code == 0, result.output
    assert f"{pseudonym} erased" in result.output
    assert str(register.path) in result.output
    erased = db_session.get(Beneficiary, pid)
    assert erased is not None
    assert erased.erased_at is not None
    assert erased.pseudonym not in result.output  # the new pseudonym is not linked to the old
    assert db_session.get(PersonKey, pid) is None
    assert [e.beneficiary_id for e in register.read()] == [pid]
    again = runner.invoke(args=["gdpr", "erase", pseudonym, "--yes"])
    assert again.exit_code != 0
    assert "no person has the pseudonym" in again.output


def test_erase_asks_first(
    runner: FlaskCliRunner, db_session: Session, vault: Vault, register: RegisterFile
) -> None:
    person = _person(db_session, vault)
    result = runner.invoke(args=["gdpr", "erase", person.pseudonym], input="n\n")
    assert result.exit_code == 1
    assert "Erase" in result.output
    assert "Aborted" in result.output
    assert db_session.get(PersonKey, person.id) is not None
    assert register.read() == []
    confirmed = runner.invoke(args=["gdpr", "erase", person.pseudonym], input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert db_session.get(PersonKey, person.id) is None


def test_erase_unknown_pseudonym(runner: FlaskCliRunner, register: RegisterFile) -> None:
    result = runner.invoke(args=["gdpr", "erase", "P-NOPE-NOPE", "--yes"])
    assert result.exit_code == 1
    assert "no person has the pseudonym P-NOPE-NOPE" in result.output


def test_erase_refused_when_the_register_cannot_be_written(
    app: Flask,
    runner: FlaskCliRunner,
    db_session: Session,
    vault: Vault,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "ERASURE_REGISTER_PATH", str(tmp_path / "no" / "file.txt"))
    person = _person(db_session, vault)
    pid = person.id
    result = runner.invoke(args=["gdpr", "erase", person.pseudonym, "--yes"])
    assert result.exit_code == 1
    assert "nothing erased: cannot write the erasure register file" in result.output
    db_session.expire_all()
    assert db_session.get(PersonKey, pid) is not None


def test_reapply_erases_whoever_the_file_names(
    runner: FlaskCliRunner, db_session: Session, vault: Vault, register: RegisterFile
) -> None:
    # The database was restored from a backup that predates this person's erasure: only the
    # register file still names them.
    person = _person(db_session, vault)
    pid = person.id
    register.append(RegisterEntry(pid, datetime(2026, 11, 20, tzinfo=UTC), ErasureCause.REQUEST))
    assert open_identity(vault, db_session, person).last_name == "Zephyrin"
    result = runner.invoke(args=["gdpr", "reapply-erasures"])
    assert result.exit_code == 0, result.output
    assert "register: 1 erased people" in result.output
    assert "erased again: 1" in result.output
    assert "lines put back in the table: 1, in the file: 0" in result.output
    db_session.expire_all()
    assert db_session.get(PersonKey, pid) is None
    assert db_session.get(ErasureRecord, pid) is not None
    again = runner.invoke(args=["gdpr", "reapply-erasures"])
    assert "erased again: 0; already erased: 1" in again.output


def test_reapply_reports_a_damaged_file(runner: FlaskCliRunner, register: RegisterFile) -> None:
    register.path.write_text("garbage\n", encoding="utf-8")
    result = runner.invoke(args=["gdpr", "reapply-erasures"])
    assert result.exit_code == 1
    assert "nothing done: line 1 is not an erasure entry" in result.output


def test_retention_run(
    runner: FlaskCliRunner, db_session: Session, vault: Vault, register: RegisterFile
) -> None:
    worker = factories.user(db_session)
    old = factories.person(db_session, vault, worker)
    factories.person(db_session, vault, worker, email="recent@exemple.fr")
    follow_up = db_session.scalars(select(FollowUp).where(FollowUp.beneficiary_id == old.id)).one()
    follow_up.started_on = date(2023, 1, 2)  # and nothing since
    old_id, follow_up_id = old.id, follow_up.id
    db_session.commit()

    dry = runner.invoke(args=["retention", "run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output.startswith("would end 1 follow-up(s) without activity for 24 months")
    assert "give 1 erasure notice(s)" in dry.output
    assert "erase 0 person(s)" in dry.output
    db_session.expire_all()
    assert db_session.get(FollowUp, follow_up_id).ended_on is None  # type: ignore[union-attr]

    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ended 1 follow-up(s)")
    assert "gave 1 erasure notice(s)" in result.output
    db_session.expire_all()
    noticed = db_session.get(Beneficiary, old_id)
    assert noticed is not None
    assert noticed.erasure_due_on is not None
    assert "ended 0 follow-up(s)" in runner.invoke(args=["retention", "run"]).output


def test_retention_refuses_bad_settings(
    app: Flask, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch, register: RegisterFile
) -> None:
    monkeypatch.setitem(app.config, "RETENTION_MONTHS", 0)
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 1
    assert "RETENTION_MONTHS must be a whole number of months" in result.output


def test_erase_of_someone_erased_while_confirming(
    runner: FlaskCliRunner,
    db_session: Session,
    vault: Vault,
    register: RegisterFile,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    person = _person(db_session, vault)
    pseudonym = person.pseudonym

    def erased_meanwhile(*args: object, **kwargs: object) -> bool:
        erase_person(
            db_session,
            vault,
            None,
            person,
            cause=ErasureCause.REQUEST,
            register=register,
            today=date(2026, 11, 20),
            now=datetime(2026, 11, 20, tzinfo=UTC),
        )
        db_session.commit()
        return True

    monkeypatch.setattr(click, "confirm", erased_meanwhile)
    result = runner.invoke(args=["gdpr", "erase", pseudonym])
    assert result.exit_code == 1
    assert f"no person has the pseudonym {pseudonym}" in result.output
    assert "Traceback" not in result.output
    assert len(register.read()) == 1


def test_retention_erases_nothing_when_the_register_cannot_be_written(
    app: Flask,
    runner: FlaskCliRunner,
    db_session: Session,
    vault: Vault,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "ERASURE_REGISTER_PATH", str(tmp_path / "no" / "file.txt"))
    monkeypatch.setitem(app.config, "ERASURE_NOTICE_DAYS", 0)  # erased the day found due
    person = _person(db_session, vault)
    follow_up = db_session.scalars(
        select(FollowUp).where(FollowUp.beneficiary_id == person.id)
    ).one()
    follow_up.started_on = date(2023, 1, 2)
    pid, follow_up_id = person.id, follow_up.id
    db_session.commit()

    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 1
    assert "nothing done: cannot write the erasure register file" in result.output
    assert "Traceback" not in result.output
    db_session.expire_all()
    assert db_session.get(PersonKey, pid) is not None
    assert db_session.get(FollowUp, follow_up_id).ended_on is None  # type: ignore[union-attr]

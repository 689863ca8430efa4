"""``flask statistics publish`` and ``gather``, and ``flask keys publication-key``: files
written whole, refusals with their reason and a non-zero exit, nothing small in the output."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.crypto.keyring import encode_key
from app.crypto.signing import SigningKey
from app.domain.audit import AuditAction
from app.models import AuditEvent
from tests.services.statistics.test_national import add_people
from tests.world import World

K = 11
# A year none of whose quarters has begun (the command reads the clock in UTC).
NEXT_YEAR = datetime.now(UTC).year + 1


@pytest.fixture
def territory(app: Flask, monkeypatch: pytest.MonkeyPatch) -> SigningKey:
    key = SigningKey.generate()
    monkeypatch.setenv("RELAIS_PUBLICATION_KEY", key.text)
    monkeypatch.setitem(app.config, "TERRITORY", "75")
    monkeypatch.setitem(app.config, "TRUSTED_PUBLICATION_KEYS", f"75:{key.verify_key.text}")
    return key


def _publish(runner: FlaskCliRunner, path: Path, *args: str) -> str:
    result = runner.invoke(args=["statistics", "publish", "--start", "2026-01-01",
                                 "--end", "2026-12-31", "-o", str(path), *args])  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.output


def test_publish_then_gather_writes_national_tables(
    runner: FlaskCliRunner,
    world: World,
    territory: SigningKey,
    tmp_path: Path,
    db_session: Session,
) -> None:
    add_people(world, 14, declined=3, small_category="housing")
    db_session.commit()
    output = _publish(runner, tmp_path / "75.json")
    assert "Published 13 tables of 75 for 2026-01-01 to 2026-12-31" in output
    assert territory.verify_key.key_id in output
    envelope = json.loads((tmp_path / "75.json").read_text(encoding="utf-8"))
    assert envelope["publication"]["territory"] == "75"

    result = runner.invoke(
        args=["statistics", "gather", str(tmp_path / "75.json"), "--csv", str(tmp_path / "out"),
              "-o", str(tmp_path / "national.json")]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Gathered 1 territories (75) for 2026-01-01 to 2026-12-31: 13 national tables" in (
        result.output
    )
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "relais-national-handoffs-by-quarter.csv" in written
    assert len(written) == 13
    for path in (tmp_path / "out").iterdir():
        text = path.read_text(encoding="utf-8-sig")
        for line in list(csv.reader(text.splitlines(), delimiter=";"))[1:-1]:
            for cell in line[1:]:
                assert cell == "" or int(cell) == 0 or int(cell) >= K, (path.name, line)
    gathered = json.loads((tmp_path / "national.json").read_text(encoding="utf-8"))
    assert gathered["publication"]["gathered_from"][0]["territory"] == "75"
    actions = db_session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.action.in_(
                [AuditAction.STATISTICS_PUBLISH.value, AuditAction.STATISTICS_GATHER.value]
            )
        )
    ).all()
    assert sorted(actions) == ["statistics:gather", "statistics:publish"]


def test_a_changed_file_is_refused_and_nothing_is_written(
    runner: FlaskCliRunner, world: World, territory: SigningKey, tmp_path: Path
) -> None:
    add_people(world, 14, declined=3, small_category="housing")
    world.session.commit()
    _publish(runner, tmp_path / "75.json")
    envelope = json.loads((tmp_path / "75.json").read_text(encoding="utf-8"))
    envelope["publication"]["tables"][0]["values"][0][0] = 999
    (tmp_path / "75.json").write_text(json.dumps(envelope), encoding="utf-8")
    result = runner.invoke(
        args=["statistics", "gather", str(tmp_path / "75.json"), "--csv", str(tmp_path / "out")]
    )
    assert result.exit_code == 1
    assert "75.json: the signature does not verify" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["publish", "-o", "{tmp}/x.json", "--quarter", "2026-Q5"], "Give a quarter"),
        (["publish", "-o", "{tmp}/x.json", "--start", "2026-01-01"], "both --start and --end"),
        (["publish", "-o", "{tmp}/x.json", "--start", "2026-06-01", "--end", "2026-01-01"],
         "start of the period"),
        (["publish", "-o", "{tmp}/nowhere/x.json"], "no such folder"),
        (["gather", "{tmp}/x.json"], "--output FILE, --csv FOLDER"),
    ],
)  # fmt: skip
def test_bad_arguments_are_refused(
    runner: FlaskCliRunner, territory: SigningKey, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "x.json").write_text("{}", encoding="utf-8")
    result = runner.invoke(args=["statistics", *(a.format(tmp=tmp_path) for a in args)])
    assert result.exit_code != 0
    assert message in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--quarter", f"{NEXT_YEAR}-Q1"], "has not begun (today is"),
        (["--start", f"{NEXT_YEAR}-01-01", "--end", f"{NEXT_YEAR}-03-31"], "has not begun"),
        (["--quarter", "1900-Q1"], "1900-Q1 is out of range: give a quarter of 2000 to 2100"),
        (["--quarter", "2101-Q1"], "2101-Q1 is out of range"),
        (["--start", "1900-01-01", "--end", "1900-03-31"],
         "1900-01-01 is out of range: a period starts in 2000 or later"),
        (["--quarter", "2026-Q9"], "Give a quarter as 2026-Q3 (a year, -Q, then 1 to 4)"),
    ],
)  # fmt: skip
def test_a_period_that_has_not_begun_or_is_out_of_range_is_refused(
    runner: FlaskCliRunner,
    territory: SigningKey,
    tmp_path: Path,
    db_session: Session,
    args: list[str],
    message: str,
) -> None:
    """A publication of a quarter to come would count nothing yet, and be gathered as if it
    were the territory's figures: refused, as is a year Relais holds no data of; no file."""
    result = runner.invoke(args=["statistics", "publish", "-o", str(tmp_path / "x.json"), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.json").exists()
    published = select(AuditEvent).where(AuditEvent.action == AuditAction.STATISTICS_PUBLISH.value)
    assert db_session.scalars(published).first() is None


def test_keys_are_required_and_checked(
    app: Flask, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(app.config, "TERRITORY", "75")
    monkeypatch.delenv("RELAIS_PUBLICATION_KEY", raising=False)
    monkeypatch.delenv("RELAIS_PUBLICATION_KEY_FILE", raising=False)
    result = runner.invoke(args=["statistics", "publish", "-o", str(tmp_path / "x.json")])
    assert result.exit_code == 1
    assert "RELAIS_PUBLICATION_KEY is missing" in result.output
    audit_key = app.extensions["relais_vault"].keys.audit_key
    monkeypatch.setenv("RELAIS_PUBLICATION_KEY", encode_key(audit_key))
    result = runner.invoke(args=["statistics", "publish", "-o", str(tmp_path / "x.json")])
    assert "reuses another key" in result.output
    monkeypatch.setitem(app.config, "TRUSTED_PUBLICATION_KEYS", "75:not-a-key")
    (tmp_path / "x.json").write_text("{}", encoding="utf-8")
    result = runner.invoke(args=["statistics", "gather", str(tmp_path / "x.json"), "--csv", "o"])
    assert result.exit_code == 1
    assert "RELAIS_TRUSTED_PUBLICATION_KEYS[75]" in result.output
    monkeypatch.setitem(app.config, "TERRITORY", None)
    result = runner.invoke(args=["statistics", "publish", "-o", str(tmp_path / "x.json")])
    assert "RELAIS_TERRITORY is not set" in result.output


def test_publication_key_shows_the_public_key_to_trust(
    runner: FlaskCliRunner, territory: SigningKey
) -> None:
    result = runner.invoke(args=["keys", "publication-key"])
    assert result.exit_code == 0, result.output
    assert f"75:{territory.verify_key.text}" in result.output
    assert territory.text not in result.output  # the private key is never shown again
    result = runner.invoke(args=["keys", "publication-key", "--new"])
    assert result.exit_code == 0
    private = result.output.splitlines()[0].removeprefix("RELAIS_PUBLICATION_KEY=")
    public = SigningKey.from_text("new", private).verify_key.text
    assert f"75:{public}" in result.output

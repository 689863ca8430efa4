"""``flask beneficiaries import``: success, attribution, and every failure exits non-zero."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.models import AuditEvent, Beneficiary, FollowUp, User
from app.services import imports
from app.services.imports import writing
from app.services.security.accounts import deactivate_user
from app.services.security.vault import Vault
from tests import factories
from tests.spreadsheets import ERROR, ods_file, xlsx_file

HEADER = "nom;prenom;date_naissance;telephone;email;public;consentement"
LINES = (
    "Zephyrin;Aurélie;14/03/2004;06 12 34 56 78;aurelie.z@exemple.fr;young_dropout;oral",
    "Martin;Hélène;2001-07-04;;;Familles monoparentales;signé 12/09/2025",
)


@pytest.fixture
def workers(db_session: Session) -> tuple[User, User]:
    structure = factories.structure(db_session, "IMPC")
    first = factories.user(db_session, structure_=structure, email="first@relais.example")
    second = factories.user(db_session, structure_=structure, email="second@relais.example")
    factories.structure(db_session, "EMPTY")
    db_session.commit()
    return first, second


def csv_path(tmp_path: Path, *lines: str, encoding: str = "cp1252") -> Path:
    path = tmp_path / "suivis.csv"
    path.write_bytes("\r\n".join(lines).encode(encoding))
    return path


def people_count(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(Beneficiary)) or 0


def referents(db_session: Session) -> set[int | None]:
    return set(db_session.scalars(select(FollowUp.referent_id)))


@pytest.mark.parametrize("args", [["beneficiaries"], ["beneficiaries", "import"]])
def test_help(runner: FlaskCliRunner, args: list[str]) -> None:
    result = runner.invoke(args=[*args, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output
    if args[-1] == "import":
        for words in (
            "--structure",
            "--as",
            "--allow-duplicates",
            "--check-only",
            "date_naissance",
        ):
            assert words in result.output


def test_import_attributed_to_the_first_caseworker(
    runner: FlaskCliRunner, workers: tuple[User, User], tmp_path: Path, db_session: Session
) -> None:
    path = csv_path(tmp_path, HEADER, *LINES)
    result = runner.invoke(args=["beneficiaries", "import", str(path), "--structure", "impc"])
    assert result.exit_code == 0, result.output
    assert "Imported 2 people into IMPC as first@relais.example" in result.stdout
    assert "Traceback" not in result.output
    assert people_count(db_session) == 2
    assert referents(db_session) == {workers[0].id}


def test_import_as_another_caseworker(
    runner: FlaskCliRunner, workers: tuple[User, User], tmp_path: Path, db_session: Session
) -> None:
    path = csv_path(tmp_path, HEADER, *LINES)
    result = runner.invoke(
        args=[
            "beneficiaries",
            "import",
            str(path),
            "--structure",
            "IMPC",
            "--as",
            "Second@relais.example",
        ]
    )
    assert result.exit_code == 0, result.output
    assert referents(db_session) == {workers[1].id}
    actors = set(
        db_session.scalars(
            select(AuditEvent.actor_id).where(AuditEvent.action == "beneficiary:create")
        )
    )
    assert actors == {workers[1].id}


def test_a_deactivated_first_caseworker_is_skipped(
    runner: FlaskCliRunner, workers: tuple[User, User], tmp_path: Path, db_session: Session
) -> None:
    deactivate_user(db_session, None, db_session.get(User, workers[0].id))  # type: ignore[arg-type]
    db_session.commit()
    path = csv_path(tmp_path, HEADER, *LINES)
    result = runner.invoke(args=["beneficiaries", "import", str(path), "--structure", "IMPC"])
    assert result.exit_code == 0, result.output
    assert referents(db_session) == {workers[1].id}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--structure", "NOPE"], "No structure has the code NOPE"),
        (["--structure", "EMPTY"], "has no active caseworker"),
        (["--structure", "IMPC", "--as", "nobody@relais.example"], "is not an active caseworker"),
        (["--structure", "EMPTY", "--as", "first@relais.example"], "is not an active caseworker"),
    ],
)
def test_who_the_import_is_attributed_to_must_be_clear(
    runner: FlaskCliRunner,
    workers: tuple[User, User],
    tmp_path: Path,
    db_session: Session,
    options: list[str],
    message: str,
) -> None:
    path = csv_path(tmp_path, HEADER, *LINES)
    result = runner.invoke(args=["beneficiaries", "import", str(path), *options])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert people_count(db_session) == 0


def test_errors_are_listed_and_nothing_is_imported(
    runner: FlaskCliRunner, workers: tuple[User, User], tmp_path: Path, db_session: Session
) -> None:
    path = csv_path(tmp_path, "Nom;Prénom;Public", "Roy;Léo;other", "Petit;;astronauts")
    result = runner.invoke(args=["beneficiaries", "import", str(path), "--structure", "IMPC"])
    assert result.exit_code == 1
    assert "error: line 3, column Prénom: Enter the first name." in result.stderr
    assert "error: line 3, column Public: Unknown cohort astronauts" in result.stderr
    assert "nothing imported: 2 problem(s) in 1 line(s)" in result.stderr
    assert people_count(db_session) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"nom;surname;public\r\nRoy;Leo;other\r\n", "Unknown columns: surname."),
    ],
)
def test_unreadable_files_exit_non_zero(
    runner: FlaskCliRunner,
    workers: tuple[User, User],
    tmp_path: Path,
    content: bytes,
    message: str,
) -> None:
    path = tmp_path / "file.csv"
    path.write_bytes(content)
    result = runner.invoke(args=["beneficiaries", "import", str(path), "--structure", "IMPC"])
    assert result.exit_code == 1
    assert message in result.stderr
    assert "nothing imported" in result.stderr


def test_missing_or_too_large_file(
    runner: FlaskCliRunner,
    workers: tuple[User, User],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = runner.invoke(
        args=["beneficiaries", "import", str(tmp_path / "none.csv"), "--structure", "IMPC"]
    )
    assert result.exit_code == 2  # click's usage error
    monkeypatch.setattr(imports, "MAX_FILE_BYTES", 10)
    path = csv_path(tmp_path, HEADER, *LINES)
    result = runner.invoke(args=["beneficiaries", "import", str(path), "--structure", "IMPC"])
    assert result.exit_code == 1
    assert "larger than" in result.stderr


def test_duplicates_hold_the_import_back_unless_allowed(
    runner: FlaskCliRunner,
    workers: tuple[User, User],
    tmp_path: Path,
    db_session: Session,
    vault: Vault,
) -> None:
    factories.person(db_session, vault, workers[0])  # Aurélie Zephyrin
    db_session.commit()
    path = csv_path(tmp_path, HEADER, LINES[1], LINES[0])
    args = ["beneficiaries", "import", str(path), "--structure", "IMPC"]
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert "warning: line 3: Possible duplicate of P-" in result.stderr
    assert "possible duplicates on lines 3" in result.stderr
    assert people_count(db_session) == 1
    checks = db_session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == "beneficiary:duplicate_check", AuditEvent.subject_type == "import"
        )
    )
    assert checks == 1  # the lookup was recorded

    result = runner.invoke(args=[*args, "--allow-duplicates"])
    assert result.exit_code == 0, result.output
    assert people_count(db_session) == 3


def test_check_only_imports_nothing(
    runner: FlaskCliRunner, workers: tuple[User, User], tmp_path: Path, db_session: Session
) -> None:
    path = csv_path(tmp_path, HEADER, *LINES)
    result = runner.invoke(
        args=["beneficiaries", "import", str(path), "--structure", "IMPC", "--check-only"]
    )
    assert result.exit_code == 0, result.output
    assert "2 people ready to import" in result.stdout
    assert people_count(db_session) == 0


def test_a_database_failure_midway_leaves_nothing(
    runner: FlaskCliRunner,
    workers: tuple[User, User],
    tmp_path: Path,
    db_session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = writing._write_batch
    calls: list[int] = []

    def failing(*args: object, **kwargs: object) -> list[dict[str, object]]:
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(writing, "BATCH_SIZE", 1)
    monkeypatch.setattr(writing, "_write_batch", failing)
    path = csv_path(tmp_path, HEADER, *LINES)
    result = runner.invoke(args=["beneficiaries", "import", str(path), "--structure", "IMPC"])
    assert result.exit_code == 1
    assert "database error (OperationalError)" in result.output
    assert "disk I/O" not in result.output
    assert len(calls) == 2
    assert people_count(db_session) == 0


# -- spreadsheets as they are -----------------------------------------------------------------

TYPED_ROWS: list[list[object]] = [
    ["Nom", "Prénom", "Date de naissance", "Téléphone", "Public", "Consentement"],
    ["Zephyrin", "Aurélie", date(2004, 3, 14), 612345678, "young_dropout", "oral"],
    ["Martin", "Hélène", "2001-07-04", None, "Familles monoparentales", None],
]


@pytest.mark.parametrize(("write", "suffix"), [(xlsx_file, "xlsx"), (ods_file, "ods")])
def test_a_spreadsheet_is_imported_as_it_is(
    runner: FlaskCliRunner,
    workers: tuple[User, User],
    tmp_path: Path,
    db_session: Session,
    write: Callable[..., bytes],
    suffix: str,
) -> None:
    path = tmp_path / f"suivis.{suffix}"
    path.write_bytes(write([["notes"]], sheet="Notes", more={"Suivis": TYPED_ROWS}))
    args = ["beneficiaries", "import", str(path), "--structure", "IMPC"]
    first_sheet = runner.invoke(args=args)
    assert first_sheet.exit_code == 1
    assert "nothing imported" in first_sheet.stderr
    unknown = runner.invoke(args=[*args, "--sheet", "Absent"])
    assert unknown.exit_code == 1
    assert "Notes, Suivis" in unknown.stderr
    assert people_count(db_session) == 0
    result = runner.invoke(args=[*args, "--sheet", "Suivis"])
    assert result.exit_code == 0, result.output
    assert people_count(db_session) == 2


def test_errors_of_a_spreadsheet_name_its_rows(
    runner: FlaskCliRunner, workers: tuple[User, User], tmp_path: Path, db_session: Session
) -> None:
    rows: list[list[object]] = [
        *TYPED_ROWS,
        ["Petit", ERROR, "other"],
        [],
        ["Roy", "Léo", None, None, "astronauts"],
    ]
    path = tmp_path / "suivis.xlsx"
    path.write_bytes(xlsx_file(rows))
    result = runner.invoke(args=["beneficiaries", "import", str(path), "--structure", "IMPC"])
    assert result.exit_code == 1
    assert "error: line 4, column Prénom: " in result.stderr  # the error cell
    assert "Traceback" not in result.output
    path.write_bytes(xlsx_file([*TYPED_ROWS, [], ["Roy", "Léo", None, None, "astronauts"]]))
    result = runner.invoke(args=["beneficiaries", "import", str(path), "--structure", "IMPC"])
    assert result.exit_code == 1
    assert "error: line 5, column Public: Unknown cohort astronauts" in result.stderr
    assert people_count(db_session) == 0


@pytest.mark.parametrize(
    "content",
    [b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, b"PK\x03\x04 damaged"],
    ids=["xls-or-protected", "damaged"],
)
def test_unreadable_spreadsheets_exit_non_zero(
    runner: FlaskCliRunner,
    workers: tuple[User, User],
    tmp_path: Path,
    db_session: Session,
    content: bytes,
) -> None:
    path = tmp_path / "suivis.xlsx"
    path.write_bytes(content)
    result = runner.invoke(args=["beneficiaries", "import", str(path), "--structure", "IMPC"])
    assert result.exit_code == 1
    assert "nothing imported: the file cannot be read" in result.stderr
    assert "Traceback" not in result.output
    assert people_count(db_session) == 0


def test_the_sheet_option_is_for_spreadsheets(
    runner: FlaskCliRunner, workers: tuple[User, User], tmp_path: Path, db_session: Session
) -> None:
    path = csv_path(tmp_path, HEADER, *LINES)
    args = ["beneficiaries", "import", str(path), "--structure", "IMPC", "--sheet", "Feuille1"]
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert people_count(db_session) == 0

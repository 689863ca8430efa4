"""Importing a caseload from a spreadsheet as it is (.xlsx, .ods): the same checks, problems and
line numbers as CSV, and the cells a spreadsheet types (numbers, dates, errors) read as the
CSV export of the same sheet would hold them."""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable
from datetime import date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Beneficiary, User
from app.services import imports
from app.services.imports import ImportRejected, workbook
from app.services.people.identity import open_identity
from app.services.security.vault import Vault
from tests.services.imports.helpers import cohort_codes, people_count, run, where
from tests.spreadsheets import ERROR, Rows, ods_file, xlsx_file

Writer = Callable[..., bytes]
FORMATS = pytest.mark.parametrize("write", [xlsx_file, ods_file], ids=["xlsx", "ods"])

HEADER = [
    "nom",
    "prenom",
    "date_naissance",
    "telephone",
    "email",
    "adresse",
    "code_qpv",
    "public",
    "consentement",
]
# As a spreadsheet types them: the phone a number (its zero lost), the birth date a date cell.
TYPED = [
    "Zephyrin",
    "Aurélie",
    date(2004, 3, 14),
    612345678,
    "Aurelie.Z@Exemple.fr",
    "12 rue des Tilleuls",
    "QN09001M",
    "young_dropout",
    "oral",
]
OTHER = ["Martin", "Hélène", "2001-07-04", None, None, None, None, "Familles monoparentales"]


def _people(db_session: Session, vault: Vault) -> dict[str, Beneficiary]:
    return {
        open_identity(vault, db_session, p).last_name: p
        for p in db_session.scalars(select(Beneficiary))
    }


def _only_problem(data: bytes, **options: str) -> imports.Problem:
    with pytest.raises(ImportRejected) as caught:
        imports.read_sheet(data, **options)
    assert len(caught.value.problems) == 1, caught.value.problems
    return caught.value.problems[0]


@FORMATS
def test_a_typed_sheet_imports_as_its_csv_would(
    db_session: Session, vault: Vault, worker: User, write: Writer
) -> None:
    result = run(db_session, vault, worker, write([HEADER, TYPED, OTHER]))
    assert (result.total, result.imported, list(result.errors)) == (2, 2, [])
    people = _people(db_session, vault)
    who = open_identity(vault, db_session, people["Zephyrin"])
    assert (who.first_name, who.birth_date) == ("Aurélie", date(2004, 3, 14))
    assert who.phone == "+33612345678"  # 612345678.0 in the cell: its zero given back
    assert who.email == "Aurelie.Z@exemple.fr"
    assert people["Zephyrin"].qpv is not None
    assert cohort_codes(db_session, people["Zephyrin"]) == ["young_dropout"]
    assert open_identity(vault, db_session, people["Martin"]).birth_date == date(2001, 7, 4)
    assert cohort_codes(db_session, people["Martin"]) == ["single_parent"]


@pytest.mark.parametrize(
    ("cell", "text", "phone"),
    [
        (612345678, "612345678", "0612345678"),
        (612345678.0, "612345678", "0612345678"),
        (33612345678, "33612345678", "+33612345678"),
        ("612345678", "612345678", "612345678"),  # typed as text: as in CSV
        ("06 12 34 56 78", "06 12 34 56 78", "06 12 34 56 78"),
        (12, "12", "12"),
        (12.0, "12", "12"),
        (12.5, "12.5", "12.5"),
        (date(2004, 3, 12), "12/03/2004", "12/03/2004"),
        (
            datetime(2004, 3, 12),  # noqa: DTZ001 - a cell has no zone
            "12/03/2004",
            "12/03/2004",
        ),
        (
            datetime(2004, 3, 12, 14, 30),  # noqa: DTZ001
            "12/03/2004 14:30",
            "12/03/2004 14:30",
        ),
    ],
)
@FORMATS
def test_cells_are_read_as_text(write: Writer, cell: object, text: str, phone: str) -> None:
    """Numbers without a useless ``.0``, dates as DD/MM/YYYY; only the phone column gets a
    lost zero (or +) back."""
    data = write([["nom", "prenom", "telephone", "public"], ["x", cell, cell, "other"]])
    sheet = imports.read_sheet(data)
    ((_number, cells),) = sheet.lines
    assert (sheet.cell(cells, "prenom"), sheet.cell(cells, "telephone")) == (text, phone)


@FORMATS
def test_line_numbers_are_the_spreadsheet_rows(write: Writer) -> None:
    """Empty rows and columns before the header, and blank rows between lines, keep the
    numbers the spreadsheet shows."""
    rows: Rows = [
        [],
        [],
        [None, "Nom", "Prénom", "Public"],
        [None, "Roy", "Léo", "other"],
        [],
        [None, "Petit", "Anna", "other"],
    ]
    sheet = imports.read_sheet(write(rows))
    assert [number for number, _cells in sheet.lines] == [4, 6]
    assert sheet.header("nom") == "Nom"


@FORMATS
def test_every_error_names_line_and_column(
    db_session: Session, vault: Vault, worker: User, write: Writer
) -> None:
    bad = [None, None, "99/99/1999", 12, "no-at-sign", None, "QN00000X", "astronauts", "oui"]
    result = run(db_session, vault, worker, write([HEADER, bad, TYPED]))
    assert result.imported == 0
    assert where(result.errors) == [
        (2, "nom"),
        (2, "prenom"),
        (2, "date_naissance"),
        (2, "telephone"),
        (2, "email"),
        (2, "code_qpv"),
        (2, "public"),
        (2, "consentement"),
    ]
    assert people_count(db_session) == 0


@FORMATS
def test_one_bad_line_and_nothing_is_written(
    db_session: Session, vault: Vault, worker: User, write: Writer
) -> None:
    rows = [HEADER, TYPED, OTHER, ["Roy", "Léo", "31/02/2004", None, None, None, None, "other"]]
    result = run(db_session, vault, worker, write(rows))
    assert result.imported == 0
    assert where(result.errors) == [(4, "date_naissance")]
    assert people_count(db_session) == 0


@FORMATS
def test_headers_are_matched_as_in_csv(write: Writer) -> None:
    header = [" NOM ", "Prénom", "Date de naissance", "Téléphone", "E-mail", "Public"]
    sheet = imports.read_sheet(write([header, ["Roy", "Léo", None, None, None, "other"]]))
    assert set(sheet.columns) == {"nom", "prenom", "date_naissance", "telephone", "email", "public"}


@FORMATS
def test_an_error_cell_is_a_problem_of_its_line(
    db_session: Session, vault: Vault, worker: User, write: Writer
) -> None:
    rows = [["nom", "prenom", "public"], ["Roy", "Léo", "other"], ["Petit", ERROR, "other"]]
    result = run(db_session, vault, worker, write(rows))
    assert where(result.errors) == [(3, "prenom")]
    assert result.errors[0].message == workbook.ERROR_CELL
    assert result.errors[0].params == {"cell": "B3"}
    assert people_count(db_session) == 0


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([["nom", "prenom", "public"]], "no line to import"),
        ([["nom", "prenom"], ["Roy", "Léo"]], "Missing required columns: public."),
        ([["name", "prenom", "public", "age"], ["Roy", "Léo", "other", 2]], "Unknown columns"),
        ([["nom", "Nom", "prenom", "public"], ["Roy", "Roy", "Léo", "other"]], "appears twice"),
        (
            [["nom", "prenom", "public", None], ["Roy", "Léo", "other", "x"]],
            "Column 4 has no header",
        ),
    ],
)
@FORMATS
def test_problems_with_the_sheet_as_a_whole(
    db_session: Session, vault: Vault, worker: User, write: Writer, rows: Rows, message: str
) -> None:
    result = run(db_session, vault, worker, write(rows))
    assert result.imported == 0
    assert any(message in str(p) for p in result.errors), [str(p) for p in result.errors]
    assert people_count(db_session) == 0


@FORMATS
def test_an_empty_sheet(write: Writer) -> None:
    problem = _only_problem(write([], sheet="Vide"))
    assert (problem.message, problem.params) == (workbook.EMPTY_SHEET, {"sheet": "Vide"})


@FORMATS
def test_a_named_sheet(write: Writer) -> None:
    others = {"Suivis": [["nom", "prenom", "public"], ["Roy", "Léo", "other"]]}
    data = write([["notes"], ["rien"]], sheet="Notes", more=others)
    sheet = imports.read_sheet(data, sheet_name="Suivis")
    assert [cells[:2] for _n, cells in sheet.lines] == [("Roy", "Léo")]
    with pytest.raises(ImportRejected) as caught:  # the first sheet by default: not a caseload
        imports.read_sheet(data)
    assert {p.line for p in caught.value.problems} == {1}
    problem = _only_problem(data, sheet_name="Absent")
    assert problem.message == workbook.NO_SUCH_SHEET
    assert problem.params == {"sheet": "Absent", "sheets": "Notes, Suivis"}


@FORMATS
def test_row_and_size_limits(write: Writer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.services.imports.sheet.MAX_ROWS", 3)
    rows: Rows = [["nom", "prenom", "public"], *[[f"Nom{n}", "Léo", "other"] for n in range(4)]]
    problem = _only_problem(write(rows))
    assert problem.params == {"max": 3}
    assert len(imports.read_sheet(write(rows[:4])).lines) == 3
    far = [*rows[:3], *[[] for _ in range(10)], ["Loin", "Léo", "other"]]  # row 14 > 2 x (3 + 1)
    assert _only_problem(write(far)).params == {"max": 3}
    wide = [[*rows[0], *[None] * 100, "x"], *rows[1:3]]
    problem = _only_problem(write(wide))
    assert (problem.message, problem.params) == (workbook.TOO_MANY_COLUMNS, {"max": 100})
    monkeypatch.setattr("app.services.imports.workbook.MAX_INFLATED_BYTES", 100)
    assert _only_problem(write(rows[:4])).message == workbook.TOO_LARGE_INFLATED


def _zip(*entries: tuple[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, workbook.OLD_OR_PROTECTED),
        (b"PK\x03\x04\x14\x00\x06\x00binary", workbook.DAMAGED),
        (
            _zip(("word/document.xml", b"<w/>"), ("[Content_Types].xml", b"<t/>")),
            workbook.NOT_A_SPREADSHEET,
        ),
        (
            _zip(("mimetype", b"application/vnd.oasis.opendocument.text")),
            workbook.NOT_A_SPREADSHEET,
        ),
        (_zip(("[Content_Types].xml", b"<t/>"), ("xl/workbook.xml", b"<broken")), workbook.DAMAGED),
        (ods_file([["nom", "prenom", "public"]], encrypted=True), workbook.PROTECTED),
        (xlsx_file([["nom", "prenom", "public"]])[:-200], workbook.DAMAGED),
    ],
    ids=["xls-or-protected", "not-a-zip", "docx", "odt", "broken-xlsx", "protected-ods", "cut"],
)
def test_files_that_are_not_readable_spreadsheets(
    db_session: Session, vault: Vault, worker: User, data: bytes, message: str
) -> None:
    result = run(db_session, vault, worker, data)
    assert [p.message for p in result.errors] == [message]
    assert result.imported == 0
    assert people_count(db_session) == 0


@FORMATS
def test_damaged_spreadsheets_never_raise_anything_else(write: Writer) -> None:
    """Cut short or with bytes changed anywhere, a spreadsheet reads or is refused clearly."""
    data = write([["nom", "prenom", "public"], ["Roy", "Léo", "other"], ["Petit", 12, "other"]])
    rng = random.Random(13)
    variants = [data[:cut] for cut in range(4, len(data), max(1, len(data) // 60))]
    for _ in range(150):
        changed = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            changed[rng.randrange(4, len(changed))] = rng.randrange(256)
        variants.append(bytes(changed))
    refused = 0
    for variant in variants:
        try:
            imports.read_sheet(variant)
        except ImportRejected:
            refused += 1
    assert refused > len(variants) // 2

"""Reading the file: encodings, separators, headers, blank lines, and what rejects a file as
a whole."""

from __future__ import annotations

import codecs

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Beneficiary, User
from app.services import imports
from app.services.imports import ImportRejected
from app.services.people.identity import open_identity
from app.services.security.vault import Vault
from tests.services.imports.helpers import GOOD, cohort_codes, csv_file, people_count, run, where


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_encodings(db_session: Session, vault: Vault, worker: User, encoding: str) -> None:
    data = csv_file("Nom;Prénom;Public", "Lefèvre;Hélène;Jeunes décrocheurs", encoding=encoding)
    result = run(db_session, vault, worker, data)
    assert result.imported == 1, result.errors
    person = db_session.scalars(select(Beneficiary)).one()
    who = open_identity(vault, db_session, person)
    assert (who.last_name, who.first_name) == ("Lefèvre", "Hélène")
    assert cohort_codes(db_session, person) == ["young_dropout"]


@pytest.mark.parametrize(
    ("mark", "encoding"),
    [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")],
)
def test_unicode_text_as_excel_saves_it(
    db_session: Session, vault: Vault, worker: User, mark: bytes, encoding: str
) -> None:
    """Excel's "Texte Unicode": UTF-16 with its byte order mark, tab separated."""
    data = mark + csv_file(
        "Nom\tPrénom\tPublic", "Lefèvre\tHélène\tJeunes décrocheurs", encoding=encoding
    )
    result = run(db_session, vault, worker, data)
    assert result.imported == 1, result.errors
    person = db_session.scalars(select(Beneficiary)).one()
    who = open_identity(vault, db_session, person)
    assert (who.last_name, who.first_name) == ("Lefèvre", "Hélène")


def test_quotation_marks_inside_cells_are_read_as_spreadsheets_read_them() -> None:
    sheet = imports.read_sheet(
        b'nom;prenom;public\r\nRoy;"Le"o;other\r\nMartin;Jean "Jo";other\r\n"A;B";C;other\r\n'
    )
    assert [cells[:2] for _, cells in sheet.lines] == [
        ("Roy", "Leo"),
        ("Martin", 'Jean "Jo"'),
        ("A;B", "C"),
    ]
    assert [number for number, _ in sheet.lines] == [2, 3, 4]


@pytest.mark.parametrize("separator", [";", ",", "\t"])
def test_separators_are_sniffed(
    db_session: Session, vault: Vault, worker: User, separator: str
) -> None:
    rows = [
        ["nom", "prenom", "adresse", "public"],
        ["Durand", "Paul", "3, rue Haute; bâtiment B", "young_dropout|single_parent"],
        ["Petit", "Anna", "", "young_dropout, other"],
    ]
    lines = [
        separator.join(f'"{cell}"' if separator in cell or "," in cell else cell for cell in row)
        for row in rows
    ]
    result = run(db_session, vault, worker, csv_file(*lines))
    assert result.imported == 2, result.errors
    people = {
        open_identity(vault, db_session, p).last_name: p
        for p in db_session.scalars(select(Beneficiary))
    }
    assert open_identity(vault, db_session, people["Durand"]).address == "3, rue Haute; bâtiment B"
    assert cohort_codes(db_session, people["Durand"]) == ["single_parent", "young_dropout"]
    assert cohort_codes(db_session, people["Petit"]) == ["other", "young_dropout"]


def test_headers_are_matched_whatever_their_case_accents_and_spaces(
    db_session: Session, vault: Vault, worker: User
) -> None:
    header = " NOM ;Prénom;Date de naissance;Téléphone;E-mail;Adresse;Code QPV;Public;Consentement"
    result = run(db_session, vault, worker, csv_file(header, GOOD))
    assert result.imported == 1, result.errors


def test_blank_lines_are_skipped_but_keep_their_number(
    db_session: Session, vault: Vault, worker: User
) -> None:
    data = csv_file("nom;prenom;public", "Roy;Léo;other", ";;", "", "Roy;;other", ";;")
    result = run(db_session, vault, worker, data)
    assert where(result.errors) == [(5, "prenom")]


def test_empty_trailing_columns_are_ignored(
    db_session: Session, vault: Vault, worker: User
) -> None:
    data = csv_file("nom;prenom;public;;", "Roy;Léo;other;;", "Roy;Zoé;other")
    assert run(db_session, vault, worker, data).imported == 2


def test_the_separator_is_read_on_the_header_even_below_blank_lines() -> None:
    sheet = imports.read_sheet(b"\r\n,,\r\nnom,prenom,public\r\nRoy,Leo,other\r\n")
    assert sheet.columns == {"nom": 0, "prenom": 1, "public": 2}
    assert sheet.lines == ((4, ("Roy", "Leo", "other")),)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\r\n;;\r\n", "The file is empty."),
        (b"nom;prenom;public\r\n", "no line to import"),
        (b"nom;prenom;public\r\n;;\r\n", "no line to import"),
        (b"nom;prenom\r\nRoy;Leo\r\n", "Missing required columns: public."),
        (b"name;prenom;public;age\r\nRoy;Leo;other;2\r\n", "Unknown columns: name, age."),
        (b"nom;Nom;prenom;public\r\nRoy;Roy;Leo;other\r\n", "The column Nom appears twice."),
        (b"nom;prenom;public;\r\nRoy;Leo;other;x\r\n", "Column 4 has no header"),
        (b"nom;prenom;public\r\n\x81\x8d;Leo;other\r\n", "UTF-8 or Windows-1252"),
        (b"nom;prenom;public\r\nRoy\x00;Leo;other\r\n", "UTF-8 or Windows-1252"),
        # A quotation mark never closed: refused with its row (multi-line cells are one row).
        (b'nom;prenom;public\r\n"Quote;Open;rsa\r\nRoy;Leo;other\r\n', "Line 2 opens quotation"),
        (
            b'nom;prenom;public\r\n"Multi\r\nline";Leo;other\r\nRoy;"Leo;other\r\n',
            "Line 3 opens quotation",
        ),
        # A cell beyond the csv module's limit (131,072 characters).
        (b"nom;prenom;public\r\nRoy;" + b"x" * 140_000 + b";other\r\n", "CSV near line 2."),
        # A web page saved with a spreadsheet's name.
        (b"\r\n<!DOCTYPE html><html><body><table><tr><td>nom</td></tr></table>", "neither"),
        (b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com">', "neither"),
        # A UTF-16 mark before bytes that are not UTF-16 text (cut in the middle of a letter,
        # or a NUL character in it).
        (codecs.BOM_UTF16_LE + "nom;prenom;public\r\n".encode("utf-16-le")[:-1], "UTF-8 or"),
        (codecs.BOM_UTF16_LE + "nom;prenom\x00;public".encode("utf-16-le"), "UTF-8 or"),
    ],
)
def test_problems_with_the_file_as_a_whole(
    db_session: Session, vault: Vault, worker: User, data: bytes, message: str
) -> None:
    result = run(db_session, vault, worker, data)
    assert result.imported == 0
    assert result.errors
    assert any(message in str(p) for p in result.errors), [str(p) for p in result.errors]
    assert people_count(db_session) == 0


def test_unknown_columns_list_the_expected_ones() -> None:
    with pytest.raises(ImportRejected) as caught:
        imports.read_sheet(b"Nom;Surname;Public\r\nRoy;Leo;other\r\n")
    problems = caught.value.problems
    assert [p.line for p in problems] == [1, 1]
    text_ = " ".join(str(p) for p in problems)
    assert "Surname" in text_
    assert ", ".join(imports.COLUMNS) in text_
    assert "prenom" in text_


def test_size_and_row_limits(
    db_session: Session, vault: Vault, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = b"nom;prenom;public\r\n" + b"x" * imports.MAX_FILE_BYTES
    result = run(db_session, vault, worker, big)
    assert "larger than 5 MB" in str(result.errors[0])
    monkeypatch.setattr("app.services.imports.sheet.MAX_ROWS", 3)
    lines = [f"Nom{n};Léo;other" for n in range(4)]
    result = run(db_session, vault, worker, csv_file("nom;prenom;public", *lines))
    assert "more than 3 lines" in str(result.errors[0])
    assert run(db_session, vault, worker, csv_file("nom;prenom;public", *lines[:3])).imported == 3

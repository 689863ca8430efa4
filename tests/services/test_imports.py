"""Importing a caseload from CSV: reading, checking every line, duplicates, writing, audit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.domain.pathway import ConsentMethod
from app.domain.roles import Role
from app.models import (
    AuditEvent,
    Beneficiary,
    Consent,
    FollowUp,
    PersonKey,
    ReferenceItem,
    ReferenceKind,
    User,
)
from app.services import imports
from app.services.errors import Forbidden
from app.services.identity import open_identity
from app.services.imports import ImportRejected, ImportResult, Problem
from app.services.structures import add_reference_item
from app.services.vault import Vault
from tests import factories

TODAY = factories.TODAY
HEADER = "nom;prenom;date_naissance;telephone;email;adresse;code_qpv;public;consentement"
GOOD = "Zephyrin;Aurélie;14/03/2004;06 12 34 56 78;Aurelie.Z@Exemple.fr;12 rue des Tilleuls;QN09001M;young_dropout;oral"
OTHER = "Martin;Hélène;2001-07-04;;;;;Familles monoparentales;signé 12/09/2025"


def csv_file(*lines: str, encoding: str = "utf-8") -> bytes:
    return "\r\n".join(lines).encode(encoding)


@pytest.fixture
def worker(db_session: Session) -> User:
    add_reference_item(db_session, None, ReferenceKind.QPV, "QN09001M", "Les Glacis", "Les Glacis")
    return factories.user(db_session, structure_=factories.structure(db_session, "IMP"))


def run(
    db_session: Session, vault: Vault, worker: User, data: bytes, **options: bool
) -> ImportResult:
    return imports.import_caseload(db_session, vault, worker, data, today=TODAY, **options)


def people_count(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(Beneficiary)) or 0


def where(problems: Sequence[Problem]) -> list[tuple[int | None, str | None]]:
    return [(p.line, p.column) for p in problems]


def cohort_codes(db_session: Session, person: Beneficiary) -> list[str]:
    db_session.refresh(person)
    return sorted(c.code for c in person.cohorts)


# -- a valid file ----------------------------------------------------------------------------


def test_a_valid_file_is_imported_as_registration_would(
    db_session: Session, vault: Vault, worker: User
) -> None:
    result = run(db_session, vault, worker, csv_file(HEADER, GOOD, OTHER))
    assert (result.total, result.imported, list(result.errors)) == (2, 2, [])
    people = {
        open_identity(vault, db_session, p).last_name: p
        for p in db_session.scalars(select(Beneficiary))
    }
    assert sorted(people) == ["Martin", "Zephyrin"]
    first = people["Zephyrin"]
    who = open_identity(vault, db_session, first)
    assert (who.first_name, who.birth_date) == ("Aurélie", date(2004, 3, 14))
    assert who.phone == "+33612345678"  # E.164, as clean_identity gives it
    assert who.email == "Aurelie.Z@exemple.fr"  # domain lower-cased by email_validator
    assert who.address == "12 rue des Tilleuls"
    assert first.pseudonym.startswith("P-")
    assert first.birth_year == 2004
    assert first.created_month == date(2026, 11, 1)
    assert first.created_by_structure_id == worker.structure_id
    assert first.qpv is not None
    assert first.qpv.code == "QN09001M"
    assert cohort_codes(db_session, first) == ["young_dropout"]
    assert cohort_codes(db_session, people["Martin"]) == ["single_parent"]
    assert first.name_birth_index is not None
    assert first.phone_index is not None
    assert first.email_index is not None
    follow_up = db_session.scalar(select(FollowUp).where(FollowUp.beneficiary_id == first.id))
    assert follow_up is not None
    assert (follow_up.structure_id, follow_up.referent_id) == (worker.structure_id, worker.id)
    assert follow_up.started_on == TODAY
    consents = {c.beneficiary_id: c for c in db_session.scalars(select(Consent)).all()}
    assert consents[first.id].method is ConsentMethod.ORAL
    assert consents[first.id].given_on == TODAY  # no date written: today
    assert consents[people["Martin"].id].method is ConsentMethod.SIGNED
    assert consents[people["Martin"].id].given_on == date(2025, 9, 12)
    assert consents[first.id].recorded_by_id == worker.id


def test_import_is_audited(db_session: Session, vault: Vault, worker: User) -> None:
    run(db_session, vault, worker, csv_file(HEADER, GOOD, OTHER))
    events = db_session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    mine = [e for e in events if e.actor_id == worker.id]
    actions = [e.action for e in mine]
    assert actions.count("beneficiary:create") == 2
    assert actions.count("consent:record") == 2
    assert actions.count("beneficiary:duplicate_check") == 1
    assert actions.count("beneficiary:import") == 1
    check = next(e for e in mine if e.action == "beneficiary:duplicate_check")
    done = next(e for e in mine if e.action == "beneficiary:import")
    assert check.subject_id == done.subject_id  # one import id ties the events together
    assert done.data["people"] == 2
    assert all(e.actor_structure_id == worker.structure_id for e in mine)
    creations = [e for e in mine if e.action == "beneficiary:create"]
    assert all(e.beneficiary_id is not None for e in creations)
    assert {e.data["import_id"] for e in creations} == {done.subject_id}


def test_raw_database_holds_no_imported_value_in_clear(
    db_session: Session, vault: Vault, worker: User
) -> None:
    run(db_session, vault, worker, csv_file(HEADER, GOOD, OTHER))
    db_session.flush()
    dump = " ".join(
        repr(row)
        for table in (
            "beneficiaries",
            "audit_events",
            "person_keys",
            "consents",
            "follow_ups",
            "beneficiary_cohorts",
        )
        for row in db_session.execute(text(f"SELECT * FROM {table}"))  # noqa: S608 - fixed names
    )
    for value in (
        "Zephyrin",
        "Aurélie",
        "Aurelie",
        "612345678",
        "Exemple",
        "exemple.fr",
        "Tilleuls",
        "2004-03-14",
        "Martin",
        "Hélène",
        "2001-07-04",
    ):
        assert value not in dump


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_encodings(db_session: Session, vault: Vault, worker: User, encoding: str) -> None:
    data = csv_file("Nom;Prénom;Public", "Lefèvre;Hélène;Jeunes décrocheurs", encoding=encoding)
    result = run(db_session, vault, worker, data)
    assert result.imported == 1, result.errors
    person = db_session.scalars(select(Beneficiary)).one()
    who = open_identity(vault, db_session, person)
    assert (who.last_name, who.first_name) == ("Lefèvre", "Hélène")
    assert cohort_codes(db_session, person) == ["young_dropout"]


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


@pytest.mark.parametrize(
    "written", ["14/03/2004", "4/3/2004", "2004-03-14", "14/03/2004 00:00", " 14/03/2004 "]
)
def test_birth_date_formats(db_session: Session, vault: Vault, worker: User, written: str) -> None:
    result = run(
        db_session,
        vault,
        worker,
        csv_file("nom;prenom;date_naissance;public", f"Roy;Léo;{written};other"),
    )
    assert result.imported == 1, result.errors
    person = db_session.scalars(select(Beneficiary)).one()
    expected = date(2004, 3, 4) if written == "4/3/2004" else date(2004, 3, 14)
    assert open_identity(vault, db_session, person).birth_date == expected


@pytest.mark.parametrize(
    ("cell", "codes"),
    [
        ("Jeunes décrocheurs", ["young_dropout"]),
        ("JEUNES DECROCHEURS", ["young_dropout"]),
        ("  jeunes   décrocheurs ", ["young_dropout"]),
        ("Young school dropouts", ["young_dropout"]),
        ("YOUNG_DROPOUT", ["young_dropout"]),
        ("Jeunes diplômés des QPV | Tout public", ["other", "young_graduate"]),
        ("young_dropout|young_dropout", ["young_dropout"]),
    ],
)
def test_cohorts_by_code_or_label(
    db_session: Session, vault: Vault, worker: User, cell: str, codes: list[str]
) -> None:
    result = run(db_session, vault, worker, csv_file("nom;prenom;public", f"Roy;Léo;{cell}"))
    assert result.imported == 1, result.errors
    person = db_session.scalars(select(Beneficiary)).one()
    assert cohort_codes(db_session, person) == codes


def test_headers_are_matched_whatever_their_case_accents_and_spaces(
    db_session: Session, vault: Vault, worker: User
) -> None:
    header = " NOM ;Prénom;Date de naissance;Téléphone;E-mail;Adresse;Code QPV;Public;Consentement"
    result = run(db_session, vault, worker, csv_file(header, GOOD))
    assert result.imported == 1, result.errors


@pytest.mark.parametrize(
    ("cell", "method", "given_on"),
    [
        ("", None, None),
        ("oral", ConsentMethod.ORAL, TODAY),
        ("Orale", ConsentMethod.ORAL, TODAY),
        ("signé", ConsentMethod.SIGNED, TODAY),
        ("Signé 12/09/2025", ConsentMethod.SIGNED, date(2025, 9, 12)),
        ("signe: 12/09/2025", ConsentMethod.SIGNED, date(2025, 9, 12)),
        ("SIGNÉE:2025-09-12", ConsentMethod.SIGNED, date(2025, 9, 12)),
        ("oral 01/02/2026", ConsentMethod.ORAL, date(2026, 2, 1)),
    ],
)
def test_consent_cells(
    db_session: Session,
    vault: Vault,
    worker: User,
    cell: str,
    method: ConsentMethod | None,
    given_on: date | None,
) -> None:
    data = csv_file("nom;prenom;public;consentement", f"Roy;Léo;other;{cell}")
    assert run(db_session, vault, worker, data).imported == 1
    consent = db_session.scalar(select(Consent))
    if method is None:
        assert consent is None
    else:
        assert consent is not None
        assert (consent.method, consent.given_on) == (method, given_on)


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


def test_batches_and_progress(
    db_session: Session, vault: Vault, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    lines = [f"Nom{n};Léo;other" for n in range(5)]
    ticks: list[int] = []
    result = imports.import_caseload(
        db_session,
        vault,
        worker,
        csv_file("nom;prenom;public", *lines),
        today=TODAY,
        progress=ticks.append,
    )
    assert result.imported == 5
    assert sum(ticks) == 10  # every line checked, then every line written
    pseudonyms = db_session.scalars(select(Beneficiary.pseudonym)).all()
    assert len(set(pseudonyms)) == 5
    assert db_session.scalar(select(func.count()).select_from(PersonKey)) == 5


# -- errors: nothing is imported ------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("Nom", "", "Enter the last name."),
        ("Nom", "x" * 101, "This value is too long."),
        ("Prénom", " ", "Enter the first name."),
        ("Date de naissance", "31/02/2004", "Write the date as DD/MM/YYYY or YYYY-MM-DD."),
        ("Date de naissance", "14.03.2004", "Write the date as DD/MM/YYYY or YYYY-MM-DD."),
        ("Date de naissance", "01/01/2020", "plausible age"),
        ("Date de naissance", "01/01/2030", "plausible age"),
        ("Téléphone", "12", "Enter a valid phone number."),
        ("Téléphone", "not a phone", "Enter a valid phone number."),
        ("E-mail", "no-at-sign", "Enter a valid e-mail address."),
        ("Adresse", "x" * 301, "This value is too long."),
        ("QPV", "QN00000X", "Unknown QPV code QN00000X"),
        ("Public", "", "Give at least one cohort."),
        ("Public", " | ", "Give at least one cohort."),
        ("Public", "astronauts", "Unknown cohort astronauts"),
        ("Public", "young_dropout|astronauts", "Unknown cohort astronauts"),
        ("Consentement", "oui", "Write oral or signé"),
        ("Consentement", "signé 31/13/2025", "Write oral or signé"),
        ("Consentement", "signé 01/12/2026", "Consent cannot be dated in the future."),
    ],
)
def test_every_error_names_line_column_and_reason(
    db_session: Session, vault: Vault, worker: User, column: str, value: str, message: str
) -> None:
    headers = [
        "Nom",
        "Prénom",
        "Date de naissance",
        "Téléphone",
        "E-mail",
        "Adresse",
        "QPV",
        "Public",
        "Consentement",
    ]
    good = [
        "Roy",
        "Léo",
        "14/03/2004",
        "0612345678",
        "leo@exemple.fr",
        "1 rue Haute",
        "",
        "other",
        "oral",
    ]
    bad = [value if h == column else cell for h, cell in zip(headers, good, strict=True)]
    other = ["Petit", "Anna", "", "", "", "", "", "other", ""]
    data = csv_file(";".join(headers), ";".join(other), ";".join(bad))
    result = run(db_session, vault, worker, data)
    assert result.imported == 0
    assert where(result.errors) == [(3, column)]
    assert message in str(result.errors[0])
    assert people_count(db_session) == 0


def test_every_wrong_cell_of_a_line_is_reported(
    db_session: Session, vault: Vault, worker: User
) -> None:
    data = csv_file(HEADER, ";;99/99/1999;12;no-at-sign;;QN00000X;astronauts;oui", GOOD)
    result = run(db_session, vault, worker, data)
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


def test_a_line_with_more_cells_than_columns(
    db_session: Session, vault: Vault, worker: User
) -> None:
    result = run(db_session, vault, worker, csv_file("nom;prenom;public", "Roy;Léo;other;extra"))
    assert where(result.errors) == [(2, None)]


def test_one_bad_line_and_nothing_is_written(
    db_session: Session, vault: Vault, worker: User
) -> None:
    lines = [f"Nom{n};Léo;other" for n in range(30)]
    lines[17] = "Nom17;Léo;astronauts"
    result = run(db_session, vault, worker, csv_file("nom;prenom;public", *lines))
    assert (result.total, result.imported) == (30, 0)
    assert where(result.errors) == [(19, "public")]
    assert people_count(db_session) == 0
    assert (
        db_session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.actor_id == worker.id)
        )
        == 0
    )


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
        (b"PK\x03\x04\x14\x00\x06\x00binary", "spreadsheet file, not a CSV"),
        (b"nom;prenom;public\r\n\x81\x8d;Leo;other\r\n", "UTF-8 or Windows-1252"),
        (b"nom;prenom;public\r\nRoy\x00;Leo;other\r\n", "UTF-8 or Windows-1252"),
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
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    lines = [f"Nom{n};Léo;other" for n in range(4)]
    result = run(db_session, vault, worker, csv_file("nom;prenom;public", *lines))
    assert "more than 3 lines" in str(result.errors[0])
    assert run(db_session, vault, worker, csv_file("nom;prenom;public", *lines[:3])).imported == 3


def test_only_caseworkers_import(db_session: Session, vault: Vault) -> None:
    coordinator = factories.user(db_session, Role.COORDINATOR)
    with pytest.raises(Forbidden):
        run(db_session, vault, coordinator, csv_file(HEADER, GOOD))


def test_problems_never_carry_identity_values(
    db_session: Session, vault: Vault, worker: User
) -> None:
    data = csv_file(HEADER, "Quennevillard;Hortense;01/01/2030;12;hortense@@x;;;other;")
    result = run(db_session, vault, worker, data)
    shown = " ".join(str(p) for p in result.errors)
    for value in ("Quennevillard", "Hortense", "2030", "hortense"):
        assert value not in shown


# -- possible duplicates ----------------------------------------------------------------------


def test_duplicates_within_the_file_hold_the_import_back(
    db_session: Session, vault: Vault, worker: User
) -> None:
    same_name = "ZEPHYRIN;aurelie;2004-03-14;;;;;other;"
    same_phone = "Autre;Personne;;+33 6 12 34 56 78;;;;other;"
    data = csv_file(HEADER, GOOD, OTHER, same_name, same_phone)
    result = run(db_session, vault, worker, data)
    assert result.needs_confirmation
    assert result.imported == 0
    assert result.duplicate_lines == [4, 5]
    assert all("line 2" in str(w) for w in result.warnings)
    assert people_count(db_session) == 0

    result = run(db_session, vault, worker, data, allow_duplicates=True)
    assert result.imported == 4
    assert result.duplicate_lines == [4, 5]
    assert people_count(db_session) == 4


def test_duplicate_followed_by_the_structure_is_named(
    db_session: Session, vault: Vault, worker: User
) -> None:
    known = factories.person(db_session, vault, worker)  # Aurélie Zephyrin, 14/03/2004
    result = run(db_session, vault, worker, csv_file(HEADER, OTHER, GOOD))
    assert result.needs_confirmation
    assert result.duplicate_lines == [3]
    assert [str(w) for w in result.warnings] == [
        f"Possible duplicate of {known.pseudonym}, already followed by your structure."
    ]
    decrypted = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "beneficiary:duplicate_check",
            AuditEvent.beneficiary_id == known.id,
        )
    ).all()
    assert len(decrypted) == 1  # the candidate was opened to confirm, and that is recorded
    summary = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "beneficiary:duplicate_check",
            AuditEvent.subject_type == "import",
        )
    ).one()
    assert summary.data["followed_matches"] == 1
    assert summary.data["network_matches"] == 0


def test_a_blind_index_match_that_is_not_the_same_person_is_not_a_duplicate(
    db_session: Session, vault: Vault, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    factories.person(db_session, vault, worker)
    # Every value shares one blind index value: candidates are confirmed by decryption.
    monkeypatch.setattr(type(vault.indexer), "compute", lambda _self, _name, _value: 7)
    result = run(db_session, vault, worker, csv_file("nom;prenom;public", "Roy;Léo;other"))
    assert result.imported == 1
    assert not result.warnings


def test_duplicate_elsewhere_in_the_network_is_not_revealed(
    db_session: Session, vault: Vault, worker: User
) -> None:
    other_structure = factories.structure(db_session, "ZZZ")
    elsewhere = factories.user(db_session, structure_=other_structure)
    known = factories.person(db_session, vault, elsewhere)
    result = run(db_session, vault, worker, csv_file(HEADER, GOOD))
    assert result.needs_confirmation
    assert [str(w) for w in result.warnings] == [
        "A possible duplicate exists in the network; contact your coordinator."
    ]
    assert all(known.pseudonym not in str(w) and "ZZZ" not in str(w) for w in result.warnings)
    # Decrypted inside the application only to confirm the match: the person's access log
    # records it, the caseworker learns nothing of who or where.
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action == "beneficiary:duplicate_check",
                AuditEvent.beneficiary_id == known.id,
            )
        )
        == 1
    )
    assert (
        run(db_session, vault, worker, csv_file(HEADER, GOOD), allow_duplicates=True).imported == 1
    )


def test_the_duplicate_lookup_is_audited_even_when_nothing_is_imported(
    db_session: Session, vault: Vault, worker: User
) -> None:
    factories.person(db_session, vault, worker)
    result = run(db_session, vault, worker, csv_file(HEADER, GOOD))
    assert result.needs_confirmation
    actions = db_session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.actor_id == worker.id, AuditEvent.subject_type == "import"
        )
    ).all()
    assert actions == ["beneficiary:duplicate_check"]


def test_inactive_cohorts_are_unknown(db_session: Session, vault: Vault, worker: User) -> None:
    item = db_session.scalars(
        select(ReferenceItem).where(
            ReferenceItem.kind == ReferenceKind.COHORT, ReferenceItem.code == "other"
        )
    ).one()
    item.active = False
    db_session.flush()
    result = run(db_session, vault, worker, csv_file("nom;prenom;public", "Roy;Léo;other"))
    assert where(result.errors) == [(2, "public")]


def test_the_separator_is_read_on_the_header_even_below_blank_lines() -> None:
    sheet = imports.read_sheet(b"\r\n,,\r\nnom,prenom,public\r\nRoy,Leo,other\r\n")
    assert sheet.columns == {"nom": 0, "prenom": 1, "public": 2}
    assert sheet.lines == ((4, ("Roy", "Leo", "other")),)

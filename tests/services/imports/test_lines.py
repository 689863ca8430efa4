"""Checking every line with the rules of registration: dates, cohorts, consent; every problem
named by its line, its column and the reason."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.pathway import ConsentMethod
from app.models import Beneficiary, Consent, ReferenceItem, ReferenceKind, User
from app.services.people.identity import open_identity
from app.services.security.vault import Vault
from tests.services.imports.helpers import (
    GOOD,
    HEADER,
    TODAY,
    cohort_codes,
    csv_file,
    people_count,
    run,
    where,
)


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

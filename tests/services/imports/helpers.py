"""CSV files and helpers shared by the tests of the import."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Beneficiary, User
from app.services import imports
from app.services.imports import ImportResult, Problem
from app.services.security.vault import Vault
from tests import factories

TODAY = factories.TODAY
HEADER = "nom;prenom;date_naissance;telephone;email;adresse;code_qpv;public;consentement"
GOOD = "Zephyrin;Aurélie;14/03/2004;06 12 34 56 78;Aurelie.Z@Exemple.fr;12 rue des Tilleuls;QN09001M;young_dropout;oral"
OTHER = "Martin;Hélène;2001-07-04;;;;;Familles monoparentales;signé 12/09/2025"


def csv_file(*lines: str, encoding: str = "utf-8") -> bytes:
    return "\r\n".join(lines).encode(encoding)


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

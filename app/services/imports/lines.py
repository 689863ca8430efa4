"""Checking every line of a sheet with the rules of registration.

A line is checked as ``register_person`` checks a person (``clean_identity``, the active
reference lists, consent dates), but every wrong cell of the line is reported, not only the
first: each problem names its line, its column (the header as written in the file) and the
reason, in the order of the columns of the file.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from app.crypto.blind_index import normalise_name
from app.domain.pathway import ConsentMethod
from app.models import ReferenceItem, ReferenceKind
from app.services.errors import N_, InvalidInput
from app.services.imports.results import CheckedRow, Problem, Progress
from app.services.imports.sheet import Sheet
from app.services.people.identity import Identity, IdentityChecks, clean_identity
from app.services.people.registration import ConsentInput
from app.services.structures import reference_items

# Identity fields and the column that holds each.
_FIELD_COLUMN = {
    "last_name": "nom",
    "first_name": "prenom",
    "birth_date": "date_naissance",
    "phone": "telephone",
    "email": "email",
    "address": "adresse",
}
# What stands in for a wrong value while the other values of the line are checked.
_PLACEHOLDER: dict[str, Any] = {"last_name": "x", "first_name": "x"}

# re.ASCII: the digits 0 to 9 only (``\d`` alone also matches other scripts' digits).
_FR_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_MIDNIGHT = re.compile(r"[ T]0?0:00(?::00)?$")  # "14/03/2004 00:00" as some exports write dates
_CONSENT = re.compile(r"(orale|oral|signee|signe)(?:\s*:\s*|\s+)?(.*)")


class _Issue(NamedTuple):
    """A message and its parameters, before the line is known."""

    message: str
    params: dict[str, str | int]


def check_lines(
    session: Session, sheet: Sheet, today: date, progress: Progress
) -> tuple[list[CheckedRow], list[Problem]]:
    """The valid lines of ``sheet`` and the problems of the others; ``progress`` every 100."""
    check = _LineCheck(sheet, _Lookups(session, today))
    rows: list[CheckedRow] = []
    errors: list[Problem] = []
    for done, (line, cells) in enumerate(sheet.lines, start=1):
        row, line_errors = check(line, cells)
        if row is not None:
            rows.append(row)
        errors.extend(line_errors)
        if done % 100 == 0:
            progress(100)
    progress(len(sheet.lines) % 100)
    return rows, errors


class _Lookups:
    """The active cohorts and QPVs, read once, and what each distinct cell text means.

    Cohort and consent cells repeat a lot in a caseload ("Jeunes décrocheurs", "oral"): each
    distinct text is parsed once.
    """

    def __init__(self, session: Session, today: date) -> None:
        self.today = today
        cohorts = reference_items(session, ReferenceKind.COHORT)
        self.cohorts: dict[str, ReferenceItem] = {}
        for item in cohorts:
            for key in (item.code, item.label_fr, item.label_en):
                self.cohorts.setdefault(normalise_name(key), item)
        self.cohort_codes = ", ".join(item.code for item in cohorts)
        self.qpvs = {
            item.code.casefold(): item for item in reference_items(session, ReferenceKind.QPV)
        }
        # Phone numbers and e-mail domains, each checked once (see ``IdentityChecks``).
        self.identity_checks = IdentityChecks()
        self._cohort_cells: dict[str, tuple[tuple[int, ...], list[_Issue]]] = {}
        self._consent_cells: dict[str, tuple[ConsentInput | None, list[_Issue]]] = {}

    def cohort(self, text: str) -> ReferenceItem | None:
        return self.cohorts.get(normalise_name(text))

    def cohort_cell(self, cell: str) -> tuple[tuple[int, ...], list[_Issue]]:
        if cell not in self._cohort_cells:
            self._cohort_cells[cell] = _parse_cohorts(cell, self)
        return self._cohort_cells[cell]

    def consent_cell(self, cell: str) -> tuple[ConsentInput | None, list[_Issue]]:
        if cell not in self._consent_cells:
            self._consent_cells[cell] = _parse_consent(cell, self.today)
        return self._consent_cells[cell]


class _LineCheck:
    """Checks the lines of one sheet: ``check(line, cells)`` -> the row, or its problems."""

    def __init__(self, sheet: Sheet, lookups: _Lookups) -> None:
        self.sheet = sheet
        self.lookups = lookups
        self.headers = {column: sheet.header(column) for column in sheet.columns}
        # Problems are listed in the order of the columns of the file, as the spreadsheet
        # shows them.
        self.order = {header: index for index, header in enumerate(sheet.headers)}

    def __repr__(self) -> str:
        return f"_LineCheck({self.sheet!r})"

    def __call__(self, line: int, cells: Sequence[str]) -> tuple[CheckedRow | None, list[Problem]]:
        sheet, headers = self.sheet, self.headers
        errors: list[Problem] = []
        if len(cells) > len(sheet.headers) and any(c.strip() for c in cells[len(sheet.headers) :]):
            errors.append(
                Problem(line, None, N_("This line has more cells than the header has columns."))
            )
        identity = self._identity(line, cells, errors)
        qpv_id = self._qpv_id(line, cells, errors)
        cohort_ids, issues = self.lookups.cohort_cell(sheet.cell(cells, "public"))
        errors.extend(Problem(line, headers["public"], msg, params) for msg, params in issues)
        consent: ConsentInput | None = None
        if "consentement" in sheet.columns:
            consent, issues = self.lookups.consent_cell(sheet.cell(cells, "consentement"))
            errors.extend(
                Problem(line, headers["consentement"], msg, params) for msg, params in issues
            )
        if errors or identity is None:
            errors.sort(key=lambda p: self.order.get(p.column or "", -1))
            return None, errors
        return CheckedRow(line, identity, cohort_ids, qpv_id, consent), []

    def _identity(self, line: int, cells: Sequence[str], errors: list[Problem]) -> Identity | None:
        """``clean_identity``, reporting every wrong field of the line rather than the first."""
        sheet = self.sheet
        birth_text = sheet.cell(cells, "date_naissance")
        birth = _parse_date(birth_text) if birth_text else None
        if birth_text and birth is None:
            errors.append(
                Problem(
                    line,
                    self.headers["date_naissance"],
                    N_("Write the date as DD/MM/YYYY or YYYY-MM-DD."),
                )
            )
        raw = Identity(
            last_name=sheet.cell(cells, "nom"),
            first_name=sheet.cell(cells, "prenom"),
            birth_date=birth,
            phone=sheet.cell(cells, "telephone") or None,
            email=sheet.cell(cells, "email") or None,
            address=sheet.cell(cells, "adresse") or None,
        )
        for _ in _FIELD_COLUMN:
            try:
                return clean_identity(raw, self.lookups.today, self.lookups.identity_checks)
            except InvalidInput as exc:
                name = exc.field or "last_name"
                column = self.headers.get(_FIELD_COLUMN.get(name, ""), None)
                params = {k: v if isinstance(v, int) else str(v) for k, v in exc.params.items()}
                errors.append(Problem(line, column, exc.message, params))
                stand_in: Any = _PLACEHOLDER.get(name)
                raw = replace(raw, **{name: stand_in})
        return None

    def _qpv_id(self, line: int, cells: Sequence[str], errors: list[Problem]) -> int | None:
        code = self.sheet.cell(cells, "code_qpv")
        if not code:
            return None
        qpv = self.lookups.qpvs.get(code.casefold())
        if qpv is None:
            errors.append(
                Problem(
                    line,
                    self.headers["code_qpv"],
                    N_(
                        "Unknown QPV code %(code)s: an administrator adds the QPVs of the territory."
                    ),
                    {"code": code},
                )
            )
            return None
        return qpv.id


def _parse_date(text: str) -> date | None:
    """A date written DD/MM/YYYY or YYYY-MM-DD (a midnight time is tolerated), else None."""
    text = _MIDNIGHT.sub("", text.strip())
    match = _FR_DATE.fullmatch(text)
    try:
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
        match = _ISO_DATE.fullmatch(text)
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
    return None


def _parse_cohorts(cell: str, lookups: _Lookups) -> tuple[tuple[int, ...], list[_Issue]]:
    """Cohort codes or labels separated by | or , (a label holding a comma stays whole)."""
    whole = lookups.cohort(cell) if cell else None
    if whole is not None:
        return (whole.id,), []
    ids: list[int] = []
    issues: list[_Issue] = []
    for part in filter(None, (p.strip() for p in re.split(r"[|,]", cell))):
        item = lookups.cohort(part)
        if item is None:
            issues.append(
                _Issue(
                    N_(
                        "Unknown cohort %(value)s: write a code or a label of the list (%(codes)s)."
                    ),
                    {"value": part, "codes": lookups.cohort_codes},
                )
            )
        elif item.id not in ids:
            ids.append(item.id)
    if not ids and not issues:
        issues.append(_Issue(N_("Give at least one cohort."), {}))
    return tuple(ids), issues


def _parse_consent(cell: str, today: date) -> tuple[ConsentInput | None, list[_Issue]]:
    """Empty (no consent), or oral / signé, optionally followed by a date (default today)."""
    if not cell:
        return None, []
    match = _CONSENT.fullmatch(_squash_spaces(cell))
    given_on: date | None = today
    if match and match[2]:
        given_on = _parse_date(match[2])
    if match is None or given_on is None:
        return None, [
            _Issue(N_("Write oral or signé, optionally followed by the date (DD/MM/YYYY)."), {})
        ]
    if given_on > today:
        return None, [_Issue(N_("Consent cannot be dated in the future."), {})]
    method = ConsentMethod.ORAL if match[1].startswith("oral") else ConsentMethod.SIGNED
    return ConsentInput(method=method, given_on=given_on), []


def _squash_spaces(text: str) -> str:
    """Case-folded, without accents, spaces collapsed: how consent cells are compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.split())

"""Importing an existing caseload from a spreadsheet saved as CSV.

The file is read as French spreadsheets write it (``;`` or ``,`` separator, UTF-8 with or
without BOM, or Windows-1252), with French column headers matched whatever their case,
accents and spacing. Every line is checked first, with the rules of ``register_person``
(``clean_identity``, the reference lists, consent dates); one wrong line and nothing at all is
imported, each problem being reported with its line (as the spreadsheet numbers it: the header
is line 1), its column (the header as written in the file) and the reason.

Possible duplicates - within the file, and against the database through the blind indexes -
are warnings, not errors. Candidates the actor's structure follows are decrypted (in the
application, never shown) to confirm the match, and named by pseudonym. The others are not
decrypted: a blind-index match with someone the structure does not follow only says that "a
possible duplicate exists in the network" - never who, nor which structure - and, the indexes
being truncated on purpose, it may be a false alarm. The lookup is audited: one event for the
lookup, one per person decrypted.

The people are then written as ``register_person`` writes them (data key, sealed identity,
cohorts, follow-up, consent, audit events) but in batches: reference lists are read once,
pseudonyms are drawn and checked for the whole file at once, and rows are inserted with one
statement per table and batch (``_Inserts``: an executemany, or a COPY on PostgreSQL). Nothing
here commits: the caller commits once, or rolls back.
"""

from __future__ import annotations

import csv
import functools
import gc
import io
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, NamedTuple, ParamSpec, TypeVar, cast

import psycopg
from sqlalchemy import ColumnElement, Table, bindparam, insert, or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.crypto import DataKey
from app.crypto.blind_index import name_birth_key, normalise_email, normalise_name
from app.domain.audit import AuditAction
from app.domain.pathway import ConsentMethod
from app.domain.people import new_pseudonym
from app.domain.roles import Role
from app.models import (
    Beneficiary,
    Consent,
    FollowUp,
    PersonKey,
    ReferenceItem,
    ReferenceKind,
    Structure,
    User,
    beneficiary_cohorts,
)
from app.models.base import utcnow
from app.services import audit
from app.services.access import followed_ids
from app.services.accounts import find_user
from app.services.duplicates import same_person
from app.services.errors import N_, Forbidden, InvalidInput, NotFound
from app.services.identity import (
    Identity,
    IdentityChecks,
    clean_identity,
    identity_columns,
    open_identity,
)
from app.services.people import ConsentInput
from app.services.structures import reference_items
from app.services.vault import Vault

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILE_MEGABYTES = MAX_FILE_BYTES // (1024 * 1024)
MAX_ROWS = 20_000
BATCH_SIZE = 500
# Values per IN (...) list when looking up blind indexes, pseudonyms or ids: large, for few
# round trips (a file of 10,000 people needs one or two queries of each kind). The blind
# indexes and pseudonyms are written into the SQL text (see ``_in_list``): the blind-index
# lookup holds up to three lists, about 100 kB of SQL, far below SQLite's 1 MB limit.
LOOKUP_CHUNK = 5000

# The purpose written on every audit event of an import. The events themselves are rows of
# the shape ``audit.record`` writes (see ``_audit_row``), chained by ``audit.append_many`` and
# inserted in bulk with the people.
AUDIT_PURPOSE = "import"

# The columns, in the order they are documented, and the headers accepted for each (compared
# once reduced to lower-case letters and digits without accents: "Date de naissance" ->
# "datedenaissance").
COLUMNS = (
    "nom",
    "prenom",
    "date_naissance",
    "telephone",
    "email",
    "adresse",
    "code_qpv",
    "public",
    "consentement",
)
REQUIRED_COLUMNS = ("nom", "prenom", "public")
_ALIASES = {
    "nom": ("nom", "nomdefamille"),
    "prenom": ("prenom",),
    "date_naissance": ("datenaissance", "datedenaissance"),
    "telephone": ("telephone", "tel"),
    "email": ("email", "mail", "courriel", "adresseemail", "adressemail"),
    "adresse": ("adresse", "adressepostale"),
    "code_qpv": ("codeqpv", "qpv"),
    "public": ("public", "publics"),
    "consentement": ("consentement",),
}
_HEADER_TO_COLUMN = {alias: column for column, aliases in _ALIASES.items() for alias in aliases}
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

_FR_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_MIDNIGHT = re.compile(r"[ T]0?0:00(?::00)?$")  # "14/03/2004 00:00" as some exports write dates
_CONSENT = re.compile(r"(orale|oral|signee|signe)(?:\s*:\s*|\s+)?(.*)")
_SEPARATORS = (";", ",", "\t")
_SPREADSHEET_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # .xlsx/.ods (zip), .xls (OLE)

Progress = Callable[[int], None]
_TABLES: dict[type[Any], Table] = {
    model: cast(Table, model.__table__) for model in (Beneficiary, PersonKey, FollowUp, Consent)
}


def _ignore_progress(_done: int) -> None:
    return None


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _pausing_cyclic_gc(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``function`` with Python's cyclic garbage collector paused (then as it was).

    Checking and writing a file keeps tens of thousands of small objects alive at once (the
    lines, identities, rows of each batch): each time enough of them survive, the collector
    traverses every object of the process, several times per file (about a sixth of the
    import's time for 10,000 people). None of these objects is in a reference cycle;
    reference counting frees them all as usual, and the collector runs again afterwards.
    """

    @functools.wraps(function)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if not gc.isenabled():  # already paused (by the caller, or another thread)
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return paused


# -- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """An error or a warning about the file or one of its lines.

    ``line`` is the line number as the spreadsheet shows it (the header is line 1), or
    ``None`` for the file as a whole; ``column`` is the header as written in the file.
    ``message`` is an English msgid, translated where it is shown and filled with ``params``.
    """

    line: int | None
    column: str | None
    message: str
    params: Mapping[str, str | int] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message % dict(self.params) if self.params else self.message


class ImportRejected(InvalidInput):
    """The file as a whole cannot be read or imported (size, encoding, columns...)."""

    code = "import_rejected"

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(N_("The file cannot be imported."), field="file")
        self.problems = list(problems)


@dataclass(frozen=True)
class Sheet:
    """The cells of a CSV file, with its headers resolved to the known columns."""

    headers: tuple[str, ...]
    columns: Mapping[str, int]
    lines: tuple[tuple[int, tuple[str, ...]], ...]

    def __repr__(self) -> str:
        return f"Sheet(columns={sorted(self.columns)}, lines={len(self.lines)})"

    def header(self, column: str) -> str:
        return self.headers[self.columns[column]]

    def cell(self, cells: Sequence[str], column: str) -> str:
        index = self.columns.get(column)
        if index is None or index >= len(cells):
            return ""
        return cells[index].strip()


@dataclass(frozen=True)
class _Row:
    """A valid line, ready to be imported. Holds identity values in clear: never logged."""

    line: int
    identity: Identity
    cohort_ids: tuple[int, ...]
    qpv_id: int | None
    consent: ConsentInput | None

    def __repr__(self) -> str:
        return f"_Row(line={self.line})"


@dataclass
class CheckedImport:
    """The outcome of checking a sheet: the valid rows, or the errors; and the warnings."""

    import_id: uuid.UUID
    total: int
    rows: list[_Row] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    # Blind-index values of each line (by line number), computed once for the duplicate
    # lookup and written as they are.
    indexes: dict[int, dict[str, int]] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"CheckedImport(total={self.total}, errors={len(self.errors)}, "
            f"warnings={len(self.warnings)})"
        )

    @property
    def duplicate_lines(self) -> list[int]:
        return sorted({w.line for w in self.warnings if w.line is not None})


@dataclass(frozen=True)
class ImportResult:
    """What an import did: ``imported`` people out of ``total`` lines, or why not."""

    total: int
    imported: int
    errors: Sequence[Problem] = ()
    warnings: Sequence[Problem] = ()

    @property
    def duplicate_lines(self) -> list[int]:
        return sorted({w.line for w in self.warnings if w.line is not None})

    @property
    def needs_confirmation(self) -> bool:
        """Valid, but held back: possible duplicates were found and not accepted."""
        return not self.errors and bool(self.warnings) and self.imported == 0


# -- reading the file ----------------------------------------------------------------------


def _squash(text: str) -> str:
    """Lower-case letters and digits only, without accents: how headers are compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))


def _decode(data: bytes) -> str:
    if any(data.startswith(magic) for magic in _SPREADSHEET_MAGIC):
        raise ImportRejected(
            [
                Problem(
                    None,
                    None,
                    N_(
                        "This is a spreadsheet file, not a CSV file: in your spreadsheet, "
                        "save it as CSV (separator ; or ,) and send that file."
                    ),
                )
            ]
        )
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise ImportRejected(
        [
            Problem(
                None,
                None,
                N_("The file is not text in UTF-8 or Windows-1252: save it as CSV again."),
            )
        ]
    )


def _first_line(text: str) -> str:
    """The first line with something other than separators and spaces: the header."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end == -1 else end
        line = text[start:end]
        if line.strip(" \t\r;,"):
            return line
        start = end + 1
    return ""


def _separator(text: str) -> str:
    """The separator of the header line: the most frequent of ; , and tab outside quotes."""
    outside = re.sub(r'"[^"]*"', "", _first_line(text))
    counts = {sep: outside.count(sep) for sep in _SEPARATORS}
    best = max(_SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] else ";"


def _too_many_rows() -> ImportRejected:
    return ImportRejected(
        [
            Problem(
                None,
                None,
                N_("The file has more than %(max)d lines to import: split it into several files."),
                {"max": MAX_ROWS},
            )
        ]
    )


def _resolve_headers(
    headers: Sequence[str], header_line: int, lines: Iterable[Sequence[str]]
) -> dict[str, int]:
    problems: list[Problem] = []
    columns: dict[str, int] = {}
    unknown: list[str] = []
    blank: list[int] = []
    for index, header in enumerate(headers):
        if not header.strip():
            blank.append(index)
            continue
        column = _HEADER_TO_COLUMN.get(_squash(header))
        if column is None:
            unknown.append(header.strip())
        elif column in columns:
            problems.append(
                Problem(
                    header_line,
                    header.strip(),
                    N_("The column %(column)s appears twice."),
                    {"column": header.strip()},
                )
            )
        else:
            columns[column] = index
    # Spreadsheets sometimes export empty trailing columns: ignored if they are empty.
    for index in blank:
        if any(index < len(cells) and cells[index].strip() for cells in lines):
            problems.append(
                Problem(
                    header_line,
                    None,
                    N_("Column %(number)d has no header but holds values."),
                    {"number": index + 1},
                )
            )
    if unknown:
        problems.append(
            Problem(
                header_line,
                None,
                N_("Unknown columns: %(columns)s. The expected columns are: %(expected)s."),
                {"columns": ", ".join(unknown), "expected": ", ".join(COLUMNS)},
            )
        )
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        problems.append(
            Problem(
                header_line,
                None,
                N_("Missing required columns: %(columns)s."),
                {"columns": ", ".join(missing)},
            )
        )
    if problems:
        raise ImportRejected(problems)
    return columns


DATABASE_FAILURE = N_(
    "The import stopped on a database error and nothing was imported. Try again in a moment."
)


def too_large() -> Problem:
    """The problem of a file over ``MAX_FILE_BYTES`` (also said by the web layer, which stops
    reading an upload at that size)."""
    return Problem(
        None,
        None,
        N_("The file is larger than %(max)d MB: split it into several files."),
        {"max": MAX_FILE_MEGABYTES},
    )


def read_sheet(data: bytes) -> Sheet:
    """Decode and split a CSV file; ``ImportRejected`` lists what is wrong with it as a whole."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportRejected([too_large()])
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text))
    records: list[tuple[int, tuple[str, ...]]] = []
    headers: tuple[str, ...] | None = None
    header_line = 1
    try:
        for number, cells in enumerate(reader, start=1):
            if headers is None:
                if not any(cell.strip() for cell in cells):
                    continue  # blank lines above the header
                headers = tuple(cells)
                header_line = number
                continue
            if not any(cell.strip() for cell in cells):
                continue  # a blank line keeps its number, but holds no one
            records.append((number, tuple(cells)))
            if len(records) > MAX_ROWS:
                raise _too_many_rows()
    except csv.Error as exc:
        raise ImportRejected(
            [
                Problem(
                    reader.line_num,
                    None,
                    N_("The file cannot be read as CSV near line %(line)d."),
                    {"line": reader.line_num},
                )
            ]
        ) from exc
    if headers is None:
        raise ImportRejected([Problem(None, None, N_("The file is empty."))])
    columns = _resolve_headers(headers, header_line, [cells for _, cells in records])
    if not records:
        raise ImportRejected(
            [Problem(None, None, N_("The file has no line to import below its header."))]
        )
    return Sheet(tuple(h.strip() for h in headers), columns, tuple(records))


# -- checking lines ------------------------------------------------------------------------


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


_Issue = tuple[str, dict[str, str | int]]  # a message and its parameters, before the line is known


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
                (
                    N_(
                        "Unknown cohort %(value)s: write a code or a label of the list (%(codes)s)."
                    ),
                    {"value": part, "codes": lookups.cohort_codes},
                )
            )
        elif item.id not in ids:
            ids.append(item.id)
    if not ids and not issues:
        issues.append((N_("Give at least one cohort."), {}))
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
            (N_("Write oral or signé, optionally followed by the date (DD/MM/YYYY)."), {})
        ]
    if given_on > today:
        return None, [(N_("Consent cannot be dated in the future."), {})]
    method = ConsentMethod.ORAL if match[1].startswith("oral") else ConsentMethod.SIGNED
    return ConsentInput(method=method, given_on=given_on), []


def _squash_spaces(text: str) -> str:
    """Case-folded, without accents, spaces collapsed: how consent cells are compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.split())


def _identity(
    raw: Identity,
    headers: Mapping[str, str],
    line: int,
    today: date,
    checks: IdentityChecks,
    errors: list[Problem],
) -> Identity | None:
    """``clean_identity``, reporting every wrong field of the line rather than the first."""
    for _ in _FIELD_COLUMN:
        try:
            return clean_identity(raw, today, checks)
        except InvalidInput as exc:
            name = exc.field or "last_name"
            column = headers.get(_FIELD_COLUMN.get(name, ""), None)
            params = {k: v if isinstance(v, int) else str(v) for k, v in exc.params.items()}
            errors.append(Problem(line, column, exc.message, params))
            stand_in: Any = _PLACEHOLDER.get(name)
            raw = replace(raw, **{name: stand_in})
    return None


def _check_line(
    sheet: Sheet,
    headers: Mapping[str, str],
    line: int,
    cells: Sequence[str],
    lookups: _Lookups,
    today: date,
) -> tuple[_Row | None, list[Problem]]:
    errors: list[Problem] = []
    if len(cells) > len(sheet.headers) and any(c.strip() for c in cells[len(sheet.headers) :]):
        errors.append(
            Problem(line, None, N_("This line has more cells than the header has columns."))
        )
    birth_text = sheet.cell(cells, "date_naissance")
    birth = _parse_date(birth_text) if birth_text else None
    if birth_text and birth is None:
        errors.append(
            Problem(
                line,
                headers["date_naissance"],
                N_("Write the date as DD/MM/YYYY or YYYY-MM-DD."),
            )
        )
    identity = _identity(
        Identity(
            last_name=sheet.cell(cells, "nom"),
            first_name=sheet.cell(cells, "prenom"),
            birth_date=birth,
            phone=sheet.cell(cells, "telephone") or None,
            email=sheet.cell(cells, "email") or None,
            address=sheet.cell(cells, "adresse") or None,
        ),
        headers,
        line,
        today,
        lookups.identity_checks,
        errors,
    )
    qpv_id: int | None = None
    qpv_code = sheet.cell(cells, "code_qpv")
    if qpv_code:
        qpv = lookups.qpvs.get(qpv_code.casefold())
        if qpv is None:
            errors.append(
                Problem(
                    line,
                    headers["code_qpv"],
                    N_(
                        "Unknown QPV code %(code)s: an administrator adds the QPVs of the territory."
                    ),
                    {"code": qpv_code},
                )
            )
        else:
            qpv_id = qpv.id
    cohort_ids, issues = lookups.cohort_cell(sheet.cell(cells, "public"))
    errors.extend(Problem(line, headers["public"], msg, params) for msg, params in issues)
    consent: ConsentInput | None = None
    if "consentement" in sheet.columns:
        consent, issues = lookups.consent_cell(sheet.cell(cells, "consentement"))
        errors.extend(Problem(line, headers["consentement"], msg, params) for msg, params in issues)
    if errors or identity is None:
        # In the order of the columns of the file, as the spreadsheet shows them.
        order = {header: index for index, header in enumerate(sheet.headers)}
        errors.sort(key=lambda p: order.get(p.column or "", -1))
        return None, errors
    return _Row(line, identity, cohort_ids, qpv_id, consent), []


def import_actor(session: Session, structure: Structure, email: str | None = None) -> User:
    """Who an import from the command line is attributed to.

    The active caseworker ``email`` of ``structure``, or by default its first active
    caseworker (the oldest account); ``NotFound`` when there is none.
    """
    if email:
        user = find_user(session, email)
        if (
            user is None
            or not user.active
            or user.role is not Role.CASEWORKER
            or user.structure_id != structure.id
        ):
            raise NotFound(
                N_("%(email)s is not an active caseworker of the structure %(code)s."),
                field="as",
                email=email,
                code=structure.code,
            )
        return user
    user = session.scalar(
        select(User)
        .where(
            User.structure_id == structure.id,
            User.role == Role.CASEWORKER,
            User.active.is_(True),
        )
        .order_by(User.id)
        .limit(1)
    )
    if user is None:
        raise NotFound(
            N_(
                "The structure %(code)s has no active caseworker to attribute the import to: "
                "create one first."
            ),
            field="structure",
            code=structure.code,
        )
    return user


def _require_caseworker(actor: User) -> int:
    if actor.role is not Role.CASEWORKER or actor.structure_id is None:
        raise Forbidden(N_("Only caseworkers register people."))
    return actor.structure_id


@_pausing_cyclic_gc
def check_sheet(
    session: Session,
    vault: Vault,
    actor: User,
    sheet: Sheet,
    *,
    today: date,
    progress: Progress | None = None,
    deferred_audit: list[dict[str, Any]] | None = None,
) -> CheckedImport:
    """Check every line; if all are valid, look for possible duplicates (audited).

    With ``deferred_audit``, the lookup's audit events are added to that list instead of being
    written: the caller appends them with the rest (see ``import_caseload``).
    """
    _require_caseworker(actor)
    progress = progress or _ignore_progress
    lookups = _Lookups(session, today)
    checked = CheckedImport(import_id=uuid.uuid4(), total=len(sheet.lines))
    headers = {column: sheet.header(column) for column in sheet.columns}
    for done, (line, cells) in enumerate(sheet.lines, start=1):
        row, errors = _check_line(sheet, headers, line, cells, lookups, today)
        if row is not None:
            checked.rows.append(row)
        checked.errors.extend(errors)
        if done % 100 == 0:
            progress(100)
    progress(len(sheet.lines) % 100)
    if checked.errors:
        checked.rows.clear()
        return checked
    checked.warnings = _possible_duplicates(session, vault, actor, checked, today, deferred_audit)
    return checked


# -- possible duplicates -------------------------------------------------------------------


def _row_keys(identity: Identity) -> list[tuple[str, str]]:
    keys = []
    if identity.birth_date:
        keys.append(
            (
                "name_birth",
                name_birth_key(identity.last_name, identity.first_name, identity.birth_date),
            )
        )
    if identity.email:
        keys.append(("email", normalise_email(identity.email)))
    if identity.phone:
        keys.append(("phone", identity.phone))
    return keys


def _chunks(items: Sequence[Any], size: int = LOOKUP_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _in_list(
    column: InstrumentedAttribute[Any], values: Sequence[int] | Sequence[str]
) -> ColumnElement[bool]:
    """``column IN (values)`` with the values written into the SQL text rather than bound.

    Only for values this module makes itself (blind-index integers, pseudonyms of the
    pseudonym alphabet), rendered by the column type's own literal processor. Thousands of
    bound parameters cost more to prepare than the query costs to run (psycopg parses and
    converts each one); thousands of literals cost next to nothing.
    """
    return column.in_(
        bindparam(None, list(values), type_=column.type, expanding=True, literal_execute=True)
    )


_INDEX_COLUMNS = {
    "name_birth": Beneficiary.name_birth_index,
    "email": Beneficiary.email_index,
    "phone": Beneficiary.phone_index,
}


def _candidates(
    session: Session, vault: Vault, wanted: Mapping[str, set[int]]
) -> dict[tuple[str, int], set[uuid.UUID]]:
    """People whose blind index equals one of ``wanted``, by (index name, value).

    The three indexes are looked up together, one query per ``LOOKUP_CHUNK`` values of each.
    """
    found: dict[tuple[str, int], set[uuid.UUID]] = {}
    names = [name for name in _INDEX_COLUMNS if wanted.get(name)]
    if not names:
        return found
    values = {name: sorted(wanted[name]) for name in names}
    columns = [_INDEX_COLUMNS[name] for name in names]
    longest = max(len(v) for v in values.values())
    for start in range(0, longest, LOOKUP_CHUNK):
        tests = [
            _in_list(column, values[name][start : start + LOOKUP_CHUNK])
            for name, column in zip(names, columns, strict=True)
            if start < len(values[name])
        ]
        query = select(Beneficiary.id, *columns).where(
            or_(*tests),
            Beneficiary.index_version == vault.indexer.version,
            Beneficiary.erased_at.is_(None),
        )
        for person_id, *found_values in session.execute(query):
            for name, value in zip(names, found_values, strict=True):
                if value is not None and value in wanted[name]:
                    found.setdefault((name, value), set()).add(person_id)
    return found


def _followed_among(
    session: Session, actor: User, ids: Sequence[uuid.UUID], today: date
) -> set[uuid.UUID]:
    visible: set[uuid.UUID] = set()
    for chunk in _chunks(ids):
        query = followed_ids(actor, today).where(FollowUp.beneficiary_id.in_(chunk))
        visible.update(session.scalars(query))
    return visible


def _open_candidates(
    session: Session, vault: Vault, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[Beneficiary, Identity]]:
    """Decrypt (in the application only, to confirm a match) the people of ``ids``."""
    opened: dict[uuid.UUID, tuple[Beneficiary, Identity]] = {}
    fields = ("last_name", "first_name", "birth_date", "phone", "email")
    for chunk in _chunks(ids):
        # With the keys of the chunk loaded (and held) first, vault.person_key finds each in
        # the identity map instead of querying.
        keys = session.scalars(select(PersonKey).where(PersonKey.beneficiary_id.in_(chunk))).all()
        for person in session.scalars(select(Beneficiary).where(Beneficiary.id.in_(chunk))):
            opened[person.id] = (person, open_identity(vault, session, person, fields))
        del keys
    return opened


def _possible_duplicates(
    session: Session,
    vault: Vault,
    actor: User,
    checked: CheckedImport,
    today: date,
    deferred_audit: list[dict[str, Any]] | None = None,
) -> list[Problem]:
    warnings: list[Problem] = []
    indexer = vault.indexer
    first_line: dict[tuple[str, str], int] = {}
    row_indexes: list[list[tuple[str, int]]] = []
    wanted: dict[str, set[int]] = {name: set() for name in _INDEX_COLUMNS}
    for row in checked.rows:
        keys = _row_keys(row.identity)
        # Within the file: the same normalised name and birth date, e-mail or phone.
        earlier = [first_line[key] for key in keys if key in first_line]
        for key in keys:
            first_line.setdefault(key, row.line)
        if earlier:
            warnings.append(
                Problem(
                    row.line,
                    None,
                    N_("Possibly the same person as line %(other)d."),
                    {"other": min(earlier)},
                )
            )
        # Against the database: the blind indexes these values would get.
        values = [(name, indexer.compute(name, key)) for name, key in keys]
        row_indexes.append(values)
        checked.indexes[row.line] = dict(values)
        for name, value in values:
            wanted[name].add(value)
    in_file = len(warnings)
    candidates = _candidates(session, vault, wanted)
    every_candidate = sorted({pid for ids in candidates.values() for pid in ids})
    visible = _followed_among(session, actor, every_candidate, today) if every_candidate else set()
    # Every candidate is decrypted to confirm the match, as registration does (the truncated
    # indexes give false candidates by design); only the actor's own matches are named.
    opened = _open_candidates(session, vault, every_candidate)
    followed_matches = network_matches = 0
    for row, values in zip(checked.rows, row_indexes, strict=True):
        if not candidates:
            break  # no one in the database shares an index with the file
        ids = set().union(*(candidates.get(value, set()) for value in values))
        matches = {pid for pid in ids if same_person(row.identity, opened[pid][1])}
        confirmed = sorted(opened[pid][0].pseudonym for pid in matches if pid in visible)
        if confirmed:
            followed_matches += 1
            warnings.append(
                Problem(
                    row.line,
                    None,
                    N_("Possible duplicate of %(pseudonym)s, already followed by your structure."),
                    {"pseudonym": ", ".join(confirmed)},
                )
            )
        if any(pid not in visible for pid in matches):
            network_matches += 1
            warnings.append(
                Problem(
                    row.line,
                    None,
                    N_("A possible duplicate exists in the network; contact your coordinator."),
                )
            )
    warnings.sort(key=lambda w: w.line or 0)

    events = [
        _audit_row(
            actor,
            AuditAction.DUPLICATE_CHECK,
            "beneficiaries",
            str(pid),
            beneficiary_id=pid,
            import_id=str(checked.import_id),
        )
        for pid in sorted(opened)
    ]
    events.append(
        _audit_row(
            actor,
            AuditAction.DUPLICATE_CHECK,
            "import",
            str(checked.import_id),
            rows=len(checked.rows),
            in_file=in_file,
            candidates=len(every_candidate),
            decrypted=len(opened),
            followed_matches=followed_matches,
            network_matches=network_matches,
        )
    )
    if deferred_audit is not None:
        deferred_audit.extend(events)
    else:
        audit.append_many(session, events)
    return warnings


# -- writing -------------------------------------------------------------------------------


def _audit_row(
    actor: User,
    action: AuditAction,
    subject_type: str,
    subject_id: str,
    *,
    beneficiary_id: uuid.UUID | None = None,
    **data: str | int | None,
) -> dict[str, Any]:
    """An audit event as ``audit.record`` writes it, as a row for a bulk insert."""
    return {
        "actor_id": actor.id,
        "actor_structure_id": actor.structure_id,
        "action": action.value,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "beneficiary_id": beneficiary_id,
        "purpose": AUDIT_PURPOSE,
        "data": data,
    }


_BindProcessor = Callable[[Any], Any]


class _Statement(NamedTuple):
    sql: str
    columns: tuple[str, ...]  # in the order of the statement's parameters
    processors: list[_BindProcessor | None]


class _Inserts:
    """The bulk inserts of one import: one statement per table and batch, little work per row.

    What a Core ``executemany`` does row by row and value by value - convert each value with
    its column type's bind processor (a UUID to text on SQLite, a datetime to its storage
    format, a mapping to JSON...) - is done here column by column, and once per object when
    the rows share a few (the batch's creation time, the consent dates, the ``data`` of the
    audit events...); the statement is compiled once per table. The rows then go to the
    driver:

    - on PostgreSQL (psycopg), with ``COPY ... FROM STDIN`` into the same columns: the rows
      cross in one stream and the server does not run an INSERT per row. Constraints,
      foreign keys and column defaults apply as for an INSERT. A driver error is raised as
      SQLAlchemy raises it (``IntegrityError``...), with the first line of the server's
      message only (``app.extensions`` drops the DETAIL lines of errors raised through the
      engine; a COPY error may also quote the row in a CONTEXT line);
    - elsewhere (SQLite), in one ``executemany`` of the compiled INSERT.

    Same columns, same converters, same transaction as ``session.execute(insert(table),
    rows)``; nothing is committed.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.connection = session.connection()
        self.dialect = self.connection.dialect
        self.copy = self.dialect.name == "postgresql" and self.dialect.driver == "psycopg"
        self._statements: dict[tuple[str, tuple[str, ...]], _Statement] = {}

    def __repr__(self) -> str:
        return f"_Inserts({self.dialect.name}, copy={self.copy})"

    def _statement(self, table: Table, names: tuple[str, ...]) -> _Statement:
        compiled = insert(table).compile(dialect=self.dialect, column_keys=list(names))
        order = tuple(compiled.positiontup) if compiled.positiontup is not None else names
        if compiled.insert_prefetch or set(order) != set(names):
            # A column whose default is computed in Python, missing from the rows: a bug here.
            raise RuntimeError(f"the rows for {table.name} leave out a column with a default")
        processors: list[_BindProcessor | None] = [
            table.c[name].type.dialect_impl(self.dialect).bind_processor(self.dialect)
            for name in order
        ]
        sql = str(compiled)
        if self.copy:
            quote = self.dialect.identifier_preparer
            sql = (
                f"COPY {quote.format_table(table)} "
                f"({', '.join(quote.quote(name) for name in order)}) FROM STDIN"
            )
        return _Statement(sql, order, processors)

    def __call__(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert ``rows`` (mappings with the same keys) into ``table``."""
        if not rows:
            return
        names = tuple(rows[0])
        key = (table.name, names)
        if key not in self._statements:
            self._statements[key] = self._statement(table, names)
        statement = self._statements[key]
        columns: list[list[Any]] = []
        for name, process in zip(statement.columns, statement.processors, strict=True):
            values = [row[name] for row in rows]
            if process is not None:
                distinct = {id(value): value for value in values}
                if len(distinct) * 2 <= len(values):  # shared objects: each converted once
                    converted = {key: process(value) for key, value in distinct.items()}
                    values = [converted[id(value)] for value in values]
                else:
                    values = [process(value) for value in values]
            columns.append(values)
        if self.copy:
            self._copy(statement.sql, zip(*columns, strict=True))
        elif self.dialect.positional:
            self.connection.exec_driver_sql(statement.sql, list(zip(*columns, strict=True)))
        else:
            self.connection.exec_driver_sql(
                statement.sql,
                [
                    dict(zip(statement.columns, values, strict=True))
                    for values in zip(*columns, strict=True)
                ],
            )

    def _copy(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        driver_connection = cast(
            "psycopg.Connection[Any]", self.connection.connection.driver_connection
        )
        try:
            with driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
                for values in rows:
                    copy.write_row(values)
        except psycopg.Error as exc:
            # Only the first line of the server's message (which constraint, which table):
            # DETAIL and CONTEXT lines may quote the values of the row.
            if exc.args and isinstance(exc.args[0], str):
                exc.args = (exc.args[0].split("\n", 1)[0], *exc.args[1:])
            wrapped = DBAPIError.instance(
                sql, None, exc, psycopg.Error, hide_parameters=True, dialect=self.dialect
            )
            if not isinstance(wrapped, DBAPIError):  # pragma: no cover - psycopg errors wrap
                raise
            raise wrapped from exc


def _pseudonyms(session: Session, count: int) -> list[str]:
    """``count`` new pseudonyms, all different and free in the database."""
    drawn: set[str] = set()
    for _ in range(20):
        fresh: set[str] = set()
        while len(fresh) < count - len(drawn):
            candidate = new_pseudonym()
            if candidate not in drawn:
                fresh.add(candidate)
        for chunk in _chunks(sorted(fresh)):
            fresh.difference_update(
                session.scalars(
                    select(Beneficiary.pseudonym).where(_in_list(Beneficiary.pseudonym, chunk))
                )
            )
        drawn.update(fresh)
        if len(drawn) == count:
            return list(drawn)
    raise RuntimeError("could not draw free pseudonyms")  # 20 rounds of collisions: never


def _write_batch(
    inserts: _Inserts,
    vault: Vault,
    actor: User,
    structure_id: int,
    rows: Sequence[_Row],
    pseudonyms: Sequence[str],
    import_id: str,
    today: date,
    indexes: Mapping[int, dict[str, int]],
) -> list[dict[str, Any]]:
    """Insert the rows of one batch; returns its audit events, for the caller to chain."""
    people: list[dict[str, Any]] = []
    keys: list[dict[str, Any]] = []
    cohorts: list[dict[str, Any]] = []
    follow_ups: list[dict[str, Any]] = []
    consents: list[dict[str, Any]] = []
    # The audit events, by their template below, chained one group after the other: the rows
    # of a group share one ``data`` mapping, which ``audit.append_many`` then encodes once.
    events: dict[object, list[dict[str, Any]]] = {}
    month = today.replace(day=1)
    now = utcnow()  # one creation time per batch, rather than a call per row and table
    index_version = vault.indexer.version
    wrap = vault.keys.wrap
    # The audit events of the batch differ only by their subject: each row is a copy of one of
    # these templates (``_audit_row``), the ``data`` mapping being shared (it is only read).
    created = _audit_row(
        actor,
        AuditAction.BENEFICIARY_CREATE,
        Beneficiary.__tablename__,
        "",
        import_id=import_id,
    )
    created["at"] = now
    consented = {
        method: {
            **_audit_row(
                actor, AuditAction.CONSENT_RECORD, Consent.__tablename__, "", method=method.value
            ),
            "at": now,
        }
        for method in ConsentMethod
    }
    for row, pseudonym in zip(rows, pseudonyms, strict=True):
        person_id = uuid.uuid4()
        key = DataKey.generate()
        kek_id, wrapped = wrap(key)
        row_indexes = indexes[row.line]
        # The values ``seal_identity`` writes on a person, straight into the insert.
        person: dict[str, Any] = identity_columns(vault, key, person_id, row.identity)
        person["id"] = person_id
        person["pseudonym"] = pseudonym
        person["qpv_id"] = row.qpv_id
        person["created_month"] = month
        person["created_by_structure_id"] = structure_id
        person["created_at"] = now
        person["index_version"] = index_version
        person["name_birth_index"] = row_indexes.get("name_birth")
        person["email_index"] = row_indexes.get("email")
        person["phone_index"] = row_indexes.get("phone")
        people.append(person)
        keys.append(
            {
                "beneficiary_id": person_id,
                "kek_id": kek_id,
                "wrapped_key": wrapped,
                "created_at": now,
            }
        )
        for cohort_id in row.cohort_ids:
            cohorts.append({"beneficiary_id": person_id, "cohort_id": cohort_id})
        follow_ups.append(
            {
                "id": uuid.uuid4(),
                "beneficiary_id": person_id,
                "structure_id": structure_id,
                "referent_id": actor.id,
                "started_on": today,
                "created_at": now,
            }
        )
        person_id_text = str(person_id)
        events.setdefault(AuditAction.BENEFICIARY_CREATE, []).append(
            {**created, "subject_id": person_id_text, "beneficiary_id": person_id}
        )
        consent = row.consent
        if consent is not None:
            consent_id = uuid.uuid4()
            consents.append(
                {
                    "id": consent_id,
                    "beneficiary_id": person_id,
                    "scope": consent.scope,
                    "method": consent.method,
                    "given_on": consent.given_on,
                    "recorded_by_id": actor.id,
                    "recorded_by_structure_id": structure_id,
                    "created_at": now,
                }
            )
            events.setdefault(consent.method, []).append(
                {
                    **consented[consent.method],
                    "subject_id": str(consent_id),
                    "beneficiary_id": person_id,
                }
            )
    # One statement per table (see ``_Inserts``). (The ORM's bulk insert would leave out the
    # NULL values and split each batch into many statements.)
    inserts(_TABLES[Beneficiary], people)
    inserts(_TABLES[PersonKey], keys)
    inserts(beneficiary_cohorts, cohorts)
    inserts(_TABLES[FollowUp], follow_ups)
    inserts(_TABLES[Consent], consents)
    return [event for group in events.values() for event in group]


@_pausing_cyclic_gc
def import_checked(
    session: Session,
    vault: Vault,
    actor: User,
    checked: CheckedImport,
    *,
    today: date,
    progress: Progress | None = None,
    deferred_audit: Sequence[dict[str, Any]] = (),
) -> int:
    """Write the people of a checked sheet (without errors), in batches; returns how many.

    The audit events (``deferred_audit`` first, then each batch's, then the import's own)
    are chained once, at the end: on PostgreSQL the chain's lock is then held only from that
    moment to the commit, not while the whole file is written.
    """
    structure_id = _require_caseworker(actor)
    if checked.errors:
        raise InvalidInput(N_("The file cannot be imported."), field="file")
    progress = progress or _ignore_progress
    import_id = str(checked.import_id)
    pseudonyms = _pseudonyms(session, len(checked.rows))
    inserts = _Inserts(session)
    events = list(deferred_audit)
    for start in range(0, len(checked.rows), BATCH_SIZE):
        batch = checked.rows[start : start + BATCH_SIZE]
        events += _write_batch(
            inserts,
            vault,
            actor,
            structure_id,
            batch,
            pseudonyms[start : start + BATCH_SIZE],
            import_id,
            today,
            checked.indexes,
        )
        progress(len(batch))
    events.append(
        _audit_row(
            actor,
            AuditAction.IMPORT,
            "import",
            import_id,
            people=len(checked.rows),
            possible_duplicates=len(checked.duplicate_lines),
        )
    )
    audit.append_many(session, events, write=inserts)
    return len(checked.rows)


@_pausing_cyclic_gc
def import_caseload(
    session: Session,
    vault: Vault,
    actor: User,
    data: bytes,
    *,
    today: date,
    allow_duplicates: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Read, check and (if every line is valid) import a CSV file for ``actor``'s structure.

    Nothing is imported when a line is wrong, nor when possible duplicates were found and
    ``allow_duplicates`` is not set (the duplicate lookup is still audited). The caller
    commits; on any exception it rolls back, so an import is never half written.
    """
    _require_caseworker(actor)
    try:
        sheet = read_sheet(data)
    except ImportRejected as exc:
        return ImportResult(total=0, imported=0, errors=exc.problems)
    lookup_events: list[dict[str, Any]] = []
    checked = check_sheet(
        session, vault, actor, sheet, today=today, progress=progress, deferred_audit=lookup_events
    )
    if checked.errors or (checked.warnings and not allow_duplicates):
        audit.append_many(session, lookup_events)  # the duplicate lookup is audited anyway
        if checked.errors:
            return ImportResult(total=checked.total, imported=0, errors=checked.errors)
        return ImportResult(total=checked.total, imported=0, warnings=checked.warnings)
    imported = import_checked(
        session,
        vault,
        actor,
        checked,
        today=today,
        progress=progress,
        deferred_audit=lookup_events,
    )
    return ImportResult(total=checked.total, imported=imported, warnings=checked.warnings)

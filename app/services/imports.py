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
pseudonyms are drawn and checked per batch, and rows are inserted with one statement per table
and batch. Nothing here commits: the caller commits once, or rolls back.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from app.crypto import DataKey
from app.crypto.blind_index import name_birth_key, normalise_email, normalise_name
from app.domain.audit import AuditAction
from app.domain.pathway import ConsentMethod
from app.domain.people import new_pseudonym
from app.domain.roles import Role
from app.models import (
    IDENTITY_FIELDS,
    AuditEvent,
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
from app.services.access import followed_ids
from app.services.accounts import find_user
from app.services.duplicates import same_person
from app.services.errors import N_, Forbidden, InvalidInput, NotFound
from app.services.identity import Identity, clean_identity, open_identity, seal_identity
from app.services.people import ConsentInput
from app.services.structures import reference_items
from app.services.vault import Vault

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILE_MEGABYTES = MAX_FILE_BYTES // (1024 * 1024)
MAX_ROWS = 20_000
BATCH_SIZE = 500
# Values per IN (...) list when looking up blind indexes or ids.
LOOKUP_CHUNK = 500

# The purpose written on every audit event of an import. The events themselves are rows of
# the shape ``audit.record`` writes (see ``_audit_row``), inserted in bulk with the people.
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
    model: cast(Table, model.__table__)
    for model in (Beneficiary, PersonKey, FollowUp, Consent, AuditEvent)
}


def _ignore_progress(_done: int) -> None:
    return None


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
    raw: Identity, headers: Mapping[str, str], line: int, today: date, errors: list[Problem]
) -> Identity | None:
    """``clean_identity``, reporting every wrong field of the line rather than the first."""
    for _ in _FIELD_COLUMN:
        try:
            return clean_identity(raw, today)
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


def check_sheet(
    session: Session,
    vault: Vault,
    actor: User,
    sheet: Sheet,
    *,
    today: date,
    progress: Progress | None = None,
) -> CheckedImport:
    """Check every line; if all are valid, look for possible duplicates (audited)."""
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
    checked.warnings = _possible_duplicates(session, vault, actor, checked, today)
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


_INDEX_COLUMNS = {
    "name_birth": Beneficiary.name_birth_index,
    "email": Beneficiary.email_index,
    "phone": Beneficiary.phone_index,
}


def _candidates(
    session: Session, vault: Vault, wanted: Mapping[str, set[int]]
) -> dict[tuple[str, int], set[uuid.UUID]]:
    """People whose blind index equals one of ``wanted``, by (index name, value)."""
    found: dict[tuple[str, int], set[uuid.UUID]] = {}
    for name, values in wanted.items():
        column = _INDEX_COLUMNS[name]
        for chunk in _chunks(sorted(values)):
            query = select(Beneficiary.id, column).where(
                column.in_(chunk),
                Beneficiary.index_version == vault.indexer.version,
                Beneficiary.erased_at.is_(None),
            )
            for person_id, value in session.execute(query):
                if value is not None:
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
    session: Session, vault: Vault, actor: User, checked: CheckedImport, today: date
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
    session.execute(insert(_TABLES[AuditEvent]), events)
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


class _ImportVault(Vault):
    """The application's vault, which also knows the data keys of the people being written.

    ``seal_identity`` asks the vault for the person's key; the keys of this batch are not in
    the database yet, so they are handed over from memory.
    """

    def __init__(self, vault: Vault) -> None:  # shares the key ring and indexer, no new keys
        self.keys = vault.keys
        self.indexer = vault.indexer
        self.fresh: dict[uuid.UUID, DataKey] = {}

    def person_key(self, session: Session, person_id: uuid.UUID) -> DataKey:
        key = self.fresh.get(person_id)
        return key if key is not None else super().person_key(session, person_id)


class _Sealed:
    """What ``seal_identity`` writes on a person (ciphertexts, blind indexes, birth year).

    A plain object rather than a transient ``Beneficiary``: the values go into a bulk insert,
    and the ORM's attribute tracking would only slow each of them down.
    """

    def __init__(self, person_id: uuid.UUID) -> None:
        self.id = person_id

    def __repr__(self) -> str:
        return f"_Sealed({self.id})"


_SEALED_COLUMNS = (
    *IDENTITY_FIELDS,
    "index_version",
    "name_birth_index",
    "email_index",
    "phone_index",
    "birth_year",
)


def _pseudonyms(session: Session, count: int, taken: set[str]) -> list[str]:
    """``count`` new pseudonyms, free in the database and in this import."""
    drawn: list[str] = []
    for _ in range(20):
        fresh: set[str] = set()
        while len(fresh) < count - len(drawn):
            candidate = new_pseudonym()
            if candidate not in taken:
                fresh.add(candidate)
        used = set(
            session.scalars(select(Beneficiary.pseudonym).where(Beneficiary.pseudonym.in_(fresh)))
        )
        for pseudonym in fresh - used:
            drawn.append(pseudonym)
            taken.add(pseudonym)
        if len(drawn) == count:
            return drawn
    raise RuntimeError("could not draw free pseudonyms")  # 20 rounds of collisions: never


def _write_batch(
    session: Session,
    vault: _ImportVault,
    actor: User,
    structure_id: int,
    rows: Sequence[_Row],
    pseudonyms: Sequence[str],
    import_id: str,
    today: date,
    indexes: Mapping[int, dict[str, int]],
) -> None:
    people: list[dict[str, Any]] = []
    keys: list[dict[str, Any]] = []
    cohorts: list[dict[str, Any]] = []
    follow_ups: list[dict[str, Any]] = []
    consents: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    month = today.replace(day=1)
    now = utcnow()  # one creation time per batch, rather than a call per row and table
    for row, pseudonym in zip(rows, pseudonyms, strict=True):
        person_id = uuid.uuid4()
        key = DataKey.generate()
        kek_id, wrapped = vault.keys.wrap(key)
        vault.fresh[person_id] = key
        person = _Sealed(person_id)
        seal_identity(
            vault, session, cast(Beneficiary, person), row.identity, indexes=indexes.get(row.line)
        )
        del vault.fresh[person_id]
        people.append(
            {
                "id": person_id,
                "pseudonym": pseudonym,
                "qpv_id": row.qpv_id,
                "created_month": month,
                "created_by_structure_id": structure_id,
                "created_at": now,
                **{name: getattr(person, name) for name in _SEALED_COLUMNS},
            }
        )
        keys.append(
            {
                "beneficiary_id": person_id,
                "kek_id": kek_id,
                "wrapped_key": wrapped,
                "created_at": now,
            }
        )
        cohorts.extend({"beneficiary_id": person_id, "cohort_id": c} for c in row.cohort_ids)
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
        events.append(
            _audit_row(
                actor,
                AuditAction.BENEFICIARY_CREATE,
                Beneficiary.__tablename__,
                str(person_id),
                beneficiary_id=person_id,
                import_id=import_id,
            )
        )
        if row.consent is not None:
            consent_id = uuid.uuid4()
            consents.append(
                {
                    "id": consent_id,
                    "beneficiary_id": person_id,
                    "scope": row.consent.scope,
                    "method": row.consent.method,
                    "given_on": row.consent.given_on,
                    "recorded_by_id": actor.id,
                    "recorded_by_structure_id": structure_id,
                    "created_at": now,
                }
            )
            events.append(
                _audit_row(
                    actor,
                    AuditAction.CONSENT_RECORD,
                    Consent.__tablename__,
                    str(consent_id),
                    beneficiary_id=person_id,
                    method=row.consent.method.value,
                )
            )
    # Core inserts (one executemany per table): the ORM's bulk insert would leave out the
    # NULL values and split each batch into many statements.
    session.execute(insert(_TABLES[Beneficiary]), people)
    session.execute(insert(_TABLES[PersonKey]), keys)
    session.execute(insert(beneficiary_cohorts), cohorts)
    session.execute(insert(_TABLES[FollowUp]), follow_ups)
    if consents:
        session.execute(insert(_TABLES[Consent]), consents)
    session.execute(insert(_TABLES[AuditEvent]), events)


def import_checked(
    session: Session,
    vault: Vault,
    actor: User,
    checked: CheckedImport,
    *,
    today: date,
    progress: Progress | None = None,
) -> int:
    """Write the people of a checked sheet (without errors), in batches; returns how many."""
    structure_id = _require_caseworker(actor)
    if checked.errors:
        raise InvalidInput(N_("The file cannot be imported."), field="file")
    progress = progress or _ignore_progress
    import_vault = _ImportVault(vault)
    taken: set[str] = set()
    import_id = str(checked.import_id)
    for batch in _chunks(checked.rows, BATCH_SIZE):
        pseudonyms = _pseudonyms(session, len(batch), taken)
        _write_batch(
            session,
            import_vault,
            actor,
            structure_id,
            batch,
            pseudonyms,
            import_id,
            today,
            checked.indexes,
        )
        progress(len(batch))
    session.execute(
        insert(_TABLES[AuditEvent]),
        [
            _audit_row(
                actor,
                AuditAction.IMPORT,
                "import",
                import_id,
                people=len(checked.rows),
                possible_duplicates=len(checked.duplicate_lines),
            )
        ],
    )
    return len(checked.rows)


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
    checked = check_sheet(session, vault, actor, sheet, today=today, progress=progress)
    if checked.errors:
        return ImportResult(total=checked.total, imported=0, errors=checked.errors)
    if checked.warnings and not allow_duplicates:
        return ImportResult(total=checked.total, imported=0, warnings=checked.warnings)
    imported = import_checked(session, vault, actor, checked, today=today, progress=progress)
    return ImportResult(total=checked.total, imported=imported, warnings=checked.warnings)

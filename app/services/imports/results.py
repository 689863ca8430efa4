"""What each step of an import hands to the next one, and what the caller gets back.

``Problem`` is an error or a warning with its place in the file; ``CheckedImport`` is a
checked sheet (valid rows and their blind indexes, or the errors; the warnings);
``ImportResult`` is what an import did.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from app.services.errors import N_, InvalidInput
from app.services.people.identity import Identity
from app.services.people.lookup import LookupValue
from app.services.people.registration import ConsentInput

# Called with how many more lines were checked, or people written, since the last call.
Progress = Callable[[int], None]

DATABASE_FAILURE = N_(
    "The import stopped on a database error and nothing was imported. Try again in a moment."
)


class ImportFailed(Exception):
    """The database refused the import's writes. The caller rolls back, so nothing is written;
    ``kind`` names the database error's type, never its message (which may quote values)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def ignore_progress(_done: int) -> None:
    return None


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
class CheckedRow:
    """A valid line, ready to be imported. Holds identity values in clear: never logged."""

    line: int
    identity: Identity
    cohort_ids: tuple[int, ...]
    qpv_id: int | None
    consent: ConsentInput | None

    def __repr__(self) -> str:
        return f"CheckedRow(line={self.line})"


class BlindIndexes(NamedTuple):
    """The duplicate indexes of one line: for each combination it has (name and birth date,
    e-mail, phone), its narrow blind index (written on the person, asked by registrations and
    searches) and its wide lookup index (``app/services/people/lookup.py``)."""

    values: tuple[LookupValue, ...] = ()


@dataclass
class CheckedImport:
    """The outcome of checking a sheet: the valid rows, or the errors; and the warnings."""

    import_id: uuid.UUID
    total: int
    rows: list[CheckedRow] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    # Blind-index values of each line (by line number), computed once for the duplicate
    # lookup and written as they are.
    indexes: dict[int, BlindIndexes] = field(default_factory=dict)

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
    """What an import did: ``imported`` people out of ``total`` lines, or why not;
    ``import_id`` names an import that was written (its audit event's subject)."""

    total: int
    imported: int
    errors: Sequence[Problem] = ()
    warnings: Sequence[Problem] = ()
    import_id: uuid.UUID | None = None

    @property
    def duplicate_lines(self) -> list[int]:
        return sorted({w.line for w in self.warnings if w.line is not None})

    @property
    def needs_confirmation(self) -> bool:
        """Valid, but held back: possible duplicates were found and not accepted."""
        return not self.errors and bool(self.warnings) and self.imported == 0


@dataclass(frozen=True)
class PastImport:
    """An import written earlier, as its audit event tells it (for its result page)."""

    import_id: uuid.UUID
    imported: int
    possible_duplicates: int

"""Reading one record of a data·inclusion file, field by field, keeping every problem.

A record comes from JSON (typed values) or from CSV (text cells: arrays and objects as JSON,
arrays also as comma-separated codes, booleans as ``true``/``false``, empty cell for null).
Each accessor returns the value or None and notes what is wrong, so that a whole file is
checked before anything is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.domain.numbers import DATABASE_INT_MAX, read_int


@dataclass(frozen=True)
class ImportProblem:
    """What is wrong with a record: ``where`` is ``structures[3]`` (0-based), ``field`` the
    data·inclusion field, ``reason`` in plain words."""

    where: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.reason}"


class RecordReader:
    def __init__(self, where: str, raw: dict[str, Any], problems: list[ImportProblem]) -> None:
        self.where = where
        self.raw = raw
        self.problems = problems

    def problem(self, field: str, reason: str) -> None:
        self.problems.append(ImportProblem(self.where, field, reason))

    def _value(self, name: str) -> Any:
        value = self.raw.get(name)
        return None if value == "" else value

    def text(self, name: str, *, required: bool = False, limit: int = 4000) -> str | None:
        value = self._value(name)
        if value is None:
            if required:
                self.problem(name, "missing")
            return None
        if not isinstance(value, str):
            self.problem(name, "must be text")
            return None
        if len(value) > limit:
            self.problem(name, f"longer than {limit} characters")
            return None
        return value.strip()

    def day(self, name: str, *, required: bool = False) -> date | None:
        value = self.text(name, required=required, limit=10)
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.problem(name, "must be a date written YYYY-MM-DD")
            return None

    def integer(self, name: str) -> int | None:
        """A whole number: a JSON number, or ASCII digits in a text (``app.domain.numbers``),
        within the database's integer range; a problem otherwise."""
        value = self._value(name)
        if value is None:
            return None
        found: int | None = None
        if isinstance(value, str):
            found = read_int(value, minimum=0)
        elif isinstance(value, int) and not isinstance(value, bool):
            found = value if abs(value) <= DATABASE_INT_MAX else None
        if found is None:
            self.problem(name, "must be a whole number")
        return found

    def flag(self, name: str) -> bool | None:
        value = self._value(name)
        if isinstance(value, str):
            value = {"true": True, "false": False, "1": True, "0": False}.get(value.lower(), value)
        if value is None or isinstance(value, bool):
            return value
        self.problem(name, "must be true or false")
        return None

    def strings(self, name: str) -> list[str]:
        """An array of strings (in CSV: a JSON array, or values separated by commas)."""
        value = self._value(name)
        if value is None:
            return []
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    value = json.loads(text)
                except json.JSONDecodeError:
                    self.problem(name, "is not a valid JSON array")
                    return []
            else:
                value = [part.strip() for part in text.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(name, "must be an array of strings")
            return []
        return [v.strip() for v in value]

    def choices(self, name: str, allowed: set[str]) -> list[str]:
        values = self.strings(name)
        unknown = sorted(set(values) - allowed)
        if unknown:
            self.problem(name, f"unknown value(s): {', '.join(unknown)}")
            return []
        return values

    def mapping(self, name: str) -> dict[str, Any] | None:
        """A JSON object (in CSV, written as JSON in the cell)."""
        value = self._value(name)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                self.problem(name, "is not a valid JSON object")
                return None
        if value is None or isinstance(value, dict):
            return value
        self.problem(name, "must be an object")
        return None

    def nested(self, name: str) -> RecordReader | None:
        """A reader over the object ``name``, whose problems are named ``name.field``."""
        value = self.mapping(name)
        if value is None:
            return None
        return _NestedReader(self, name, value)


class _NestedReader(RecordReader):
    def __init__(self, parent: RecordReader, prefix: str, raw: dict[str, Any]) -> None:
        super().__init__(parent.where, raw, parent.problems)
        self.prefix = prefix

    def problem(self, field: str, reason: str) -> None:
        super().problem(f"{self.prefix}.{field}", reason)

"""A directory file on disk: one JSON document, or CSV tables (structures and services).

Relais writes data·inclusion v1 (the columns of the package's models, and ``relais``); it
reads v1 and v0 (``schema.version_of``). In CSV, arrays and objects are written as JSON in
their cell and null as an empty cell; the import reads them back with ``RecordReader``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from app.services.directory.interop.records import ImportProblem
from app.services.directory.interop.schema import (
    FILES,
    SCHEMA,
    SERVICE_FIELDS,
    STRUCTURE_FIELDS,
    DirectoryFile,
    DirectoryImportError,
)
from app.services.safe_csv import csv_text, restore_cell

# -- writing ---------------------------------------------------------------------------------


def to_json(data: DirectoryFile) -> str:
    document = {"schema": SCHEMA, "structures": data.structures, "services": data.services}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def to_csv(records: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    """A CSV table: arrays and objects as JSON in their cell, empty cells for null; text a
    spreadsheet would run as a formula is neutralised (``app.services.safe_csv``), and read
    back as it was by ``read_directory_file``."""
    lines = ([_cell(record.get(name)) for name in columns] for record in records)
    return csv_text([list(columns), *lines], lineterminator="\n")


def write_csv(data: DirectoryFile, folder: Path) -> list[Path]:
    """``structures.csv`` and ``services.csv`` in ``folder`` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / name for name in FILES]
    paths[0].write_text(to_csv(data.structures, STRUCTURE_FIELDS), encoding="utf-8")
    paths[1].write_text(to_csv(data.services, SERVICE_FIELDS), encoding="utf-8")
    return paths


# -- reading ---------------------------------------------------------------------------------


def _read_csv(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return [
            {name: restore_cell(v) if isinstance(v, str) else v for name, v in row.items()}
            for row in csv.DictReader(stream)
        ]


def _file_problem(path: Path, reason: str) -> DirectoryImportError:
    return DirectoryImportError([ImportProblem(str(path), "file", reason)])


def _read_folder(path: Path) -> DirectoryFile:
    structures = path / FILES[0]
    if not structures.is_file():
        raise _file_problem(path, f"no {FILES[0]} in this folder")
    services = path / FILES[1]
    return DirectoryFile(_read_csv(structures), _read_csv(services) if services.is_file() else [])


def _from_json(path: Path, document: Any) -> DirectoryFile:
    """The records of a JSON document: ``{"structures": [...], "services": [...]}`` or a bare
    list of structures."""
    if isinstance(document, list):
        document = {"structures": document}
    if not isinstance(document, dict) or not isinstance(document.get("structures"), list):
        raise _file_problem(path, 'a JSON file holds {"structures": [...], "services": [...]}')
    listed = document.get("services") or []
    if not isinstance(listed, list):
        raise _file_problem(path, "services are a list of objects")
    if not all(isinstance(r, dict) for r in [*document["structures"], *listed]):
        raise _file_problem(path, "structures and services are lists of objects")
    schema = document.get("schema")
    return DirectoryFile(
        list(document["structures"]), list(listed), schema if isinstance(schema, str) else None
    )


def read_directory_file(path: Path) -> DirectoryFile:
    """A JSON file, a folder holding ``structures.csv`` (and ``services.csv``), or one CSV file
    of structures. Raises ``DirectoryImportError`` when it cannot be read, or lists no
    structure (an empty file, a CSV header alone, ``[]``): an import of nothing is a mistake."""
    try:
        if path.is_dir():
            data, where = _read_folder(path), path / FILES[0]
        elif path.suffix.lower() == ".csv":
            data, where = DirectoryFile(_read_csv(path), []), path
        else:
            data, where = _from_json(path, json.loads(path.read_text(encoding="utf-8-sig"))), path
        if not data.structures:
            raise _file_problem(where, f"{_no_structure(where)}: nothing to import")
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise _file_problem(path, f"cannot be read ({type(exc).__name__})") from exc
    except json.JSONDecodeError as exc:
        raise _file_problem(path, f"is not valid JSON (line {exc.lineno})") from exc
    return data


def _no_structure(where: Path) -> str:
    if where.suffix.lower() != ".csv":
        return "lists no structure"
    if not where.read_text(encoding="utf-8-sig").strip():
        return "is empty"
    return "has no structure below its header line (one line per structure)"

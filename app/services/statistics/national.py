"""The national layer: territories' signed publications gathered into national tables.

``flask --app app statistics gather FILE...`` reads each territory's file
(``publication.py``), checks it - a Relais publication of a format version this Relais reads,
signed by a key the instance trusts for that territory (``RELAIS_TRUSTED_PUBLICATION_KEYS``),
every table of the national catalogue, published with a threshold at least the instance's -
checks that the files go together (one per territory, the same period and parameters), and
adds them up, family by family, with ``app.domain.disclosure_merge``: a value hidden in one
territory is hidden nationally, then the family's secondary suppression runs on the national
tables. Every refusal is a ``PublicationRefused`` whose message names the file and the reason.

The national tables are written as a publication of the same format (``territory``: the
gathering instance's, ``gathered_from``: the territories and the SHA-256 of their documents),
which a higher layer can gather again, and/or as CSV files (``national_csv``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy.orm import Session

from app.crypto.signing import ALGORITHM, BadSignature, VerifyKey
from app.domain.audit import AuditAction
from app.domain.disclosure import ProtectedTable
from app.domain.disclosure_links import Link
from app.domain.disclosure_merge import MergeError, check_published, merge_list, merge_tables
from app.services.safe_csv import Cell
from app.services.security import audit
from app.services.statistics.publication import (
    FORMAT,
    FORMAT_VERSION,
    NATIONAL_FAMILIES,
    NATIONAL_LISTS,
    NATIONAL_TABLES,
    NationalFamily,
    NationalShare,
    digest,
)


class PublicationRefused(Exception):
    """A file that cannot be gathered, or files that do not go together (the message says
    which and why)."""


@dataclass(frozen=True)
class TerritoryFile:
    """A checked publication: who made it, for which period, and its tables by name."""

    source: str  # the file's name, for messages
    territory: str
    period: tuple[str, str]
    threshold: int
    parameters: Mapping[str, Any]
    tables: Mapping[str, Mapping[str, Any]]
    sha256: str


def read_publication(
    raw: bytes, source: str, trusted: Mapping[str, Sequence[VerifyKey]], k: int
) -> TerritoryFile:
    """Check one file (see the module); ``PublicationRefused`` naming ``source`` otherwise."""
    try:
        envelope = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PublicationRefused(f"{source}: not a JSON file") from exc
    if not isinstance(envelope, dict) or not isinstance(envelope.get("publication"), dict):
        raise PublicationRefused(f"{source}: not a Relais publication")
    document: dict[str, Any] = envelope["publication"]
    if document.get("format") != FORMAT:
        raise PublicationRefused(f"{source}: not a Relais publication")
    if document.get("format_version") != FORMAT_VERSION:
        raise PublicationRefused(
            f"{source}: format version {document.get('format_version')!r} is not supported "
            f"(this Relais reads version {FORMAT_VERSION})"
        )
    territory = document.get("territory")
    if not isinstance(territory, str) or not territory:
        raise PublicationRefused(f"{source}: the file names no territory")
    _check_signature(envelope.get("signature"), document, source, territory, trusted)
    threshold = document.get("threshold")
    if not isinstance(threshold, int) or threshold < k:
        raise PublicationRefused(
            f"{source}: {territory} published with a threshold of {threshold}, below this "
            f"instance's {k} (RELAIS_SMALL_COUNT_THRESHOLD): its small counts cannot be "
            "hidden any more"
        )
    parameters = document.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise PublicationRefused(f"{source}: the parameters are malformed")
    return TerritoryFile(
        source=source,
        territory=territory,
        period=_period(document, source),
        threshold=threshold,
        parameters=parameters,
        tables=_tables(document, source, k),
        sha256=digest(document),
    )


def _check_signature(
    signature: Any,
    document: dict[str, Any],
    source: str,
    territory: str,
    trusted: Mapping[str, Sequence[VerifyKey]],
) -> None:
    keys = trusted.get(territory)
    if not keys:
        raise PublicationRefused(
            f"{source}: no trusted key for the territory {territory!r} "
            "(RELAIS_TRUSTED_PUBLICATION_KEYS)"
        )
    if not isinstance(signature, dict) or signature.get("algorithm") != ALGORITHM:
        raise PublicationRefused(f"{source}: the file is not signed (Ed25519)")
    matching = [key for key in keys if key.key_id == signature.get("key_id")]
    if not matching:
        raise PublicationRefused(
            f"{source}: signed with the key {signature.get('key_id')!r}, which is not a "
            f"trusted key of {territory!r}"
        )
    try:
        matching[0].verify(document, str(signature.get("value", "")))
    except BadSignature as exc:
        raise PublicationRefused(
            f"{source}: the signature does not verify: the file was changed after it was signed"
        ) from exc


def _period(document: dict[str, Any], source: str) -> tuple[str, str]:
    period = document.get("period")
    if not isinstance(period, dict):
        raise PublicationRefused(f"{source}: the file gives no period")
    start, end = period.get("start"), period.get("end")
    if not isinstance(start, str) or not isinstance(end, str):
        raise PublicationRefused(f"{source}: the file gives no period")
    return start, end


def _tables(document: dict[str, Any], source: str, k: int) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    tables = document.get("tables")
    if not isinstance(tables, list):
        raise PublicationRefused(f"{source}: the file holds no tables")
    for table in tables:
        name = table.get("name") if isinstance(table, dict) else None
        if name not in (*NATIONAL_TABLES, *NATIONAL_LISTS) or name in found:
            raise PublicationRefused(f"{source}: unexpected table {name!r}")
        _check_table(table, source, k)
        found[name] = table
    missing = [name for name in (*NATIONAL_TABLES, *NATIONAL_LISTS) if name not in found]
    if missing:
        raise PublicationRefused(f"{source}: tables missing: {', '.join(missing)}")
    return found


def _check_table(table: dict[str, Any], source: str, k: int) -> None:
    name, rows, values = table["name"], table.get("rows"), table.get("values")
    columns = table.get("columns") if name in NATIONAL_TABLES else []
    if not _codes(rows) or not _codes(columns) or not isinstance(values, list):
        raise PublicationRefused(f"{source}: the table {name} is malformed")
    rows, columns = cast(list[str], rows), cast(list[str], columns)  # checked by _codes
    try:
        if name in NATIONAL_LISTS:
            if len(values) != len(rows):
                raise MergeError("a list does not have one value per row")
            merge_list([values], k)
        else:
            if len(values) != len(rows) + 1 or any(
                not isinstance(row, list) or len(row) != len(columns) + 1 for row in values
            ):
                raise MergeError("a table does not have one value per heading")
            check_published(values, k)
    except MergeError as exc:
        raise PublicationRefused(f"{source}: the table {name}: {exc}") from exc


def _codes(value: Any) -> bool:
    return (
        isinstance(value, list)
        and all(isinstance(code, str) for code in value)
        and len(set(value)) == len(value)
    )


@dataclass(frozen=True)
class NationalTable:
    name: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]  # empty for a list
    published: ProtectedTable | None  # a table
    values: tuple[int | None, ...] = ()  # a list


def check_together(files: Sequence[TerritoryFile]) -> None:
    """``PublicationRefused`` unless the files are one per territory, of the same period and
    parameters."""
    if not files:
        raise PublicationRefused("no file to gather")
    seen: dict[str, str] = {}
    first = files[0]
    for found in files:
        if found.territory in seen:
            raise PublicationRefused(
                f"{found.source}: the territory {found.territory!r} is in "
                f"{seen[found.territory]} already"
            )
        seen[found.territory] = found.source
        if found.period != first.period:
            raise PublicationRefused(
                f"{found.source}: covers {found.period[0]} to {found.period[1]}, "
                f"{first.source} {first.period[0]} to {first.period[1]}: gather files of "
                "the same period"
            )
        if dict(found.parameters) != dict(first.parameters):
            raise PublicationRefused(
                f"{found.source}: made with other parameters than {first.source} "
                f"({dict(found.parameters)} and {dict(first.parameters)})"
            )


def gather(files: Sequence[TerritoryFile], k: int) -> list[NationalTable]:
    """The national tables of ``files`` (checked together first), family by family."""
    check_together(files)
    found: list[NationalTable] = []
    for family in NATIONAL_FAMILIES:
        found += _gather_family(family, files, k)
    for name in NATIONAL_LISTS:
        rows = _union(found_file.tables[name]["rows"] for found_file in files)
        parts = [_aligned_list(found_file.tables[name], rows) for found_file in files]
        values = merge_list(parts, k)
        found.append(NationalTable(name, rows, (), None, tuple(values)))
    return found


def _gather_family(
    family: NationalFamily, files: Sequence[TerritoryFile], k: int
) -> list[NationalTable]:
    headings = {
        name: (
            _union(found.tables[name]["rows"] for found in files),
            _union(found.tables[name]["columns"] for found in files),
        )
        for name in family.tables
    }
    parts = [
        [_aligned(found.tables[name], *headings[name]) for name in family.tables] for found in files
    ]
    links = [link for share in family.shared for link in _links(family, share, headings)]
    try:
        merged = merge_tables(parts, links, k)
    except (MergeError, ValueError) as exc:
        raise PublicationRefused(f"the tables {', '.join(family.tables)}: {exc}") from exc
    return [
        NationalTable(name, *headings[name], published)
        for name, published in zip(family.tables, merged, strict=True)
    ]


def _union(lines: Iterator[list[str]] | Any) -> tuple[str, ...]:
    """Every heading of the territories, in the order they first come."""
    return tuple(dict.fromkeys(code for line in lines for code in line))


def _aligned(
    table: Mapping[str, Any], rows: tuple[str, ...], columns: tuple[str, ...]
) -> list[list[int | None]]:
    """A territory's table (with its totals) on the national headings: zeros where the
    territory has no such heading (its tables list every heading it has a count under)."""
    values: list[list[int | None]] = table["values"]
    row_of = {code: i for i, code in enumerate(table["rows"])}
    column_of = {code: j for j, code in enumerate(table["columns"])}
    total_row, total_column = len(table["rows"]), len(table["columns"])

    def line(source: int | None) -> list[int | None]:
        if source is None:
            return [0] * (len(columns) + 1)
        found = values[source]
        cells = [found[column_of[c]] if c in column_of else 0 for c in columns]
        return [*cells, found[total_column]]

    return [*(line(row_of.get(code)) for code in rows), line(total_row)]


def _aligned_list(table: Mapping[str, Any], rows: tuple[str, ...]) -> list[int | None]:
    value_of = dict(zip(table["rows"], table["values"], strict=True))
    return [value_of.get(code, 0) for code in rows]


def _links(
    family: NationalFamily,
    share: NationalShare,
    headings: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]],
) -> list[Link]:
    a, b = family.tables.index(share.first), family.tables.index(share.second)
    line = _total_line(headings[share.first], share.first_axis)
    other = dict(_total_line(headings[share.second], share.second_axis))
    if share.heading is not None:
        if share.heading not in other:
            return []  # the heading has no count anywhere: nothing is shared
        return [Link((a, p), (b, other[share.heading])) for _code, p in line]
    if set(other) != {code for code, _p in line}:
        raise PublicationRefused(
            f"the tables {share.first} and {share.second} do not have the same headings"
        )
    return [Link((a, p), (b, other[code])) for code, p in line]


def _total_line(
    headings: tuple[tuple[str, ...], tuple[str, ...]], axis: str
) -> list[tuple[str | None, tuple[int, int]]]:
    rows, columns = headings
    if axis == "columns":
        line = [(code, (len(rows), j)) for j, code in enumerate(columns)]
    else:
        line = [(code, (i, len(columns))) for i, code in enumerate(rows)]
    return [*line, (None, (len(rows), len(columns)))]


def national_document(
    tables: Sequence[NationalTable],
    files: Sequence[TerritoryFile],
    *,
    territory: str,
    k: int,
    now: datetime,
    version: str,
) -> dict[str, Any]:
    """The national tables as a publication of the same format (unsigned)."""
    first = files[0]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "territory": territory,
        "period": {"start": first.period[0], "end": first.period[1]},
        "generated_at": now.isoformat(timespec="seconds"),
        "software_version": version,
        "threshold": k,
        "parameters": dict(first.parameters),
        "gathered_from": [{"territory": f.territory, "sha256": f.sha256} for f in files],
        "tables": [_table_json(table) for table in tables],
    }


def _table_json(table: NationalTable) -> dict[str, Any]:
    if table.published is None:
        return {"name": table.name, "rows": list(table.rows), "values": list(table.values)}
    p = table.published
    values = [[*cells, total] for cells, total in zip(p.cells, p.row_totals, strict=True)]
    values.append([*p.column_totals, p.total])
    return {
        "name": table.name,
        "rows": list(table.rows),
        "columns": list(table.columns),
        "values": values,
    }


def national_csv(table: NationalTable, k: int, territories: int) -> Iterator[list[Cell]]:
    """The lines of a national table's CSV: codes, cells and totals (a hidden value is an
    empty cell), then a line saying what it is."""
    document = _table_json(table)
    if table.published is None:
        yield ["code", "people"]
        for code, value in zip(table.rows, table.values, strict=True):
            yield [code, value]
    else:
        yield ["code", *table.columns, "total"]
        for code, line in zip([*table.rows, "total"], document["values"], strict=True):
            yield [code, *line]
    yield [
        "view",
        f"National publication of {territories} territories: a value hidden in one of them "
        f"is hidden, then a second value wherever a hidden one could be worked out; counts "
        f"from 1 to {k - 1} never appear.",
    ]


def record_gathering(
    session: Session, files: Sequence[TerritoryFile], territory: str, document: dict[str, Any]
) -> None:
    """Audit the gathering (``statistics:gather``): the territories and the documents' hashes."""
    audit.append_many(
        session,
        [
            {
                "action": AuditAction.STATISTICS_GATHER.value,
                "subject_type": "publication",
                "subject_id": territory,
                "purpose": "statistics",
                "data": {
                    "start": files[0].period[0],
                    "end": files[0].period[1],
                    "territories": ",".join(f.territory for f in files),
                    "sha256": digest(document),
                },
            }
        ],
    )

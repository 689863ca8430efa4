"""The national layer: territories' signed publications gathered into national tables.

``flask --app app statistics gather FILE...`` reads each territory's file
(``publication.py``), checks it (``national_files.read_publication``: format, signature by a
trusted key, threshold, tables), checks that the files go together (one per territory, the
same period and parameters), and adds them up, family by family, with ``app.domain.disclosure_merge``: a value hidden in one
territory is hidden nationally, then the family's secondary suppression runs on the national
tables. Every refusal is a ``PublicationRefused`` whose message names the file and the reason.

The national tables are written as a publication of the same format (``territory``: the
gathering instance's, ``gathered_from``: the territories and the SHA-256 of their documents),
which a higher layer can gather again, and/or as CSV files (``national_csv``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.disclosure import ProtectedTable
from app.domain.disclosure_links import Link
from app.domain.disclosure_merge import MergeError, merge_list, merge_tables
from app.services.safe_csv import Cell
from app.services.security import audit
from app.services.statistics.national_files import PublicationRefused as PublicationRefused
from app.services.statistics.national_files import TerritoryFile as TerritoryFile
from app.services.statistics.national_files import read_publication as read_publication
from app.services.statistics.publication import (
    FORMAT,
    FORMAT_VERSION,
    NATIONAL_FAMILIES,
    NATIONAL_LISTS,
    NationalFamily,
    NationalShare,
    digest,
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

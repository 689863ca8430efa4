"""Reading a territory's publication for the national layer: every check before a file is
gathered (``national.py``).

A file is refused, with its name and the reason (``PublicationRefused``), unless it is a
Relais publication of a format version this Relais reads, signed by a key the instance
trusts for its territory (``RELAIS_TRUSTED_PUBLICATION_KEYS``), published with a threshold
(a whole number) at least the instance's, for a period of two days in order, at a time of
generation in ISO 8601, holding every table of the national catalogue - well formed, its
quarter headings quarters of the period, no count from 1 to k-1, its published lines adding
up.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from app.crypto.signing import ALGORITHM, BadSignature, VerifyKey
from app.domain.disclosure_merge import MergeError, check_published, merge_list
from app.domain.periods import quarters_between
from app.services.statistics.publication import (
    FORMAT,
    FORMAT_VERSION,
    NATIONAL_LISTS,
    NATIONAL_TABLES,
    digest,
)

# The tables whose headings along one axis are quarters (``2026-Q3``), and that axis.
QUARTER_HEADINGS = {
    "handoffs-by-quarter": "rows",
    "quarterly-trends": "rows",
    "decisions-by-quarter": "rows",
    "unmet-needs-quarters": "columns",
}


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
    if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1:
        raise PublicationRefused(
            f"{source}: the threshold is not a whole number of 1 or more ({threshold!r})"
        )
    if threshold < k:
        raise PublicationRefused(
            f"{source}: {territory} published with a threshold of {threshold}, below this "
            f"instance's {k} (RELAIS_SMALL_COUNT_THRESHOLD): its small counts cannot be "
            "hidden any more"
        )
    generated_at = document.get("generated_at")
    if not isinstance(generated_at, str) or _moment(generated_at) is None:
        raise PublicationRefused(
            f"{source}: generated_at is not a date and time in ISO 8601 ({generated_at!r})"
        )
    period = _period(document, source)
    return TerritoryFile(
        source=source,
        territory=territory,
        period=period,
        threshold=threshold,
        parameters=_parameters(document, source),
        tables=_tables(document, source, k, _quarters(period)),
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


def _day(text: Any) -> date | None:
    """The day ``text`` writes as ``YYYY-MM-DD`` (as publications write it), else None."""
    if not isinstance(text, str):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if day.isoformat() == text else None


def _moment(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _period(document: dict[str, Any], source: str) -> tuple[str, str]:
    period = document.get("period")
    if not isinstance(period, dict):
        raise PublicationRefused(f"{source}: the file gives no period")
    start, end = period.get("start"), period.get("end")
    if not isinstance(start, str) or not isinstance(end, str):
        raise PublicationRefused(f"{source}: the file gives no period")
    first, last = _day(start), _day(end)
    if first is None or last is None or first > last:
        raise PublicationRefused(
            f"{source}: the period {start!r} to {end!r} is not two days (YYYY-MM-DD), the "
            "first before the last"
        )
    return start, end


def _parameters(document: dict[str, Any], source: str) -> dict[str, Any]:
    """The parameters; the ones Relais writes checked (a day; a number of days)."""
    parameters = document.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise PublicationRefused(f"{source}: the parameters are malformed")
    if "flows_read_on" in parameters and _day(parameters["flows_read_on"]) is None:
        raise PublicationRefused(f"{source}: the parameter flows_read_on is not a day")
    days = parameters.get("lost_from_view_days", 1)
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise PublicationRefused(
            f"{source}: the parameter lost_from_view_days is not a number of days"
        )
    return parameters


def _quarters(period: tuple[str, str]) -> frozenset[str]:
    """The headings of the quarters of ``period`` (checked by ``_period``)."""
    first, last = date.fromisoformat(period[0]), date.fromisoformat(period[1])
    return frozenset(str(quarter) for quarter in quarters_between(first, last))


def _tables(
    document: dict[str, Any], source: str, k: int, quarters: frozenset[str]
) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    tables = document.get("tables")
    if not isinstance(tables, list):
        raise PublicationRefused(f"{source}: the file holds no tables")
    for table in tables:
        name = table.get("name") if isinstance(table, dict) else None
        if name not in (*NATIONAL_TABLES, *NATIONAL_LISTS) or name in found:
            raise PublicationRefused(f"{source}: unexpected table {name!r}")
        _check_table(table, source, k)
        _check_quarters(table, source, quarters)
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


def _check_quarters(table: dict[str, Any], source: str, quarters: frozenset[str]) -> None:
    """The quarter headings (rows, or columns of ``unmet-needs-quarters``) of a table keyed by
    quarter: each a quarter of the file's period."""
    axis = QUARTER_HEADINGS.get(table["name"])
    if axis is None:
        return
    for heading in table.get(axis) or ():
        if heading not in quarters:
            raise PublicationRefused(
                f"{source}: the table {table['name']}: {heading!r} is not a quarter of the "
                "file's period"
            )


def _codes(value: Any) -> bool:
    return (
        isinstance(value, list)
        and all(isinstance(code, str) for code in value)
        and len(set(value)) == len(value)
    )

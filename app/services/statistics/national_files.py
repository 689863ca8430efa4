"""Reading a territory's publication for the national layer: every check before a file is
gathered (``national.py``).

A file is refused, with its name and the reason (``PublicationRefused``), unless it is a
Relais publication of a format version this Relais reads, signed by a key the instance
trusts for its territory (``RELAIS_TRUSTED_PUBLICATION_KEYS``), published with a threshold
at least the instance's, holding every table of the national catalogue - well formed, no
count from 1 to k-1, its published lines adding up.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from app.crypto.signing import ALGORITHM, BadSignature, VerifyKey
from app.domain.disclosure_merge import MergeError, check_published, merge_list
from app.services.statistics.publication import (
    FORMAT,
    FORMAT_VERSION,
    NATIONAL_LISTS,
    NATIONAL_TABLES,
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

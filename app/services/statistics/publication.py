"""A territory's publication for the national layer: its protected tables, signed.

``flask --app app statistics publish`` writes the tables of the publication view that can be
added up across territories (``NATIONAL_FAMILIES``) as one JSON document - format and
version, territory, period, time of generation, version of Relais, threshold, parameters,
tables - signed with the territory's Ed25519 key (``app.crypto.signing``), and audits it.

**Which tables.** Those whose headings mean the same thing in every territory: stages,
barrier categories, decline reasons, pathway types, sources, quarters, states, chain lengths
(codes of the national reference lists, enums). The tables keyed by structure (the hand-off
matrix, by receiving partner, barriers by acting structure, lost from view, delays by
structure) or by QPV (neighbourhoods of one territory), and those whose bands depend on the
day the file is made (the cohort outcomes' "not yet", the delays' "open") are not in it; nor
are medians and shares, which do not add up.

**The same protection as the pages.** Each family is built by its page's own service over the
period (the dashboard's publication view, the decisions, the unmet needs), so every value
hidden in the file is hidden as on the territory's pages; a file holds a subset of each
family, which publishes less (docs/statistics.md, "The CDE report").
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from app.crypto.signing import ALGORITHM, SigningKey, canonical
from app.domain.audit import AuditAction
from app.domain.periods import Quarter
from app.models import ReferenceItem, Structure
from app.services.security import audit
from app.services.statistics.dashboard import View, dashboard
from app.services.statistics.decisions import decisions_by_type
from app.services.statistics.flows import as_of
from app.services.statistics.headings import Label
from app.services.statistics.scope import Scope
from app.services.statistics.tables import CountList, CountTable
from app.services.statistics.unmet_needs import unmet_needs

FORMAT = "relais-publication"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class NationalShare:
    """Totals that two tables of a national family share (as ``tables.Shared``, by name):
    the total line of ``first`` along ``first_axis`` ("columns": its total row; "rows": its
    total column) is that of ``second``, heading by heading; with ``heading``, it is instead
    the one total of ``second``'s line under that heading."""

    first: str
    first_axis: str
    second: str
    second_axis: str
    heading: str | None = None


@dataclass(frozen=True)
class NationalFamily:
    """Tables protected together in a territory, added up and protected together nationally."""

    tables: tuple[str, ...]
    shared: tuple[NationalShare, ...] = ()


NATIONAL_FAMILIES = (
    NationalFamily(
        ("handoffs-by-quarter", "decline-reasons"),
        (
            NationalShare(
                "decline-reasons", "columns", "handoffs-by-quarter", "columns", "declined"
            ),
        ),
    ),
    NationalFamily(("barriers-by-category",)),
    NationalFamily(("redirect-chains",)),
    NationalFamily(("stage-flows",)),
    NationalFamily(("quarterly-trends",)),
    NationalFamily(
        ("decisions-by-type", "decisions-by-quarter", "decision-criteria"),
        (
            NationalShare("decisions-by-type", "rows", "decisions-by-quarter", "columns"),
            NationalShare("decision-criteria", "rows", "decisions-by-type", "rows"),
        ),
    ),
    NationalFamily(
        ("unmet-needs-quarters", "unmet-needs-sources"),
        (NationalShare("unmet-needs-quarters", "rows", "unmet-needs-sources", "rows"),),
    ),
)
# Counts that no total sums (one person counts in several rows): published one by one.
NATIONAL_LISTS = ("funnel", "unmet-needs-publics")
NATIONAL_TABLES = tuple(name for family in NATIONAL_FAMILIES for name in family.tables)


@dataclass(frozen=True)
class PublicationSettings:
    """What a publication is made with: the territory's id, the threshold
    (``RELAIS_SMALL_COUNT_THRESHOLD``) and the days of lost from view of the stage flows."""

    territory: str
    k: int
    lost_days: int
    version: str


def heading_code(item: Label) -> str:
    """The code of a row or column heading, the same in every territory."""
    if isinstance(item, Structure | ReferenceItem):
        return item.code
    if isinstance(item, Quarter):
        return str(item)
    if isinstance(item, StrEnum):
        return item.value
    return str(item)


def table_document(table: CountTable | CountList) -> dict[str, Any]:
    """A protected table as the file holds it: headings by code, and the values of the table
    with its totals (rows, then the total row; each with its cells, then its total), ``null``
    for a hidden one; a list has its values only."""
    rows = [heading_code(row) for row in table.rows]
    if isinstance(table, CountList):
        return {"name": table.name, "rows": rows, "values": list(table.values)}
    published = table.published
    values = [
        [*cells, total] for cells, total in zip(published.cells, published.row_totals, strict=True)
    ]
    values.append([*published.column_totals, published.total])
    return {
        "name": table.name,
        "rows": rows,
        "columns": [heading_code(column) for column in table.columns],
        "values": values,
    }


def build_publication(
    session: Session,
    scope: Scope,
    settings: PublicationSettings,
    *,
    today: date,
    now: datetime,
) -> dict[str, Any]:
    """The territory's publication of ``scope``'s period (whole territory), unsigned."""
    board = dashboard(
        session,
        scope,
        k=settings.k,
        view=View.PUBLICATION,
        today=today,
        now=now,
        lost_after_days=settings.lost_days,
    )
    found: Mapping[str, CountTable | CountList] = {
        **board.tables(),
        **decisions_by_type(session, scope, settings.k).tables(),
        **unmet_needs(session, scope, settings.k).tables(),
    }
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "territory": settings.territory,
        "period": {"start": scope.start.isoformat(), "end": scope.end.isoformat()},
        "generated_at": now.isoformat(timespec="seconds"),
        "software_version": settings.version,
        "threshold": settings.k,
        # The stage flows' ends are read on the end of the period, or today before it ends:
        # files of a period not over add up only when read on the same day.
        "parameters": {
            "lost_from_view_days": settings.lost_days,
            "flows_read_on": as_of(scope, today).isoformat(),
        },
        "tables": [table_document(found[name]) for name in (*NATIONAL_TABLES, *NATIONAL_LISTS)],
    }


def signed(document: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    """The file: the document and its signature (algorithm, the key's id, the value)."""
    return {
        "publication": document,
        "signature": {
            "algorithm": ALGORITHM,
            "key_id": key.verify_key.key_id,
            "value": key.sign(document),
        },
    }


def digest(document: Any) -> str:
    """The SHA-256 of a document's canonical form: what the audit event records."""
    return hashlib.sha256(canonical(document)).hexdigest()


def publish(
    session: Session,
    scope: Scope,
    settings: PublicationSettings,
    key: SigningKey,
    *,
    today: date,
    now: datetime,
    reading: Session | None = None,
) -> dict[str, Any]:
    """Build, sign and audit (``statistics:publish``) the territory's publication; the
    tables are read through ``reading`` (the read replica's session) when given."""
    document = build_publication(reading or session, scope, settings, today=today, now=now)
    audit.append_many(
        session,
        [
            {
                "action": AuditAction.STATISTICS_PUBLISH.value,
                "subject_type": "publication",
                "subject_id": settings.territory,
                "purpose": "statistics",
                "data": {
                    "start": document["period"]["start"],
                    "end": document["period"]["end"],
                    "threshold": settings.k,
                    "key": key.verify_key.key_id,
                    "sha256": digest(document),
                },
            }
        ],
    )
    return signed(document, key)

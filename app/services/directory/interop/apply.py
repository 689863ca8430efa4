"""Writing a checked data·inclusion file: structures created or updated, cards replaced.

A v0 file is first mapped to v1 (``v0``), its unmapped values reported. Nothing is written
until the whole file is checked (``parsing``). Cards take the file's dates
(its ``date_maj``, and from a ``relais`` object the day it was checked and the day its free
places were counted), set at noon in Paris; the import itself is the change kept in each
card's history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ReferenceItem, ReferenceKind, Structure, User
from app.services.directory.cards import apply_card, card_snapshot, card_to_edit
from app.services.directory.history import diff, record_change
from app.services.directory.interop.parsing import ParsedStructure, parse_directory
from app.services.directory.interop.schema import DirectoryFile, Unmapped, version_of
from app.services.directory.interop.v0 import v0_to_v1
from app.services.directory.search import PARIS
from app.services.structures import add_reference_item, create_structure


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    services: int = 0
    qpvs_added: list[str] = field(default_factory=list)
    version: str = "v1"
    unmapped: list[Unmapped] = field(default_factory=list)


@dataclass
class CheckedFile:
    """A file checked whole: its schema version, its structures, what could not be mapped."""

    version: str
    structures: list[ParsedStructure]
    unmapped: list[Unmapped]


def check_directory(session: Session, data: DirectoryFile, *, own_source: str) -> CheckedFile:
    """Tell v1 from v0 (mapped to v1 first) and check every record; writes nothing. Raises
    ``DirectoryImportError`` with every problem."""
    version = version_of(data)
    unmapped: list[Unmapped] = []
    if version == "v0":
        data, unmapped = v0_to_v1(data)
    parsed = parse_directory(session, data, own_source=own_source, unmapped=unmapped)
    return CheckedFile(version, parsed, unmapped)


def _at_noon(day: date | None) -> datetime | None:
    return datetime.combine(day, time(12), PARIS) if day else None


def import_directory(
    session: Session, actor: User | None, data: DirectoryFile, *, own_source: str, now: datetime
) -> ImportReport:
    """Check the whole file (v1, or v0 mapped to v1), then create or update each structure and
    its card.

    Raises ``DirectoryImportError`` (nothing written) when any record is wrong. Each card
    changed gets an ``import`` entry in its history. Values that could not be mapped are in
    the report; they are not imported.
    """
    checked = check_directory(session, data, own_source=own_source)
    report = ImportReport(version=checked.version, unmapped=checked.unmapped)
    for p in checked.structures:
        _add_missing_qpvs(session, actor, p, report)
        structure = _structure_to_update(session, actor, p, report)
        _apply(session, actor, structure, p, now)
        report.services += len(p.data.services)
    session.flush()
    return report


def _add_missing_qpvs(
    session: Session, actor: User | None, p: ParsedStructure, report: ImportReport
) -> None:
    """Add to the reference list the QPVs the record names and Relais does not know."""
    for code in sorted(p.data.qpvs):
        if code not in report.qpvs_added and _missing_qpv(session, code):
            fr, en = p.qpvs[code]
            add_reference_item(session, actor, ReferenceKind.QPV, code, fr, en or fr)
            report.qpvs_added.append(code)


def _structure_to_update(
    session: Session, actor: User | None, p: ParsedStructure, report: ImportReport
) -> Structure:
    """The structure of code ``p.code``, created when Relais has none."""
    structure = session.scalar(select(Structure).where(Structure.code == p.code))
    if structure is not None:
        report.updated.append(p.code)
        return structure
    report.created.append(p.code)
    return create_structure(
        session,
        actor,
        code=p.code,
        name=p.data.name or p.code,
        type_code=p.data.type_code or "other",
    )


def _missing_qpv(session: Session, code: str) -> bool:
    query = select(ReferenceItem.id).where(
        ReferenceItem.kind == ReferenceKind.QPV, ReferenceItem.code == code
    )
    return session.scalar(query) is None


def _apply(
    session: Session, actor: User | None, structure: Structure, p: ParsedStructure, now: datetime
) -> None:
    card = card_to_edit(session, structure)
    before = card_snapshot(structure, card)
    apply_card(session, structure, card, p.data)
    session.flush()
    changes = diff(before, card_snapshot(structure, card))
    card.updated_at = _at_noon(p.updated_on) or now
    card.checked_at = _at_noon(p.checked_on)
    card.capacity_updated_at = _at_noon(p.capacity_on)
    card.checked_by_id = None
    card.source, card.source_id = p.source, p.source_id
    structure.updated_at = now
    record_change(session, actor, structure, "import", changes, now=now)

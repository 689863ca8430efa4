"""Importing an existing caseload from a spreadsheet saved as CSV: the use cases.

The file is read (``sheet``), every line is checked with the rules of ``register_person``
(``lines``); one wrong line and nothing at all is imported, each problem being reported with
its line (as the spreadsheet numbers it: the header is line 1), its column (the header as
written in the file) and the reason. Possible duplicates, within the file and in the database,
are then looked up (``duplicates``, audited) and hold the import back unless accepted. The
people are finally written as ``register_person`` writes them, in batches (``writing``).

Nothing here commits: the caller commits once, or rolls back.
"""

from __future__ import annotations

import functools
import gc
import uuid
from collections.abc import Callable, Sequence
from datetime import date
from typing import ParamSpec, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.models import AuditEvent, Structure, User
from app.services.errors import N_, Forbidden, InvalidInput, NotFound
from app.services.imports.audit_rows import AuditRow
from app.services.imports.bulk import BulkInserts
from app.services.imports.duplicates import look_for_duplicates
from app.services.imports.lines import check_lines
from app.services.imports.results import (
    CheckedImport,
    ImportFailed,
    ImportRejected,
    ImportResult,
    PastImport,
    Progress,
    ignore_progress,
)
from app.services.imports.sheet import Sheet, read_sheet
from app.services.imports.writing import write_people
from app.services.people.registration_lock import lock_every_registration
from app.services.security import audit
from app.services.security.accounts import find_user
from app.services.security.vault import Vault

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _pausing_cyclic_gc(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``function`` with Python's cyclic garbage collector paused (then as it was).

    Checking and writing a file keeps tens of thousands of small objects alive at once (the
    lines, identities, rows of each batch): each time enough of them survive, the collector
    traverses every object of the process, several times per file (about a sixth of the
    import's time for 10,000 people). None of these objects is in a reference cycle;
    reference counting frees them all as usual, and the collector runs again afterwards.
    """

    @functools.wraps(function)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if not gc.isenabled():  # already paused (by the caller, or another thread)
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return paused


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
            User.api_client.is_(False),
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


@_pausing_cyclic_gc
def check_sheet(
    session: Session,
    vault: Vault,
    actor: User,
    sheet: Sheet,
    *,
    today: date,
    progress: Progress | None = None,
    deferred_audit: list[AuditRow] | None = None,
) -> CheckedImport:
    """Check every line; if all are valid, look for possible duplicates (audited).

    With ``deferred_audit``, the lookup's audit events are added to that list instead of being
    written: the caller appends them with the rest (see ``import_caseload``).
    """
    _require_caseworker(actor)
    checked = CheckedImport(import_id=uuid.uuid4(), total=len(sheet.lines))
    rows, errors = check_lines(session, sheet, today, progress or ignore_progress)
    if errors:
        checked.errors = errors
        return checked
    checked.rows = rows
    lookup = look_for_duplicates(session, vault, actor, rows, checked.import_id, today)
    checked.warnings = lookup.warnings
    checked.indexes = lookup.indexes
    if deferred_audit is not None:
        deferred_audit.extend(lookup.events)
    else:
        audit.append_many(session, lookup.events, write=BulkInserts(session))
    return checked


@_pausing_cyclic_gc
def import_checked(
    session: Session,
    vault: Vault,
    actor: User,
    checked: CheckedImport,
    *,
    today: date,
    progress: Progress | None = None,
    deferred_audit: Sequence[AuditRow] = (),
) -> int:
    """Write the people of a checked sheet (without errors), in batches; returns how many.

    The audit events (``deferred_audit`` first, then each batch's, then the import's own)
    are chained once, at the end: on PostgreSQL the chain's lock is then held only from that
    moment to the commit, not while the whole file is written.
    """
    structure_id = _require_caseworker(actor)
    if checked.errors:
        raise InvalidInput(N_("The file cannot be imported."), field="file")
    lock_every_registration(session)  # held already if the lookup ran in this transaction
    return write_people(
        session,
        vault,
        actor,
        structure_id,
        checked,
        today=today,
        progress=progress or ignore_progress,
        deferred_audit=deferred_audit,
    )


@_pausing_cyclic_gc
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
    commits; on any exception it rolls back, so an import is never half written. A database
    error while writing raises ``ImportFailed``.
    """
    _require_caseworker(actor)
    try:
        sheet = read_sheet(data)
    except ImportRejected as exc:
        return ImportResult(total=0, imported=0, errors=exc.problems)
    lookup_events: list[AuditRow] = []
    checked = check_sheet(
        session, vault, actor, sheet, today=today, progress=progress, deferred_audit=lookup_events
    )
    if checked.errors or (checked.warnings and not allow_duplicates):
        # The duplicate lookup is audited anyway (its summary, and one event listing the
        # people it decrypted), in bulk as the import's own events.
        audit.append_many(session, lookup_events, write=BulkInserts(session))
        if checked.errors:
            return ImportResult(total=checked.total, imported=0, errors=checked.errors)
        return ImportResult(total=checked.total, imported=0, warnings=checked.warnings)
    try:
        imported = import_checked(
            session,
            vault,
            actor,
            checked,
            today=today,
            progress=progress,
            deferred_audit=lookup_events,
        )
    except SQLAlchemyError as exc:
        raise ImportFailed(type(exc).__name__) from exc
    return ImportResult(
        total=checked.total,
        imported=imported,
        warnings=checked.warnings,
        import_id=checked.import_id,
    )


def past_import(session: Session, actor: User, import_id: str) -> PastImport | None:
    """The import ``import_id`` written by ``actor``'s structure, from its audit event; ``None``
    for anything else (a malformed id, an unknown import, another structure's)."""
    structure_id = _require_caseworker(actor)
    try:
        key = uuid.UUID(import_id)
    except ValueError:
        return None
    event = session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == AuditAction.IMPORT.value,
            AuditEvent.subject_type == "import",
            AuditEvent.subject_id == str(key),
            AuditEvent.actor_structure_id == structure_id,
        )
    )
    if event is None:
        return None
    data = event.data or {}
    return PastImport(key, int(data.get("people") or 0), int(data.get("possible_duplicates") or 0))

"""Erasure by crypto-shredding, the erasure register, and re-applying it after a restore.

Erasing a person (``erase_person``), in the caller's transaction:

1. the hand-offs still waiting for an answer are withdrawn on the person's side (cause
   ``erasure``), their open follow-ups end (reason "person stopped") and their consents are
   marked withdrawn (source ``erasure``): nothing more is recorded about them;
2. their data key is deleted: every ciphertext sealed with it - identity, step actions,
   hand-off notes, transition messages - can no longer be decrypted by anyone, in this
   database or in any copy of it, whatever keys they hold;
3. the ciphertexts themselves are cleared from the live rows (NULL), and the blind indexes too
   (keyed pseudonyms that would still answer "is this person here?");
4. what could still single them out is coarsened: the birth year, sex and education level are
   cleared, and the pseudonym is replaced by a fresh one (the old one is in mails, notes and
   printouts); the QPV, cohorts, month of registration and every dated step, barrier, follow-up
   and hand-off stay, so that the statistics still count their pathway; their unmet needs are
   detached (``unmet_needs.detach_person``: no link to the person left) and stay counted;
5. the id, time and cause go to the erasure register - a table, *and* a line appended to the
   register file (``RegisterFile``), which lives outside the database and is backed up apart
   from it - and an audit event is written.

The register file is written before the caller commits: if the commit fails, the file names a
person who is not erased yet, and the next ``reapply_erasures`` finishes the job (the person
asked for it). If the file cannot be written, the caller rolls back: no erasure goes
unrecorded.

A database restored from a backup taken before an erasure holds the person's data key again.
``reapply_erasures`` reads the register from the table *and* the file (the restored table may
have lost the latest lines; the file has not), erases again every person found readable, and
puts back whatever line either copy lacks. See ``docs/rights.md``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.handoffs import WithdrawCause
from app.domain.people import new_pseudonym
from app.domain.rights import ErasureCause, Following, WithdrawalSource, may_change_person
from app.models import (
    IDENTITY_FIELDS,
    Barrier,
    Beneficiary,
    ErasureRecord,
    FollowUp,
    Handoff,
    HandoffTransition,
    MailMessage,
    NameSearchToken,
    PathwayStep,
    PersonKey,
    ReferenceItem,
    ReferenceKind,
    User,
)
from app.services.errors import N_, Forbidden, InvalidInput
from app.services.handoffs import withdraw_pending
from app.services.people.access import following
from app.services.rights.consents import active_consents, end_consents
from app.services.security import audit
from app.services.security.vault import Vault
from app.services.unmet_needs import detach_person
from app.services.webhooks.queue import forget_handoffs

REGISTER_FILENAME = "erasure-register.txt"
REGISTER_HEADER = (
    "# Relais erasure register: one erased person per line (id, time, cause). Append only.\n"
    "# Keep and back up apart from the database; 'flask --app app gdpr reapply-erasures'\n"
    "# reads it after a restore.\n"
)
# The end reason of the follow-ups an erasure at the person's request closes.
ERASURE_END_REASON = "person_stopped"
BLIND_INDEXES = (  # the narrow ones and the import's wide lookup indexes
    *("index_version", "name_birth_index", "email_index", "phone_index"),
    *("lookup_version", "name_birth_lookup", "email_lookup", "phone_lookup"),
)
# Clear fields that, with the QPV and the cohorts, could single a person out.
COARSENED = ("birth_year", "sex", "education_level")


class RegisterFileError(Exception):
    """The register file cannot be read or written, or holds a line that is not an entry."""


@dataclass(frozen=True)
class RegisterEntry:
    beneficiary_id: uuid.UUID
    erased_at: datetime
    cause: ErasureCause

    def line(self) -> str:
        return f"{self.beneficiary_id}\t{self.erased_at.isoformat()}\t{self.cause.value}\n"

    @classmethod
    def parse(cls, line: str, number: int) -> RegisterEntry:
        parts = line.rstrip("\n").split("\t")
        try:
            if len(parts) != 3:
                raise ValueError("three tab-separated fields expected")
            erased_at = datetime.fromisoformat(parts[1])
            if erased_at.tzinfo is None:
                raise ValueError("the time has no time zone")
            return cls(uuid.UUID(parts[0]), erased_at, ErasureCause(parts[2]))
        except ValueError as exc:
            raise RegisterFileError(f"line {number} is not an erasure entry ({exc})") from None


class RegisterFile:
    """The append-only file copy of the erasure register (ids, times and causes only)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"RegisterFile({str(self.path)!r})"

    def append(self, entry: RegisterEntry) -> None:
        """Add one line and force it to disk; created (mode 0600) with a header if missing."""
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as out:
                if out.tell() == 0:
                    out.write(REGISTER_HEADER)
                out.write(entry.line())
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            raise RegisterFileError(
                f"cannot write the erasure register file {self.path} ({exc.strerror})"
            ) from exc

    def read(self) -> list[RegisterEntry]:
        """Every entry, in file order (none when the file does not exist yet)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise RegisterFileError(
                f"cannot read the erasure register file {self.path} ({exc.strerror})"
            ) from exc
        return [
            RegisterEntry.parse(line, number)
            for number, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.startswith("#")
        ]


def register_file_for(config: Mapping[str, Any], instance_path: str) -> RegisterFile:
    """The register file the configuration names (``ERASURE_REGISTER_PATH``), or the
    instance folder's ``erasure-register.txt``."""
    configured = config.get("ERASURE_REGISTER_PATH")
    if configured:
        return RegisterFile(Path(str(configured)))
    folder = Path(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    return RegisterFile(folder / REGISTER_FILENAME)


# -- erasing ---------------------------------------------------------------------------------


def person_to_erase(session: Session, pseudonym: str) -> Beneficiary | None:
    """The person whose pseudonym is ``pseudonym`` (any case, spaces around), for an erasure
    requested outside Relais (the command line: no actor, so no scoping); ``None`` when nobody
    has it - a person erased meanwhile included, since an erasure replaces the pseudonym."""
    wanted = pseudonym.strip().upper()
    return session.scalar(select(Beneficiary).where(Beneficiary.pseudonym == wanted))


def erase_person(
    session: Session,
    vault: Vault,
    actor: User | None,
    person: Beneficiary,
    *,
    cause: ErasureCause,
    register: RegisterFile,
    today: date,
    now: datetime,
) -> ErasureRecord:
    """Erase ``person`` (see the module's docstring) and register it in both copies.

    ``actor`` is a caseworker whose structure follows the person now - an open follow-up, not
    the reading grace period after one ended (the web action) -, or
    ``None`` for the command line and the retention rule. Raises ``Forbidden`` for any other
    user, ``InvalidInput`` if the person is erased already, ``RegisterFileError`` if the file
    cannot be written (the caller then rolls back).
    """
    relation = Following.NOW if actor is None else following(session, actor, person, today)
    if relation is Following.NOT:
        raise Forbidden(N_("Your structure does not follow this person."))
    if person.erased_at is not None:
        raise InvalidInput(N_("This person's data has already been erased."))
    if not may_change_person(relation):  # the reading grace period does not let one erase
        raise Forbidden(N_("Your structure does not follow this person."))
    _shred(session, vault, actor, person, today=today, now=now)
    person.erased_at = now
    record = ErasureRecord(beneficiary_id=person.id, erased_at=now, cause=cause)
    session.add(record)
    session.flush()
    audit.record(
        session,
        actor,
        AuditAction.BENEFICIARY_ERASE,
        person,
        beneficiary_id=person.id,
        purpose="erasure",
        cause=cause.value,
    )
    register.append(RegisterEntry(person.id, now, cause))
    return record


def _shred(
    session: Session,
    vault: Vault,
    actor: User | None,
    person: Beneficiary,
    *,
    today: date,
    now: datetime,
) -> None:
    """Steps 1 to 4 of an erasure; safe to run again on a person partly or wholly erased."""
    pid = person.id
    if person.erased_at is None:  # an erased person has nothing pending (step 1 ran)
        withdraw_pending(session, vault, actor, pid, now=now, cause=WithdrawCause.ERASURE)
    _end_follow_ups(session, actor, pid, today)
    end_consents(
        session,
        actor,
        active_consents(session, pid),
        on=today,
        source=WithdrawalSource.ERASURE,
        now=now,
    )
    session.execute(delete(PersonKey).where(PersonKey.beneficiary_id == pid))
    session.execute(delete(NameSearchToken).where(NameSearchToken.beneficiary_id == pid))
    for column in (*IDENTITY_FIELDS, *BLIND_INDEXES, *COARSENED):
        setattr(person, column, None)
    person.erasure_due_on = None
    person.pseudonym = _fresh_pseudonym(session)
    handoffs = select(Handoff.id).where(Handoff.beneficiary_id == pid).scalar_subquery()
    session.execute(
        update(PathwayStep)
        .where(PathwayStep.beneficiary_id == pid)
        .values(action=None, employer=None),
        execution_options={"synchronize_session": "fetch"},
    )
    session.execute(
        update(Barrier).where(Barrier.beneficiary_id == pid).values(detail=None),
        execution_options={"synchronize_session": "fetch"},
    )
    session.execute(
        update(Handoff).where(Handoff.beneficiary_id == pid).values(note=None),
        execution_options={"synchronize_session": "fetch"},
    )
    session.execute(
        update(HandoffTransition)
        .where(HandoffTransition.handoff_id.in_(handoffs))
        .values(message=None),
        execution_options={"synchronize_session": "fetch"},
    )
    # Mails about the person's hand-offs carry the old pseudonym: none is kept or sent.
    session.execute(
        delete(MailMessage).where(MailMessage.handoff_id.in_(handoffs)),
        execution_options={"synchronize_session": "fetch"},
    )
    # So do webhook deliveries: those sent are deleted, those still to send (the withdrawal
    # of the pending hand-offs, above) lose the pseudonym.
    forget_handoffs(session, handoffs)
    # Its unmet needs stay in the statistics, with no link left to the person.
    detach_person(session, pid)
    session.flush()


def _end_follow_ups(session: Session, actor: User | None, person_id: uuid.UUID, on: date) -> None:
    reason_id = session.scalar(
        select(ReferenceItem.id).where(
            ReferenceItem.kind == ReferenceKind.END_REASON,
            ReferenceItem.code == ERASURE_END_REASON,
        )
    )
    for follow_up in session.scalars(
        select(FollowUp).where(FollowUp.beneficiary_id == person_id, FollowUp.ended_on.is_(None))
    ):
        follow_up.ended_on = max(on, follow_up.started_on)
        follow_up.end_reason_id = reason_id
        audit.record(
            session,
            actor,
            AuditAction.FOLLOW_UP_END,
            follow_up,
            beneficiary_id=person_id,
            cause="erasure",
        )


def _fresh_pseudonym(session: Session) -> str:
    for _ in range(20):
        candidate = new_pseudonym()
        if session.scalar(select(Beneficiary.id).where(Beneficiary.pseudonym == candidate)) is None:
            return candidate
    raise RuntimeError("could not draw a free pseudonym")  # 20 collisions in ~39 bits: never


def is_readable(session: Session, person: Beneficiary) -> bool:
    """Whether anything an erasure removes is (again) there: a key, a ciphertext, an index."""
    pid = person.id
    if person.erased_at is None or session.get(PersonKey, pid) is not None:
        return True
    if any(getattr(person, c) is not None for c in (*IDENTITY_FIELDS, *BLIND_INDEXES, *COARSENED)):
        return True
    handoffs = select(Handoff.id).where(Handoff.beneficiary_id == pid).scalar_subquery()
    leftovers = or_(
        exists().where(PathwayStep.beneficiary_id == pid, PathwayStep.action.is_not(None)),
        exists().where(PathwayStep.beneficiary_id == pid, PathwayStep.employer.is_not(None)),
        exists().where(Barrier.beneficiary_id == pid, Barrier.detail.is_not(None)),
        exists().where(Handoff.beneficiary_id == pid, Handoff.note.is_not(None)),
        exists().where(
            HandoffTransition.handoff_id.in_(handoffs), HandoffTransition.message.is_not(None)
        ),
        exists().where(FollowUp.beneficiary_id == pid, FollowUp.ended_on.is_(None)),
        exists().where(NameSearchToken.beneficiary_id == pid),
    )
    return bool(session.scalar(select(leftovers)))


# -- after a restore -------------------------------------------------------------------------


@dataclass
class ReapplyReport:
    entries: int = 0  # people named by the register (table and file together)
    erased_again: int = 0  # found readable, erased again
    already_erased: int = 0
    absent: int = 0  # not in this database (restored from before their registration)
    rows_restored: int = 0  # register lines the table had lost, put back
    lines_restored: int = 0  # register rows the file lacked, appended to it
    erased_ids: list[uuid.UUID] = field(default_factory=list)


def reapply_erasures(
    session: Session, vault: Vault, register: RegisterFile, *, today: date, now: datetime
) -> ReapplyReport:
    """Erase again everyone the register names whose data is readable, and merge both copies.

    Run it after any restore of the database (and at will: a second run changes nothing).
    Raises ``RegisterFileError`` (before changing anything) if the file cannot be read.
    """
    in_file = {entry.beneficiary_id: entry for entry in register.read()}
    in_table = {row.beneficiary_id: row for row in session.scalars(select(ErasureRecord))}
    report = ReapplyReport(entries=len(in_file.keys() | in_table.keys()))
    for pid in sorted(in_file.keys() | in_table.keys()):
        row = in_table.get(pid)
        if row is None:
            entry = in_file[pid]
            row = ErasureRecord(beneficiary_id=pid, erased_at=entry.erased_at, cause=entry.cause)
            session.add(row)
            report.rows_restored += 1
        if pid not in in_file:
            register.append(RegisterEntry(pid, row.erased_at, row.cause))
            report.lines_restored += 1
        person = session.get(Beneficiary, pid)
        if person is None:
            report.absent += 1
            continue
        if not is_readable(session, person):
            report.already_erased += 1
            continue
        _shred(session, vault, None, person, today=today, now=now)
        person.erased_at = person.erased_at or row.erased_at
        row.reapplied_at = now
        audit.record(
            session,
            None,
            AuditAction.ERASURE_REAPPLY,
            person,
            beneficiary_id=pid,
            purpose="erasure",
            cause=row.cause.value,
        )
        report.erased_again += 1
        report.erased_ids.append(pid)
    session.flush()
    return report

"""The audit chain's head, copied outside the database: ``flask --app app audit checkpoint``.

The chain (``app/services/security/audit.py``) detects an edited, moved or deleted row, and the
head row detects rows dropped from the end - unless whoever drops them also moves the head
back, which the table owner can do with the triggers disabled. A *checkpoint* is a line
appended, from cron, to a file the database cannot reach (or to syslog)::

    relais-audit-checkpoint v1 seq=1234 mac=<64 hex> at=2026-12-01T03:00:00.000000Z tag=<64 hex>

``seq`` and ``mac`` are the chain head when the line was written, ``at`` the time, and
``tag`` an HMAC of the three under the audit key (a line written by hand does not verify).
``flask --app app audit verify`` then compares the chain with the last checkpoint: a head
below the checkpoint's ``seq``, or a row at that place whose MAC differs, is a truncation
(or a rewrite) of the log.

The target (``RELAIS_AUDIT_CHECKPOINT``) is a file path, opened with ``O_APPEND`` and synced
after each line, or ``syslog:`` (facility ``LOG_AUTH``; ``syslog:local3`` for another one):
the log server keeps the lines, and ``audit verify --checkpoint FILE`` reads a copy of them
(lines may carry a syslog prefix).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import syslog
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.services.security.audit import _EVENTS, _HEAD, append_many, audit_key
from app.services.security.audit_mac import GENESIS_MAC

MARKER = "relais-audit-checkpoint"
VERSION = "v1"
TAG_CONTEXT = b"relais-audit-checkpoint-v1"
SYSLOG_PREFIX = "syslog:"
# Only the end of a long file is read: a checkpoint an hour is about 1.7 MB a year.
TAIL_BYTES = 64 * 1024
_LINE = re.compile(
    rf"{MARKER} {VERSION} seq=(?P<seq>\d{{1,19}}) mac=(?P<mac>[0-9a-f]{{64}}) "
    r"at=(?P<at>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) tag=(?P<tag>[0-9a-f]{64})\s*$"
)
_FACILITIES: dict[str, int] = {
    "auth": syslog.LOG_AUTH,
    "authpriv": getattr(syslog, "LOG_AUTHPRIV", syslog.LOG_AUTH),
    "daemon": syslog.LOG_DAEMON,
    "user": syslog.LOG_USER,
    **{f"local{n}": getattr(syslog, f"LOG_LOCAL{n}") for n in range(8)},
}


class CheckpointError(Exception):
    """The checkpoint target cannot be used, or the checkpoint file cannot be read."""


@dataclass(frozen=True)
class Checkpoint:
    """The chain head at a time: its place, its MAC, when it was taken."""

    seq: int
    mac: bytes
    at: datetime

    def _signed_part(self) -> str:
        stamp = self.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return f"{MARKER} {VERSION} seq={self.seq} mac={self.mac.hex()} at={stamp}"

    def tag(self, key: bytes) -> bytes:
        message = TAG_CONTEXT + b"\x00" + self._signed_part().encode("ascii")
        return hmac.new(key, message, hashlib.sha256).digest()

    def line(self, key: bytes) -> str:
        return f"{self._signed_part()} tag={self.tag(key).hex()}"

    @property
    def when(self) -> str:
        return self.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class Truncation:
    """The chain is behind, or differs from, a checkpoint. ``reason`` is an English sentence."""

    seq: int
    reason: str


# -- targets --------------------------------------------------------------------------------


def check_target(target: str) -> None:
    """Refuse a target that cannot receive checkpoints (``CheckpointError``, English)."""
    if target.startswith(SYSLOG_PREFIX):
        _facility(target)
        return
    path = Path(target)
    if path.is_dir():
        raise CheckpointError(f"{target} is a folder, not a file")
    if not path.parent.is_dir():
        raise CheckpointError(f"{target} is in a folder that does not exist: {path.parent}")


def _facility(target: str) -> int:
    name = target[len(SYSLOG_PREFIX) :].strip().lower() or "auth"
    if name not in _FACILITIES:
        choices = ", ".join(sorted(_FACILITIES))
        raise CheckpointError(f"unknown syslog facility {name!r} (one of {choices})")
    return _FACILITIES[name]


def is_syslog(target: str) -> bool:
    return target.startswith(SYSLOG_PREFIX)


# -- writing --------------------------------------------------------------------------------


def current_head(session: Session) -> Checkpoint:
    """The chain head now (seq 0 and the genesis MAC for a database without a head)."""
    found = session.execute(select(_HEAD.c.seq, _HEAD.c.mac).where(_HEAD.c.id == 1)).first()
    now = datetime.now(UTC)
    if found is None:
        return Checkpoint(0, GENESIS_MAC, now)
    return Checkpoint(int(found.seq), bytes(found.mac), now)


def write_checkpoint(target: str, checkpoint: Checkpoint) -> None:
    """Append the checkpoint's line to the file (created mode 0600, synced) or to syslog."""
    check_target(target)
    line = checkpoint.line(audit_key())
    if is_syslog(target):
        syslog.openlog("relais", syslog.LOG_PID, _facility(target))
        try:
            syslog.syslog(syslog.LOG_NOTICE, line)
        finally:
            syslog.closelog()
        return
    try:
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise CheckpointError(
            f"cannot write the checkpoint file {target} ({exc.strerror})"
        ) from exc


# -- reading --------------------------------------------------------------------------------


def read_last_checkpoint(path: Path) -> Checkpoint:
    """The last checkpoint line of ``path``, checked; ``CheckpointError`` saying what is wrong."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - TAIL_BYTES))
            tail = handle.read()
    except FileNotFoundError:
        raise CheckpointError(
            f"the checkpoint file {path} does not exist: run flask --app app audit checkpoint "
            "(from cron) first"
        ) from None
    except OSError as exc:
        raise CheckpointError(f"cannot read the checkpoint file {path} ({exc.strerror})") from exc
    lines = tail.decode("utf-8", errors="replace").splitlines()
    if size > TAIL_BYTES and lines:
        lines = lines[1:]  # the first one may be cut
    candidates = [line for line in lines if MARKER in line]
    if not candidates:
        raise CheckpointError(f"the checkpoint file {path} holds no audit checkpoint")
    last = candidates[-1]
    found = _LINE.search(last)
    if found is None:
        raise CheckpointError(
            f"the last checkpoint in {path} is malformed (expected: {MARKER} {VERSION} "
            "seq=N mac=HEX at=TIME tag=HEX)"
        )
    at = datetime.strptime(found["at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    checkpoint = Checkpoint(int(found["seq"]), bytes.fromhex(found["mac"]), at)
    if not hmac.compare_digest(checkpoint.tag(audit_key()), bytes.fromhex(found["tag"])):
        raise CheckpointError(
            f"the last checkpoint in {path} does not carry this instance's audit tag "
            "(written by hand, altered, or from another instance)"
        )
    return checkpoint


# -- comparing ------------------------------------------------------------------------------


def _pruned(session: Session, seq: int) -> bool:
    """Whether ``seq`` lies before the first kept row, in a month ``audit prune`` removed
    (``audit verify`` checks that a seal and an ``audit:prune`` event cover it)."""
    first = session.execute(select(func.min(_EVENTS.c.seq))).scalar()
    return first is not None and seq < int(first)


def compare(session: Session, checkpoint: Checkpoint) -> Truncation | None:
    """Whether the chain still holds the checkpoint: its head at or beyond the checkpoint's
    place, and the same MAC there. ``None`` when it does."""
    head = current_head(session)
    if head.seq < checkpoint.seq:
        return Truncation(
            head.seq + 1,
            f"the chain head is at seq {head.seq} but the checkpoint of {checkpoint.when} "
            f"recorded seq {checkpoint.seq}: rows were removed from the end and the head "
            "moved back",
        )
    if checkpoint.seq == 0:
        return None
    found = session.execute(
        select(_EVENTS.c.mac).where(_EVENTS.c.seq == checkpoint.seq)
    ).one_or_none()
    if found is None and _pruned(session, checkpoint.seq):
        return None  # the row was pruned with its month; the head is beyond it
    if found is None:
        return Truncation(
            checkpoint.seq,
            f"the row at seq {checkpoint.seq}, recorded by the checkpoint of "
            f"{checkpoint.when}, is missing",
        )
    # A legacy row (before the chain) has no MAC; the head stood at the genesis MAC then.
    mac = bytes(found.mac) if found.mac is not None else GENESIS_MAC
    if not hmac.compare_digest(mac, checkpoint.mac):
        return Truncation(
            checkpoint.seq,
            f"the row at seq {checkpoint.seq} is not the one the checkpoint of "
            f"{checkpoint.when} recorded: the end of the log was removed and rewritten",
        )
    return None


# -- a restore ------------------------------------------------------------------------------


def record_restore(session: Session, checkpoint: Checkpoint) -> Checkpoint:
    """After a restore of the database from a backup, the chain is behind ``checkpoint`` (the
    last one written before the restore): append an ``audit:restored`` event saying so - the
    checkpoint's place and time, and the head the restore left - and return the new head, for
    a checkpoint written after it (the caller writes it once this commits). Refused
    (``CheckpointError``) when the chain still holds the checkpoint: nothing was lost."""
    truncation = compare(session, checkpoint)
    if truncation is None:
        raise CheckpointError(
            f"the chain holds the last checkpoint (seq {checkpoint.seq}, {checkpoint.when}): "
            "no restore to record"
        )
    restored_to = current_head(session).seq
    append_many(
        session,
        [
            {
                "action": AuditAction.AUDIT_RESTORED.value,
                "subject_type": _EVENTS.name,
                "subject_id": str(checkpoint.seq),
                "data": {
                    "head_seq": restored_to,
                    "checkpoint_seq": checkpoint.seq,
                    "checkpoint_at": checkpoint.at.astimezone(UTC).isoformat(),
                },
            }
        ],
    )
    return current_head(session)

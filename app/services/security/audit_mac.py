"""The audit chain's canonical encoding and MAC: what a row's MAC covers, byte for byte.

Each row's MAC is HMAC-SHA256 (the audit key) over a context, the row's place in the chain,
the previous row's MAC and each column of ``COLUMNS``, length-prefixed (``_encode``); the
``data`` column as canonical JSON (``canonical_data``), so that it reads the same before and
after storage. ``app.services.security.audit`` chains with it; ``audit_walk`` and
``audit_check`` verify with it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

MAC_CONTEXT = b"relais-audit-v1"
LEGACY_CONTEXT = b"relais-audit-legacy-v1"
GENESIS_MAC = bytes(32)
# The columns a row's MAC covers, in this order, after its seq and the previous MAC.
COLUMNS = (
    "at",
    "actor_id",
    "actor_structure_id",
    "action",
    "subject_type",
    "subject_id",
    "beneficiary_id",
    "purpose",
    "data",
)
_NULL = b"\xff\xff\xff\xff"


def _text(value: object) -> bytes:
    if value is None:
        return _NULL
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in an audit row")
        raw = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").encode()
    elif isinstance(value, uuid.UUID):
        raw = value.hex.encode()
    elif isinstance(value, bool):  # before int: bool is an int
        raise TypeError("a boolean is not an audit column value")
    elif isinstance(value, int | str):
        raw = str(value).encode("utf-8")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} in an audit row")
    return struct.pack(">I", len(raw)) + raw


def canonical_data(data: Mapping[str, Any] | None) -> str:
    """The ``data`` column as JSON with sorted keys, the same before and after storage."""
    return json.dumps(
        data or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _encode(seq: int, previous: bytes, row: Mapping[str, Any], data_json: str) -> bytes:
    """The MAC input: context, seq, previous MAC, then each column, length-prefixed."""
    parts = [MAC_CONTEXT, struct.pack(">Q", seq), struct.pack(">I", len(previous)), previous]
    for name in COLUMNS[:-1]:
        value = row.get(name)
        if name == "beneficiary_id" and isinstance(value, str):
            value = uuid.UUID(value)
        parts.append(_text(value))
    parts.append(_text(data_json))
    return b"".join(parts)


def row_mac(key: bytes, seq: int, previous: bytes, row: Mapping[str, Any]) -> bytes:
    """The MAC of one row at place ``seq`` after a row whose MAC is ``previous``."""
    message = _encode(seq, previous, row, canonical_data(row.get("data")))
    return hmac.new(key, message, hashlib.sha256).digest()

"""AES-256-GCM encryption of personal fields, bound to their place in the database.

Stored form (bytes)::

    0x01 (format version) | data-key id (4 bytes) | nonce (12 bytes) | ciphertext and tag

The associated data is a length-prefixed encoding of the format version, the data-key id,
the table, the column, the row id and the person id. A ciphertext copied into another row,
column or person, or read with another key, fails to authenticate. Every anomaly raises
``DecryptionError``; nothing ever falls back to the stored bytes or to an empty string.
"""

from __future__ import annotations

import functools
import os
import struct
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.crypto.errors import DecryptionError

FORMAT_VERSION = 1
KEY_ID_SIZE = 4
NONCE_SIZE = 12
TAG_SIZE = 16
HEADER_SIZE = 1 + KEY_ID_SIZE + NONCE_SIZE


@dataclass(frozen=True, slots=True)
class DataKey:
    """A person's unwrapped data key. ``key_id`` is a random 4-byte label stored beside it."""

    key_id: bytes
    secret: bytes

    def __post_init__(self) -> None:
        if len(self.key_id) != KEY_ID_SIZE or len(self.secret) != 32:
            raise ValueError("a data key is a 4-byte id and a 32-byte secret")

    def __repr__(self) -> str:  # never show the secret
        return f"DataKey(key_id={self.key_id.hex()})"

    @classmethod
    def generate(cls) -> DataKey:
        return cls(key_id=os.urandom(KEY_ID_SIZE), secret=AESGCM.generate_key(bit_length=256))


def _prefixed(part: bytes) -> bytes:
    """One part of the associated data: its length (4 bytes, big-endian), then the part."""
    return struct.pack(">I", len(part)) + part


_AAD_HEAD = _prefixed(b"relais-field") + _prefixed(bytes([FORMAT_VERSION]))
_UUID_LENGTH = struct.pack(">I", 16)


@functools.lru_cache(maxsize=256)
def _place_of(table: str, column: str) -> bytes:
    """The table and column parts of the associated data (a few dozen places in all)."""
    return _prefixed(table.encode()) + _prefixed(column.encode())


@dataclass(frozen=True, slots=True)
class FieldContext:
    """Where a ciphertext lives: it can only be read back from the same place."""

    table: str
    column: str
    row_id: uuid.UUID
    person_id: uuid.UUID

    def associated_data(self, key_id: bytes) -> bytes:
        """The length-prefixed parts: ``relais-field``, the format version, the data-key id,
        the table, the column, the row id and the person id (the constant parts encoded once;
        ``tests/crypto/test_fields.py`` pins the encoding)."""
        return b"".join(
            (
                _AAD_HEAD,
                _prefixed(key_id),
                _place_of(self.table, self.column),
                _UUID_LENGTH,
                self.row_id.bytes,
                _UUID_LENGTH,
                self.person_id.bytes,
            )
        )


def encrypt_field(key: DataKey, context: FieldContext, plaintext: str) -> bytes:
    """Encrypt ``plaintext`` for ``context`` under the person's data key."""
    nonce = os.urandom(NONCE_SIZE)
    sealed = AESGCM(key.secret).encrypt(
        nonce, plaintext.encode("utf-8"), context.associated_data(key.key_id)
    )
    return bytes([FORMAT_VERSION]) + key.key_id + nonce + sealed


def encrypt_fields(key: DataKey, fields: Iterable[tuple[FieldContext, str]]) -> list[bytes]:
    """``encrypt_field`` for several fields of one person, in order: one cipher for them all
    (registration and the import seal six fields a person)."""
    cipher = AESGCM(key.secret)
    header = bytes([FORMAT_VERSION]) + key.key_id
    sealed = []
    for context, plaintext in fields:
        nonce = os.urandom(NONCE_SIZE)
        data = plaintext.encode("utf-8")
        sealed.append(
            header + nonce + cipher.encrypt(nonce, data, context.associated_data(key.key_id))
        )
    return sealed


def encrypt_row(
    key: DataKey,
    table: str,
    row_id: uuid.UUID,
    person_id: uuid.UUID,
    columns: Sequence[tuple[str, str]],
) -> list[bytes]:
    """``encrypt_fields`` for several columns of one row, in order, without a ``FieldContext``
    a field: the parts of the associated data shared by the row (the data-key id, the row and
    person ids) encoded once, and the nonces drawn from the system's random source at once
    (each field still has its own). What it stores opens with ``decrypt_field`` in each
    ``FieldContext(table, column, row_id, person_id)`` (tests/crypto/test_fields.py)."""
    if not columns:
        return []
    cipher = AESGCM(key.secret)
    header = bytes([FORMAT_VERSION]) + key.key_id
    head = _AAD_HEAD + _prefixed(key.key_id)
    ids = _UUID_LENGTH + row_id.bytes + _UUID_LENGTH + person_id.bytes
    nonces = os.urandom(NONCE_SIZE * len(columns))
    sealed = []
    for n, (column, plaintext) in enumerate(columns):
        nonce = nonces[n * NONCE_SIZE : (n + 1) * NONCE_SIZE]
        associated = head + _place_of(table, column) + ids
        sealed.append(header + nonce + cipher.encrypt(nonce, plaintext.encode("utf-8"), associated))
    return sealed


def decrypt_field(key: DataKey, context: FieldContext, stored: bytes) -> str:
    """Decrypt a stored field, or raise ``DecryptionError`` on any anomaly."""
    return _opened(AESGCM(key.secret), key, context, stored)


def decrypt_fields(key: DataKey, sealed: Iterable[tuple[FieldContext, bytes]]) -> list[str]:
    """``decrypt_field`` for several fields of one person, in order: one cipher for them all
    (a page shows a few fields of each person)."""
    cipher = AESGCM(key.secret)
    return [_opened(cipher, key, context, stored) for context, stored in sealed]


def _opened(cipher: AESGCM, key: DataKey, context: FieldContext, stored: bytes) -> str:
    if not isinstance(stored, bytes | bytearray | memoryview):
        raise DecryptionError("stored value is not a ciphertext")
    stored = bytes(stored)
    if len(stored) < HEADER_SIZE + TAG_SIZE:
        raise DecryptionError("ciphertext is truncated")
    if stored[0] != FORMAT_VERSION:
        raise DecryptionError(f"unknown ciphertext format version {stored[0]}")
    key_id = stored[1 : 1 + KEY_ID_SIZE]
    if key_id != key.key_id:
        raise DecryptionError("ciphertext was sealed with another data key")
    nonce = stored[1 + KEY_ID_SIZE : HEADER_SIZE]
    try:
        clear = cipher.decrypt(nonce, stored[HEADER_SIZE:], context.associated_data(key_id))
    except InvalidTag as exc:
        raise DecryptionError("ciphertext does not authenticate in this context") from exc
    return clear.decode("utf-8")

"""The application's secrets, checked once at start-up.

Five secrets, one per role, never derived from each other:

* ``RELAIS_SECRET_KEY`` - Flask's session signing key;
* ``RELAIS_KEKS`` - key-encryption keys ``id:key`` (comma separated), ``RELAIS_ACTIVE_KEK``
  naming the one that wraps new data keys;
* ``RELAIS_INDEX_KEY`` - root of the blind-index keys;
* ``RELAIS_AUDIT_KEY`` - MAC key of the audit log.

Each key is 32 random bytes written in base64url. ``python -m app.crypto`` prints a
fresh set. A key that is missing, malformed, used for two roles or equal to an example from the
documentation is refused with a message that names it and never shows its value.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap_with_padding,
    aes_key_wrap_with_padding,
)

from app.crypto.errors import DecryptionError, KeyConfigError
from app.crypto.fields import KEY_ID_SIZE, DataKey

KEY_SIZE = 32
REQUIRED_SECRETS = ("RELAIS_SECRET_KEY", "RELAIS_KEKS", "RELAIS_INDEX_KEY", "RELAIS_AUDIT_KEY")
KEK_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")

# Values printed in README.md and docs/configuration.md as examples. They are public, so a
# deployment that copied one is refused.
DOCUMENTED_EXAMPLES = frozenset(
    {
        "ZXhhbXBsZS1zZWNyZXQta2V5LWRvLW5vdC11c2UtMTI",
        "ZXhhbXBsZS1rZWstMjAyNi1kby1ub3QtdXNlLTEyMzQ",
        "ZXhhbXBsZS1pbmRleC1rZXktZG8tbm90LXVzZS0xMjM",
        "ZXhhbXBsZS1hdWRpdC1rZXktZG8tbm90LXVzZS0xMjM",
    }
)


def _decode_key(name: str, text: str) -> bytes:
    if text.rstrip("=") in DOCUMENTED_EXAMPLES:
        raise KeyConfigError(f"{name} is an example value from the documentation; generate a key")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyConfigError(f"{name} is not valid base64url") from exc
    if len(raw) != KEY_SIZE:
        raise KeyConfigError(f"{name} must be {KEY_SIZE} bytes, got {len(raw)}")
    if len(set(raw)) < 8:
        raise KeyConfigError(f"{name} is not random enough")
    return raw


def encode_key(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class KeyRing:
    """Validated secrets. ``repr`` shows key ids only."""

    secret_key: bytes = field(repr=False)
    keks: Mapping[str, bytes] = field(repr=False)
    active_kek_id: str
    index_key: bytes = field(repr=False)
    audit_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if self.active_kek_id not in self.keks:
            raise KeyConfigError(
                f"RELAIS_ACTIVE_KEK names {self.active_kek_id!r}, not in RELAIS_KEKS"
            )
        roles = [("RELAIS_SECRET_KEY", self.secret_key), ("RELAIS_INDEX_KEY", self.index_key)]
        roles += [("RELAIS_AUDIT_KEY", self.audit_key)]
        roles += [(f"RELAIS_KEKS[{kid}]", key) for kid, key in self.keks.items()]
        seen: dict[bytes, str] = {}
        for name, key in roles:
            if key in seen:
                raise KeyConfigError(
                    f"{name} reuses the key of {seen[key]}; each role needs its own"
                )
            seen[key] = name

    # -- data keys ---------------------------------------------------------------------

    def wrap(self, data_key: DataKey, kek_id: str | None = None) -> tuple[str, bytes]:
        """Wrap a data key (its id and secret) under a KEK, the active one by default."""
        kid = kek_id or self.active_kek_id
        if kid not in self.keks:
            raise KeyConfigError(f"unknown key-encryption key {kid!r}")
        return kid, aes_key_wrap_with_padding(self.keks[kid], data_key.key_id + data_key.secret)

    def unwrap(self, kek_id: str, wrapped: bytes) -> DataKey:
        """Unwrap a data key, or raise ``DecryptionError`` (unknown KEK, altered wrap)."""
        kek = self.keks.get(kek_id)
        if kek is None:
            raise DecryptionError(f"unknown key-encryption key {kek_id!r}")
        try:
            clear = aes_key_unwrap_with_padding(kek, bytes(wrapped))
        except InvalidUnwrap as exc:
            raise DecryptionError("data key does not unwrap") from exc
        if len(clear) != KEY_ID_SIZE + KEY_SIZE:
            raise DecryptionError("unwrapped data key has the wrong size")
        return DataKey(key_id=clear[:KEY_ID_SIZE], secret=clear[KEY_ID_SIZE:])

    # -- construction ------------------------------------------------------------------

    @classmethod
    def generate(cls, kek_id: str = "k1") -> KeyRing:
        return cls(
            secret_key=secrets.token_bytes(KEY_SIZE),
            keks={kek_id: secrets.token_bytes(KEY_SIZE)},
            active_kek_id=kek_id,
            index_key=secrets.token_bytes(KEY_SIZE),
            audit_key=secrets.token_bytes(KEY_SIZE),
        )

    @classmethod
    def from_settings(cls, raw: Mapping[str, str | None]) -> KeyRing:
        """Build from the ``RELAIS_*`` texts; raise ``KeyConfigError`` naming the first bad one."""
        for name in REQUIRED_SECRETS:
            if not raw.get(name):
                raise KeyConfigError(f"{name} is missing")
        keks = _parse_keks(str(raw["RELAIS_KEKS"]))
        active = raw.get("RELAIS_ACTIVE_KEK") or (next(iter(keks)) if len(keks) == 1 else None)
        if active is None:
            raise KeyConfigError("RELAIS_ACTIVE_KEK is missing (RELAIS_KEKS holds several keys)")
        return cls(
            secret_key=_decode_key("RELAIS_SECRET_KEY", str(raw["RELAIS_SECRET_KEY"])),
            keks=keks,
            active_kek_id=active,
            index_key=_decode_key("RELAIS_INDEX_KEY", str(raw["RELAIS_INDEX_KEY"])),
            audit_key=_decode_key("RELAIS_AUDIT_KEY", str(raw["RELAIS_AUDIT_KEY"])),
        )

    def as_settings(self) -> dict[str, str]:
        return {
            "RELAIS_SECRET_KEY": encode_key(self.secret_key),
            "RELAIS_KEKS": ",".join(f"{kid}:{encode_key(k)}" for kid, k in self.keks.items()),
            "RELAIS_ACTIVE_KEK": self.active_kek_id,
            "RELAIS_INDEX_KEY": encode_key(self.index_key),
            "RELAIS_AUDIT_KEY": encode_key(self.audit_key),
        }


def _parse_keks(text: str) -> dict[str, bytes]:
    keks: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        kid, sep, value = item.partition(":")
        if not sep or not KEK_ID_PATTERN.match(kid):
            raise KeyConfigError(
                "RELAIS_KEKS must read id:key[,id:key...] with ids of [A-Za-z0-9_-]"
            )
        if kid in keks:
            raise KeyConfigError(f"RELAIS_KEKS names {kid!r} twice")
        keks[kid] = _decode_key(f"RELAIS_KEKS[{kid}]", value)
    if not keks:
        raise KeyConfigError("RELAIS_KEKS is missing")
    return keks


def load_or_create_dev_keys(
    path: Path, overrides: Mapping[str, str | None]
) -> tuple[KeyRing, bool]:
    """Development keys: read ``path``, or create it once (mode 0600). Returns (ring, created).

    Values set in the environment take precedence over the file.
    """
    created = False
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise KeyConfigError(f"development key file {path} is unreadable") from exc
    else:
        stored = KeyRing.generate().as_settings()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(stored, handle, indent=2)
        created = True
    merged = {**stored, **{k: v for k, v in overrides.items() if v}}
    return KeyRing.from_settings(merged), created

"""Ed25519 signatures of the files a territory publishes (the national layer's exchange).

A territory signs its publication with its own private key, ``RELAIS_PUBLICATION_KEY`` (32
random bytes in base64url: the Ed25519 seed); the national instance checks it with the
territory's public key, which it trusts (``RELAIS_TRUSTED_PUBLICATION_KEYS``). Unlike a MAC,
a signature can be checked by anyone holding the public key without being able to forge one.

What is signed is the canonical form of the JSON document: keys sorted, no spaces, UTF-8 -
for documents of strings, integers, lists, objects and ``null`` with ASCII keys, the same
bytes as RFC 8785 (JSON Canonicalization Scheme), so another implementation can check it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from app.crypto.errors import KeyConfigError

SEED_SIZE = 32
PUBLIC_SIZE = 32
SIGNATURE_SIZE = 64
ALGORITHM = "ed25519"


class BadSignature(Exception):
    """A signature that does not verify, or that is not one."""


def canonical(document: Any) -> bytes:
    """The bytes signed for ``document`` (see the module)."""
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _b64decode(name: str, text: str, size: int) -> bytes:
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyConfigError(f"{name} is not valid base64url") from exc
    if len(raw) != size:
        raise KeyConfigError(f"{name} must be {size} bytes, got {len(raw)}")
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def key_id(public: bytes) -> str:
    """A short name of a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public).hexdigest()[:16]


@dataclass(frozen=True)
class VerifyKey:
    """A trusted public key. ``repr`` shows its id only."""

    public: bytes = field(repr=False)

    @classmethod
    def from_text(cls, name: str, text: str) -> VerifyKey:
        return cls(_b64decode(name, text.strip(), PUBLIC_SIZE))

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    @property
    def text(self) -> str:
        return _b64encode(self.public)

    def verify(self, document: Any, signature: str) -> None:
        """``BadSignature`` unless ``signature`` (base64url) signs ``document`` for this key."""
        try:
            raw = _b64decode("signature", signature, SIGNATURE_SIZE)
            Ed25519PublicKey.from_public_bytes(self.public).verify(raw, canonical(document))
        except (KeyConfigError, InvalidSignature, ValueError) as exc:
            raise BadSignature("the signature does not match the file") from exc


@dataclass(frozen=True)
class SigningKey:
    """A territory's private key (the Ed25519 seed). ``repr`` shows the public key's id."""

    seed: bytes = field(repr=False)

    @classmethod
    def generate(cls) -> SigningKey:
        private = Ed25519PrivateKey.generate()
        return cls(private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))

    @classmethod
    def from_text(cls, name: str, text: str) -> SigningKey:
        seed = _b64decode(name, text.strip(), SEED_SIZE)
        if len(set(seed)) < 8:
            raise KeyConfigError(f"{name} is not random enough")
        return cls(seed)

    @property
    def text(self) -> str:
        return _b64encode(self.seed)

    @property
    def verify_key(self) -> VerifyKey:
        private = Ed25519PrivateKey.from_private_bytes(self.seed)
        return VerifyKey(private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    def sign(self, document: Any) -> str:
        """The signature of ``document``'s canonical form, in base64url."""
        private = Ed25519PrivateKey.from_private_bytes(self.seed)
        return _b64encode(private.sign(canonical(document)))


def parse_trusted_keys(name: str, text: str) -> dict[str, tuple[VerifyKey, ...]]:
    """``territory:public-key[,territory:public-key...]``: the keys a national instance
    trusts, by territory (a territory may have two while it changes its key);
    ``KeyConfigError`` naming ``name`` otherwise."""
    found: dict[str, tuple[VerifyKey, ...]] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        territory, sep, value = item.partition(":")
        territory = territory.strip()
        if not sep or not territory:
            raise KeyConfigError(f"{name} must read territory:key[,territory:key...]")
        key = VerifyKey.from_text(f"{name}[{territory}]", value)
        found[territory] = (*found.get(territory, ()), key)
    return found

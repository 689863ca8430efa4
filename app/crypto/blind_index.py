"""Blind indexes: keyed, truncated hashes of normalised values for duplicate detection.

Each index has its own key, derived with HKDF from the index root key and the index name and
version, so one index value says nothing about another. Values are truncated to a few bits so
that many people share each value: a match is only a *possible* duplicate, confirmed by
decrypting the candidates. Only combinations with enough entropy are indexed (last name, first
name and birth date together; e-mail; phone), never a birth date alone.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NORMALISATION_VERSION = 1
INDEX_NAMES = ("name_birth", "email", "phone")

_SEPARATORS = re.compile(r"[\s\-‐-―'’`´]+")


def normalise_name(value: str) -> str:
    """No accents, case-folded, hyphens/apostrophes/spaces folded to one space, trimmed."""
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SEPARATORS.sub(" ", bare.casefold()).strip()


def normalise_email(value: str) -> str:
    return value.strip().lower()


def name_birth_key(last_name: str, first_name: str, birth_date: date) -> str:
    return "|".join((normalise_name(last_name), normalise_name(first_name), birth_date.isoformat()))


class BlindIndexer:
    """Computes index values for one root key, one normalisation version and one width."""

    def __init__(self, root_key: bytes, bits: int, version: int = NORMALISATION_VERSION) -> None:
        if not 4 <= bits <= 32:
            raise ValueError("blind index width must be between 4 and 32 bits")
        self.bits = bits
        self.version = version
        self._keys = {name: self._derive(root_key, name, version) for name in INDEX_NAMES}

    @staticmethod
    def _derive(root_key: bytes, name: str, version: int) -> bytes:
        info = f"relais-bidx|v{version}|beneficiaries|{name}".encode()
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(root_key)

    def compute(self, name: str, normalised: str) -> int:
        """The truncated HMAC of an already normalised value, as a non-negative integer."""
        digest = hmac.new(self._keys[name], normalised.encode("utf-8"), hashlib.sha256).digest()
        return int.from_bytes(digest[:4], "big") >> (32 - self.bits)

    def __repr__(self) -> str:
        return f"BlindIndexer(bits={self.bits}, version={self.version})"

"""Blind indexes: keyed, truncated hashes of normalised values for duplicate detection.

Each index has its own key, derived with HKDF from the index root key and the index name and
version, so one index value says nothing about another. Values are truncated to a few bits so
that many people share each value: a match is only a *possible* duplicate, confirmed by
decrypting the candidates. Only combinations with enough entropy are indexed for duplicates
(last name, first name and birth date together; e-mail; phone), never a birth date alone.

The caseload search adds one more index, ``name_prefix``: the first three letters of each word
of the names (and of each name with its words joined), so that ``dupont``, ``Dupont Marie`` and
``marie dup`` find their candidates without decrypting a whole caseload (``docs/security.md``
says what these values leak).

The duplicate lookup of an import adds a *wider* index over the same three combinations
(``lookup``: ``LOOKUP_BITS`` bits, each keyed separately from its narrow index): narrow enough
values that a file of thousands of people decrypts its true candidates, not most of the
database. ``docs/security.md`` weighs what each width tells someone holding the database.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Version 2 added the name-prefix index; version 3 compares names without their separators in
# the duplicate key (``N'Diaye``, ``NDIAYE`` and ``N Diaye`` are one name). Each version derives
# the values of every index anew (``keys rebuild-index`` after the upgrade).
NORMALISATION_VERSION = 3
INDEX_NAMES = ("name_birth", "email", "phone", "name_prefix")
# The duplicate-detection combinations that also get a wide lookup index, and its width: about
# 100,000 / 2**24 = 0.006 false candidates per value at 100,000 people, 0.06 at 1,000,000
# (the 14-bit indexes: 6 and 61).
LOOKUP_NAMES = ("name_birth", "email", "phone")
LOOKUP_BITS = 24
PREFIX_LENGTH = 3

_SEPARATORS = re.compile(r"[\s\-‐-―'’`´]+")


def normalise_name(value: str) -> str:
    """No accents, case-folded, hyphens/apostrophes/spaces folded to one space, trimmed."""
    if value.isascii():  # nothing to decompose, no accent to drop; casefold() is lower()
        return _SEPARATORS.sub(" ", value.lower()).strip()
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SEPARATORS.sub(" ", bare.casefold()).strip()


def squash_name(value: str) -> str:
    """A name as the duplicate rule compares it: normalised, then without any separator - the
    same name typed with or without its apostrophe, hyphen or spaces (``N'Diaye``, ``NDIAYE``,
    ``Le Gall``, ``LEGALL``, ``Jean-Pierre``, ``Jeanpierre``)."""
    return normalise_name(value).replace(" ", "")


def normalise_email(value: str) -> str:
    return value.strip().lower()


def name_words(*names: str) -> set[str]:
    """The normalised words a search may start with: every word of every name, and each name of
    several words with its words joined (``N'Diaye`` gives ``n``, ``diaye`` and ``ndiaye``)."""
    words: set[str] = set()
    for name in names:
        parts = normalise_name(name).split()
        words.update(parts)
        if len(parts) > 1:
            words.add("".join(parts))
    return words


def name_prefix(word: str) -> str:
    """The part of a normalised word that the name-prefix index holds."""
    return word[:PREFIX_LENGTH]


def name_birth_key(last_name: str, first_name: str, birth_date: date) -> str:
    return "|".join((squash_name(last_name), squash_name(first_name), birth_date.isoformat()))


class _KeyedHash:
    """HMAC-SHA256 under one key with its two padded key blocks hashed once (RFC 2104): the
    digest of ``hmac.digest(key, message, "sha256")``, at half its cost - an import computes
    about eight index values a person. ``tests/crypto/test_blind_index.py`` compares the two."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > _BLOCK:
            raise ValueError("an index key is at most one SHA-256 block")
        block = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in block))
        self._outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in block))

    def __repr__(self) -> str:  # never show the key's state
        return "_KeyedHash(<key>)"

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


_BLOCK = 64  # SHA-256's block size, in bytes


class BlindIndexer:
    """Computes index values for one root key, one normalisation version and one width."""

    def __init__(self, root_key: bytes, bits: int, version: int = NORMALISATION_VERSION) -> None:
        if not 4 <= bits <= 32:
            raise ValueError("blind index width must be between 4 and 32 bits")
        self.bits = bits
        self.version = version
        self._keys = {
            name: _KeyedHash(self._derive(root_key, name, version)) for name in INDEX_NAMES
        }
        self._lookup_keys = {
            name: _KeyedHash(self._derive(root_key, f"{name}_lookup", version))
            for name in LOOKUP_NAMES
        }

    @staticmethod
    def _derive(root_key: bytes, name: str, version: int) -> bytes:
        info = f"relais-bidx|v{version}|beneficiaries|{name}".encode()
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(root_key)

    def compute(self, name: str, normalised: str) -> int:
        """The truncated HMAC of an already normalised value, as a non-negative integer."""
        digest = self._keys[name].digest(normalised.encode("utf-8"))
        return int.from_bytes(digest[:4], "big") >> (32 - self.bits)

    def lookup(self, name: str, normalised: str) -> int:
        """The wide lookup index of an already normalised value (``LOOKUP_BITS`` bits)."""
        digest = self._lookup_keys[name].digest(normalised.encode("utf-8"))
        return int.from_bytes(digest[:4], "big") >> (32 - LOOKUP_BITS)

    def name_prefixes(self, *names: str) -> set[int]:
        """The name-prefix index values of a person's names (see ``name_words``)."""
        return {self.compute("name_prefix", name_prefix(word)) for word in name_words(*names)}

    def __repr__(self) -> str:
        return f"BlindIndexer(bits={self.bits}, version={self.version})"

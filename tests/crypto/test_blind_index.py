"""Blind indexes: the same person gives the same value; values are short and keyed per index."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given, settings
from hypothesis import strategies as st

from app.crypto.blind_index import (
    INDEX_NAMES,
    LOOKUP_BITS,
    LOOKUP_NAMES,
    NORMALISATION_VERSION,
    BlindIndexer,
    _KeyedHash,
    name_birth_key,
    normalise_email,
    normalise_name,
)

ROOT_KEY = bytes(range(32))


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Éloïse", "eloise"),
        ("  DUPONT  ", "dupont"),
        ("Müller", "muller"),
        ("François", "francois"),
        ("Çağla", "cagla"),
        ("Jean-Pierre", "jean pierre"),
        ("Jean–Pierre", "jean pierre"),  # en dash
        ("Jean‐Pierre", "jean pierre"),  # Unicode hyphen
        ("N'Diaye", "n diaye"),
        ("N’Diaye", "n diaye"),  # typographic apostrophe
        ("D`Angelo", "d angelo"),
        ("Le  Gall", "le gall"),
        ("Le\tGall\n", "le gall"),
        ("Marie - Claire", "marie claire"),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),  # case folding, not lower()
        ("ﬁlon", "filon"),  # compatibility ligature
    ],
)
def test_name_normalisation(raw: str, normalised: str) -> None:
    assert normalise_name(raw) == normalised


def test_normalisation_is_idempotent() -> None:
    for raw in ("Éloïse N’Diaye-Dupont", "  Le  GALL ", "Straße"):
        once = normalise_name(raw)
        assert normalise_name(once) == once


def test_email_normalisation() -> None:
    assert normalise_email("  Awa.Diallo@Example.FR ") == "awa.diallo@example.fr"


def test_name_birth_key_uses_iso_dates_and_names_without_separators() -> None:
    assert name_birth_key("N'Diaye", "Awa", date(2006, 3, 9)) == "ndiaye|awa|2006-03-09"
    assert name_birth_key("Le Gall", "Jean-Pierre", date(2006, 3, 9)) == (
        "legall|jeanpierre|2006-03-09"
    )


@pytest.mark.parametrize(
    ("last", "first"),
    [
        ("N'Diaye", "Awa"),
        ("N’DIAYE", "awa"),
        ("n diaye", " Awa "),
        ("N-Diaye", "AWA"),
        ("NDIAYE", "Awa"),  # typed without its apostrophe
        ("Ndiaye", "A wa"),
    ],
)
def test_the_same_person_spelt_differently_gets_the_same_value(last: str, first: str) -> None:
    indexer = BlindIndexer(ROOT_KEY, bits=14)
    reference = indexer.compute("name_birth", name_birth_key("N'Diaye", "Awa", date(2006, 3, 9)))
    value = indexer.compute("name_birth", name_birth_key(last, first, date(2006, 3, 9)))
    assert value == reference


def test_a_computation_is_stable_across_indexers() -> None:
    one, two = BlindIndexer(ROOT_KEY, bits=14), BlindIndexer(ROOT_KEY, bits=14)
    assert one.compute("email", "a@b.fr") == two.compute("email", "a@b.fr")


@pytest.mark.parametrize("bits", [4, 8, 14, 16, 24, 32])
def test_values_fit_in_the_configured_width(bits: int) -> None:
    indexer = BlindIndexer(ROOT_KEY, bits=bits)
    values = [indexer.compute(name, f"value-{i}") for i in range(400) for name in INDEX_NAMES]
    assert all(0 <= value < 2**bits for value in values)
    if bits == 4:  # 1,200 values in 16 buckets: every one is hit
        assert len(set(values)) == 2**bits
    else:
        assert max(values) >= 2 ** (bits - 2)  # the top bits are used too


@pytest.mark.parametrize("bits", [0, 3, 33, 64])
def test_widths_out_of_range_are_refused(bits: int) -> None:
    with pytest.raises(ValueError, match="bits"):
        BlindIndexer(ROOT_KEY, bits=bits)


def test_truncation_keeps_the_leading_bits() -> None:
    wide, narrow = BlindIndexer(ROOT_KEY, bits=32), BlindIndexer(ROOT_KEY, bits=14)
    for i in range(50):
        assert narrow.compute("phone", f"+3361234{i:04d}") == (
            wide.compute("phone", f"+3361234{i:04d}") >> 18
        )


def test_each_index_has_its_own_key() -> None:
    indexer = BlindIndexer(ROOT_KEY, bits=32)
    values = [f"+3361234{i:04d}" for i in range(20)]
    for value in values:
        per_index = {name: indexer.compute(name, value) for name in INDEX_NAMES}
        assert len(set(per_index.values())) == len(INDEX_NAMES), value


def test_index_keys_come_from_the_root_key_and_the_version() -> None:
    base = BlindIndexer(ROOT_KEY, bits=32)
    other_root = BlindIndexer(bytes(reversed(range(32))), bits=32)
    next_version = BlindIndexer(ROOT_KEY, bits=32, version=NORMALISATION_VERSION + 1)
    for i in range(20):
        value = f"person{i}@example.fr"
        assert base.compute("email", value) != other_root.compute("email", value)
        assert base.compute("email", value) != next_version.compute("email", value)


def test_an_unknown_index_is_refused() -> None:
    with pytest.raises(KeyError):
        BlindIndexer(ROOT_KEY, bits=14).compute("birth_date", "2006-03-09")


def test_the_indexer_repr_shows_no_key() -> None:
    indexer = BlindIndexer(ROOT_KEY, bits=14)
    assert ROOT_KEY.hex() not in repr(indexer)
    assert "bits=14" in repr(indexer)


def test_lookup_indexes_are_wider_and_keyed_apart_from_the_narrow_ones() -> None:
    indexer = BlindIndexer(b"k" * 32, bits=14)
    values = [f"value-{i}" for i in range(400)]
    for name in LOOKUP_NAMES:
        wide = [indexer.lookup(name, value) for value in values]
        assert all(0 <= v < 2**LOOKUP_BITS for v in wide)
        assert max(wide) >= 2**14  # wider than the narrow index (400 draws below: 2**-4000)
        # Keyed apart: the wide value's top bits are not the narrow value.
        narrow = [indexer.compute(name, value) for value in values]
        assert [w >> (LOOKUP_BITS - 14) for w in wide] != narrow
    other = BlindIndexer(b"o" * 32, bits=14)
    assert [other.lookup("email", v) for v in values] != [
        indexer.lookup("email", v) for v in values
    ]


def _stdlib_value(root_key: bytes, name: str, value: str, bits: int) -> int:
    """An index value computed with the standard library's HMAC, as the indexes of every
    stored person were."""
    info = f"relais-bidx|v{NORMALISATION_VERSION}|beneficiaries|{name}".encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(root_key)
    digest = hmac.new(key, value.encode("utf-8"), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big") >> (32 - bits)


def test_index_values_are_those_of_the_standard_hmac() -> None:
    indexer = BlindIndexer(ROOT_KEY, bits=14)
    for value in ("dupont|marie|2001-02-03", "+33612345678", "x@exemple.fr", "", "éè" * 40):
        for name in INDEX_NAMES:
            assert indexer.compute(name, value) == _stdlib_value(ROOT_KEY, name, value, 14)
        for name in LOOKUP_NAMES:
            expected = _stdlib_value(ROOT_KEY, f"{name}_lookup", value, LOOKUP_BITS)
            assert indexer.lookup(name, value) == expected


@settings(max_examples=200, deadline=None)
@given(key=st.binary(max_size=64), message=st.binary(max_size=300))
def test_the_keyed_hash_is_hmac_sha256(key: bytes, message: bytes) -> None:
    keyed = _KeyedHash(key)
    assert keyed.digest(message) == hmac.digest(key, message, "sha256")
    assert keyed.digest(message) == keyed.digest(message)  # its state is left as it was


def test_a_key_longer_than_a_block_is_refused() -> None:
    with pytest.raises(ValueError, match="at most one"):
        _KeyedHash(bytes(65))


def _normalised_the_long_way(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\s\-‐-―'’`´]+", " ", bare.casefold()).strip()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40) | st.text(max_size=40))
def test_an_ascii_name_is_normalised_as_any_other(value: str) -> None:
    assert normalise_name(value) == _normalised_the_long_way(value)

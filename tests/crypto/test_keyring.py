"""Start-up keys: refused when missing, malformed, reused or public; data keys wrapped by a KEK."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from app.crypto import DataKey, DecryptionError, KeyConfigError, KeyRing
from app.crypto.keyring import DOCUMENTED_EXAMPLES, encode_key, load_or_create_dev_keys

SINGLE_KEYS = ("RELAIS_SECRET_KEY", "RELAIS_INDEX_KEY", "RELAIS_AUDIT_KEY")
REQUIRED = (*SINGLE_KEYS, "RELAIS_KEKS")


def _fresh_key() -> str:
    return encode_key(os.urandom(32))


@pytest.fixture
def settings() -> dict[str, str | None]:
    return {
        "RELAIS_SECRET_KEY": _fresh_key(),
        "RELAIS_KEKS": f"k1:{_fresh_key()}",
        "RELAIS_ACTIVE_KEK": "k1",
        "RELAIS_INDEX_KEY": _fresh_key(),
        "RELAIS_AUDIT_KEY": _fresh_key(),
    }


def _refused(settings: dict[str, str | None], variable: str) -> str:
    """``from_settings`` refuses ``settings`` with a message naming ``variable``."""
    with pytest.raises(KeyConfigError) as caught:
        KeyRing.from_settings(settings)
    message = str(caught.value)
    assert variable in message
    return message


def _set(settings: dict[str, str | None], variable: str, value: str) -> None:
    settings[variable] = f"k1:{value}" if variable == "RELAIS_KEKS" else value


def test_valid_settings_are_accepted(settings: dict[str, str | None]) -> None:
    ring = KeyRing.from_settings(settings)
    assert ring.active_kek_id == "k1"
    assert KeyRing.from_settings(ring.as_settings()) == ring


def test_padding_is_optional(settings: dict[str, str | None]) -> None:
    settings["RELAIS_INDEX_KEY"] = f"{settings['RELAIS_INDEX_KEY']}="
    KeyRing.from_settings(settings)


@pytest.mark.parametrize("variable", REQUIRED)
@pytest.mark.parametrize("absent", [None, ""], ids=["unset", "empty"])
def test_a_missing_key_is_refused(
    settings: dict[str, str | None], variable: str, absent: str | None
) -> None:
    settings[variable] = absent
    _refused(settings, variable)


def test_several_keks_need_an_active_one(settings: dict[str, str | None]) -> None:
    settings["RELAIS_KEKS"] = f"k1:{_fresh_key()},k2:{_fresh_key()}"
    settings["RELAIS_ACTIVE_KEK"] = None
    _refused(settings, "RELAIS_ACTIVE_KEK")


def test_the_active_kek_must_be_listed(settings: dict[str, str | None]) -> None:
    settings["RELAIS_ACTIVE_KEK"] = "k9"
    _refused(settings, "RELAIS_ACTIVE_KEK")


@pytest.mark.parametrize("variable", REQUIRED)
@pytest.mark.parametrize(
    "value",
    ["abcde", "a", "*" * 43, "é" * 43, "!!!!", "not base64 at all!"],
    ids=["bad-length", "one-char", "stars", "non-ascii", "no-alphabet", "words"],
)
def test_malformed_base64_is_refused(
    settings: dict[str, str | None], variable: str, value: str
) -> None:
    _set(settings, variable, value)
    message = _refused(settings, variable)
    if len(value) > 4:  # a short value may appear in any message by chance
        assert value not in message


def test_characters_outside_the_alphabet_are_refused(settings: dict[str, str | None]) -> None:
    settings["RELAIS_INDEX_KEY"] = f"{settings['RELAIS_INDEX_KEY']}!!"
    _refused(settings, "RELAIS_INDEX_KEY")


@pytest.mark.parametrize("variable", REQUIRED)
@pytest.mark.parametrize("size", [16, 31, 33, 64])
def test_a_key_of_the_wrong_length_is_refused(
    settings: dict[str, str | None], variable: str, size: int
) -> None:
    _set(settings, variable, encode_key(os.urandom(size)))
    message = _refused(settings, variable)
    assert str(size) in message


@pytest.mark.parametrize("variable", REQUIRED)
def test_a_constant_key_is_refused(settings: dict[str, str | None], variable: str) -> None:
    _set(settings, variable, encode_key(bytes(32)))
    _refused(settings, variable)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("RELAIS_SECRET_KEY", "RELAIS_INDEX_KEY"),
        ("RELAIS_SECRET_KEY", "RELAIS_AUDIT_KEY"),
        ("RELAIS_INDEX_KEY", "RELAIS_AUDIT_KEY"),
        ("RELAIS_SECRET_KEY", "RELAIS_KEKS"),
        ("RELAIS_INDEX_KEY", "RELAIS_KEKS"),
        ("RELAIS_AUDIT_KEY", "RELAIS_KEKS"),
    ],
)
def test_a_key_reused_for_two_roles_is_refused(
    settings: dict[str, str | None], first: str, second: str
) -> None:
    shared = _fresh_key()
    _set(settings, first, shared)
    _set(settings, second, shared)
    message = _refused(settings, first)
    assert second in message  # both roles are named
    assert shared not in message


def test_two_keks_sharing_a_key_are_refused(settings: dict[str, str | None]) -> None:
    shared = _fresh_key()
    settings["RELAIS_KEKS"] = f"k1:{shared},k2:{shared}"
    _refused(settings, "RELAIS_KEKS[k")


def test_a_kek_id_given_twice_is_refused(settings: dict[str, str | None]) -> None:
    settings["RELAIS_KEKS"] = f"k1:{_fresh_key()},k1:{_fresh_key()}"
    _refused(settings, "RELAIS_KEKS")


@pytest.mark.parametrize("text", ["nocolon", "bad id:" + "A" * 43, ":" + "A" * 43])
def test_a_malformed_kek_list_is_refused(settings: dict[str, str | None], text: str) -> None:
    settings["RELAIS_KEKS"] = text
    _refused(settings, "RELAIS_KEKS")


@pytest.mark.parametrize("example", sorted(DOCUMENTED_EXAMPLES))
@pytest.mark.parametrize("variable", REQUIRED)
def test_a_documented_example_is_refused(
    settings: dict[str, str | None], variable: str, example: str
) -> None:
    _set(settings, variable, example)
    message = _refused(settings, variable)
    assert "example" in message
    assert example not in message


@pytest.mark.parametrize("example", sorted(DOCUMENTED_EXAMPLES))
def test_a_documented_example_is_refused_with_its_padding(
    settings: dict[str, str | None], example: str
) -> None:
    settings["RELAIS_AUDIT_KEY"] = f"{example}="
    _refused(settings, "RELAIS_AUDIT_KEY")


def test_documented_examples_would_otherwise_pass_as_keys() -> None:
    # Otherwise the example check would be dead code behind the length check.
    for example in DOCUMENTED_EXAMPLES:
        assert len(base64.urlsafe_b64decode(example + "=" * (-len(example) % 4))) == 32


# -- wrapping data keys --------------------------------------------------------------------


def test_wrap_and_unwrap_round_trip() -> None:
    ring = KeyRing.generate()
    data_key = DataKey.generate()
    kek_id, wrapped = ring.wrap(data_key)
    assert kek_id == ring.active_kek_id
    assert data_key.secret not in wrapped
    assert ring.unwrap(kek_id, wrapped) == data_key


def test_a_data_key_can_be_rewrapped_under_another_kek() -> None:
    old = KeyRing.generate("k1")
    ring = KeyRing(
        secret_key=old.secret_key,
        keks={**old.keks, "k2": os.urandom(32)},
        active_kek_id="k2",
        index_key=old.index_key,
        audit_key=old.audit_key,
    )
    data_key = DataKey.generate()
    _, under_old = old.wrap(data_key)
    kek_id, under_new = ring.wrap(ring.unwrap("k1", under_old))
    assert kek_id == "k2"
    assert ring.unwrap("k2", under_new) == data_key


def test_unwrap_with_another_kek_fails() -> None:
    _, wrapped = KeyRing.generate("k1").wrap(DataKey.generate())
    with pytest.raises(DecryptionError):
        KeyRing.generate("k1").unwrap("k1", wrapped)


def test_unwrap_with_an_unknown_kek_id_fails() -> None:
    ring = KeyRing.generate("k1")
    _, wrapped = ring.wrap(DataKey.generate())
    with pytest.raises(DecryptionError):
        ring.unwrap("k2", wrapped)


def test_wrap_under_an_unknown_kek_is_refused() -> None:
    with pytest.raises(KeyConfigError):
        KeyRing.generate("k1").wrap(DataKey.generate(), kek_id="k2")


def test_an_altered_wrap_does_not_unwrap() -> None:
    ring = KeyRing.generate()
    kek_id, wrapped = ring.wrap(DataKey.generate())
    for position in range(len(wrapped)):
        altered = bytearray(wrapped)
        altered[position] ^= 0x01
        with pytest.raises(DecryptionError):
            ring.unwrap(kek_id, bytes(altered))


@pytest.mark.parametrize("length", [0, 8, 16, -8])
def test_a_truncated_wrap_does_not_unwrap(length: int) -> None:
    ring = KeyRing.generate()
    kek_id, wrapped = ring.wrap(DataKey.generate())
    with pytest.raises(DecryptionError):
        ring.unwrap(kek_id, wrapped[:length])


# -- nothing secret in a repr --------------------------------------------------------------


def _encodings(secret: bytes) -> list[str]:
    return [
        secret.hex(),
        secret.hex().upper(),
        base64.b64encode(secret).decode(),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
        repr(secret),
    ]


def test_a_keyring_repr_shows_no_key() -> None:
    ring = KeyRing.generate()
    shown = repr(ring) + str(ring)
    secrets = [ring.secret_key, ring.index_key, ring.audit_key, *ring.keks.values()]
    for secret in secrets:
        for encoded in _encodings(secret):
            assert encoded not in shown
    assert ring.active_kek_id in shown


def test_a_data_key_repr_shows_no_secret() -> None:
    data_key = DataKey.generate()
    shown = repr(data_key) + str(data_key)
    for encoded in _encodings(data_key.secret):
        assert encoded not in shown


# -- development keys ----------------------------------------------------------------------


def test_development_keys_are_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "instance" / "relais-keys.json"
    ring, created = load_or_create_dev_keys(path, {})
    assert created
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert KeyRing.from_settings(stored) == ring

    again, created_again = load_or_create_dev_keys(path, {})
    assert not created_again
    assert again == ring
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_development_keys_yield_to_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "relais-keys.json"
    load_or_create_dev_keys(path, {})
    index_key = _fresh_key()
    ring, _ = load_or_create_dev_keys(path, {"RELAIS_INDEX_KEY": index_key, "RELAIS_KEKS": None})
    assert encode_key(ring.index_key) == index_key


def test_an_unreadable_development_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "relais-keys.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(KeyConfigError, match="unreadable"):
        load_or_create_dev_keys(path, {})

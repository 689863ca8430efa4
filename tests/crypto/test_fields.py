"""AES-256-GCM personal fields: a ciphertext only opens in its own place, under its own key."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from app.crypto import (
    DataKey,
    DecryptionError,
    FieldContext,
    decrypt_field,
    decrypt_fields,
    encrypt_field,
    encrypt_fields,
    encrypt_row,
)
from app.crypto.fields import FORMAT_VERSION, HEADER_SIZE, KEY_ID_SIZE, NONCE_SIZE, TAG_SIZE

PERSON = uuid.UUID("0b5c3f8e-2f6d-4c57-9a43-6f1f6c1d2a10")
ROW = uuid.UUID("7e1d9a52-8b0c-4f3e-a1d7-3c9b5e2f4a68")
CONTEXT = FieldContext(table="beneficiaries", column="last_name", row_id=ROW, person_id=PERSON)
PLAINTEXT = "Nguyễn-Lefèvre"


@pytest.fixture(scope="module")
def key() -> DataKey:
    return DataKey.generate()


@pytest.fixture(scope="module")
def sealed(key: DataKey) -> bytes:
    return encrypt_field(key, CONTEXT, PLAINTEXT)


@pytest.mark.parametrize("value", [PLAINTEXT, "", "06 12 34 56 78", "x" * 5000, "😀 ✓"])
def test_round_trip(key: DataKey, value: str) -> None:
    assert decrypt_field(key, CONTEXT, encrypt_field(key, CONTEXT, value)) == value


def test_stored_form_is_version_key_id_nonce_then_sealed_text(key: DataKey, sealed: bytes) -> None:
    assert sealed[0] == FORMAT_VERSION
    assert sealed[1 : 1 + KEY_ID_SIZE] == key.key_id
    assert len(sealed) == HEADER_SIZE + len(PLAINTEXT.encode()) + TAG_SIZE
    assert PLAINTEXT.encode() not in sealed


def test_two_encryptions_of_one_value_differ(key: DataKey) -> None:
    first, second = (encrypt_field(key, CONTEXT, PLAINTEXT) for _ in range(2))
    assert first != second
    assert first[1 + KEY_ID_SIZE : HEADER_SIZE] != second[1 + KEY_ID_SIZE : HEADER_SIZE]
    assert decrypt_field(key, CONTEXT, first) == decrypt_field(key, CONTEXT, second)


@pytest.mark.parametrize(
    "moved",
    [
        pytest.param({"row_id": uuid.uuid4()}, id="another-row"),
        pytest.param({"column": "first_name"}, id="another-column"),
        pytest.param({"person_id": uuid.uuid4()}, id="another-person"),
        pytest.param({"table": "pathway_steps"}, id="another-table"),
        pytest.param({"row_id": PERSON, "person_id": ROW}, id="row-and-person-swapped"),
    ],
)
def test_a_ciphertext_moved_elsewhere_does_not_decrypt(
    key: DataKey, sealed: bytes, moved: dict[str, object]
) -> None:
    elsewhere = dataclasses.replace(CONTEXT, **moved)  # type: ignore[arg-type]
    with pytest.raises(DecryptionError):
        decrypt_field(key, elsewhere, sealed)


def test_context_parts_do_not_run_into_each_other(key: DataKey) -> None:
    # Length prefixes: ("ab", "c") and ("a", "bc") are different places.
    first = FieldContext(table="ab", column="c", row_id=ROW, person_id=PERSON)
    second = FieldContext(table="a", column="bc", row_id=ROW, person_id=PERSON)
    with pytest.raises(DecryptionError):
        decrypt_field(key, second, encrypt_field(key, first, PLAINTEXT))


_BODY_START = HEADER_SIZE
_TAG_START = HEADER_SIZE + len(PLAINTEXT.encode())


@pytest.mark.parametrize(
    "position",
    [
        pytest.param(0, id="version"),
        *(pytest.param(1 + i, id=f"key-id-{i}") for i in range(KEY_ID_SIZE)),
        pytest.param(1 + KEY_ID_SIZE, id="nonce-first"),
        pytest.param(HEADER_SIZE - 1, id="nonce-last"),
        pytest.param(_BODY_START, id="body-first"),
        pytest.param(_TAG_START - 1, id="body-last"),
        pytest.param(_TAG_START, id="tag-first"),
        pytest.param(_TAG_START + TAG_SIZE - 1, id="tag-last"),
    ],
)
@pytest.mark.parametrize("mask", [0x01, 0x80])
def test_one_flipped_bit_anywhere_does_not_decrypt(
    key: DataKey, sealed: bytes, position: int, mask: int
) -> None:
    altered = bytearray(sealed)
    altered[position] ^= mask
    with pytest.raises(DecryptionError):
        decrypt_field(key, CONTEXT, bytes(altered))


def test_every_single_byte_change_is_refused(key: DataKey, sealed: bytes) -> None:
    for position in range(len(sealed)):
        altered = bytearray(sealed)
        altered[position] ^= 0xFF
        with pytest.raises(DecryptionError):
            decrypt_field(key, CONTEXT, bytes(altered))


def test_another_data_key_does_not_decrypt(sealed: bytes) -> None:
    with pytest.raises(DecryptionError):
        decrypt_field(DataKey.generate(), CONTEXT, sealed)


def test_a_wrong_secret_under_the_same_key_id_does_not_decrypt(key: DataKey, sealed: bytes) -> None:
    impostor = DataKey(key_id=key.key_id, secret=DataKey.generate().secret)
    with pytest.raises(DecryptionError):
        decrypt_field(impostor, CONTEXT, sealed)


@pytest.mark.parametrize(
    "length",
    [0, 1, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + TAG_SIZE - 1, -1],
    ids=["empty", "version-only", "short-header", "header-only", "short-tag", "last-byte-cut"],
)
def test_truncated_input_is_refused(key: DataKey, sealed: bytes, length: int) -> None:
    with pytest.raises(DecryptionError):
        decrypt_field(key, CONTEXT, sealed[:length])


@pytest.mark.parametrize("version", [0, 2, 0xFF])
def test_unknown_version_is_refused(key: DataKey, sealed: bytes, version: int) -> None:
    with pytest.raises(DecryptionError, match="version"):
        decrypt_field(key, CONTEXT, bytes([version]) + sealed[1:])


@pytest.mark.parametrize("stored", [PLAINTEXT, None, 42], ids=["text", "none", "int"])
def test_a_value_that_is_not_bytes_is_refused(key: DataKey, stored: object) -> None:
    with pytest.raises(DecryptionError):
        decrypt_field(key, CONTEXT, stored)  # type: ignore[arg-type]


@pytest.mark.parametrize("wrapper", [bytearray, memoryview])
def test_buffer_types_from_drivers_are_accepted(key: DataKey, sealed: bytes, wrapper: type) -> None:
    assert decrypt_field(key, CONTEXT, wrapper(sealed)) == PLAINTEXT


def test_errors_never_carry_the_plaintext_or_the_stored_bytes(key: DataKey, sealed: bytes) -> None:
    with pytest.raises(DecryptionError) as caught:
        decrypt_field(key, dataclasses.replace(CONTEXT, row_id=uuid.uuid4()), sealed)
    message = str(caught.value)
    assert PLAINTEXT not in message
    assert sealed.hex() not in message
    assert repr(sealed) not in message


def test_nonce_is_twelve_random_bytes(key: DataKey) -> None:
    nonces = {encrypt_field(key, CONTEXT, "x")[1 + KEY_ID_SIZE : HEADER_SIZE] for _ in range(200)}
    assert len(nonces) == 200
    assert all(len(nonce) == NONCE_SIZE for nonce in nonces)


def test_several_fields_sealed_with_one_cipher_open_each_in_its_own_place(key: DataKey) -> None:
    """``encrypt_fields`` (one cipher a person) stores what ``encrypt_field`` stores: each field
    opens alone with ``decrypt_field``, in its own place only, with its own random nonce."""
    contexts = [dataclasses.replace(CONTEXT, column=name) for name in ("last_name", "phone")]
    values = [PLAINTEXT, "06 12 34 56 78"]
    sealed = encrypt_fields(key, list(zip(contexts, values, strict=True)))
    assert [decrypt_field(key, c, s) for c, s in zip(contexts, sealed, strict=True)] == values
    assert decrypt_fields(key, list(zip(contexts, sealed, strict=True))) == values
    assert all(
        s[: HEADER_SIZE - NONCE_SIZE] == bytes([FORMAT_VERSION]) + key.key_id for s in sealed
    )
    assert sealed[0][1 + KEY_ID_SIZE : HEADER_SIZE] != sealed[1][1 + KEY_ID_SIZE : HEADER_SIZE]
    with pytest.raises(DecryptionError):
        decrypt_field(key, contexts[1], sealed[0])  # the last name does not open as the phone
    assert encrypt_fields(key, []) == []


def test_the_associated_data_is_the_length_prefixed_parts_of_the_place() -> None:
    """Known answer: every stored ciphertext was sealed with this encoding."""
    key_id = bytes.fromhex("0a0b0c0d")
    assert CONTEXT.associated_data(key_id) == b"".join(
        (
            b"\x00\x00\x00\x0crelais-field",
            b"\x00\x00\x00\x01\x01",
            b"\x00\x00\x00\x04" + key_id,
            b"\x00\x00\x00\x0dbeneficiaries",
            b"\x00\x00\x00\x09last_name",
            b"\x00\x00\x00\x10" + ROW.bytes,
            b"\x00\x00\x00\x10" + PERSON.bytes,
        )
    )
    moved = dataclasses.replace(CONTEXT, table="consents", column="notes", row_id=PERSON)
    assert moved.associated_data(b"\x01") == b"".join(
        (
            b"\x00\x00\x00\x0crelais-field\x00\x00\x00\x01\x01\x00\x00\x00\x01\x01",
            b"\x00\x00\x00\x08consents\x00\x00\x00\x05notes",
            (b"\x00\x00\x00\x10" + PERSON.bytes) * 2,
        )
    )


def test_a_row_sealed_at_once_opens_field_by_field_in_its_own_places(key: DataKey) -> None:
    """``encrypt_row`` stores what ``encrypt_field`` stores, each field in its own place, each
    with its own nonce."""
    columns = [("last_name", PLAINTEXT), ("phone", "06 12 34 56 78"), ("notes", "")]
    sealed = encrypt_row(key, "beneficiaries", ROW, PERSON, columns)
    contexts = [
        FieldContext(table="beneficiaries", column=name, row_id=ROW, person_id=PERSON)
        for name, _ in columns
    ]
    assert [decrypt_field(key, c, s) for c, s in zip(contexts, sealed, strict=True)] == [
        value for _, value in columns
    ]
    nonces = {s[1 + KEY_ID_SIZE : HEADER_SIZE] for s in sealed}
    assert len(nonces) == 3
    assert all(s[: 1 + KEY_ID_SIZE] == bytes([FORMAT_VERSION]) + key.key_id for s in sealed)
    for other in (
        dataclasses.replace(contexts[0], column="first_name"),
        dataclasses.replace(contexts[0], table="consents"),
        dataclasses.replace(contexts[0], row_id=PERSON),
        dataclasses.replace(contexts[0], person_id=ROW),
    ):
        with pytest.raises(DecryptionError):
            decrypt_field(key, other, sealed[0])
    assert encrypt_row(key, "beneficiaries", ROW, PERSON, []) == []

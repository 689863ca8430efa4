"""Keys, field encryption and blind indexes. No Flask, no database: bytes in, bytes out."""

from app.crypto.errors import DecryptionError, KeyConfigError
from app.crypto.fields import (
    DataKey,
    FieldContext,
    decrypt_field,
    decrypt_fields,
    encrypt_field,
    encrypt_fields,
    encrypt_row,
)
from app.crypto.keyring import KeyRing

__all__ = [
    "DataKey",
    "DecryptionError",
    "FieldContext",
    "KeyConfigError",
    "KeyRing",
    "decrypt_field",
    "decrypt_fields",
    "encrypt_field",
    "encrypt_fields",
    "encrypt_row",
]

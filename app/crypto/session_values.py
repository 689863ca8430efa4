"""Short texts kept in the signed session cookie, encrypted as well.

Flask's session cookie is signed, not encrypted: anyone holding the cookie can read it. A text
that says who a person is (a caseworker's search, for instance) is kept there only sealed with
AES-GCM under a key derived from the application's secret key and the text's purpose, so that
it stays out of URLs, browser history and server logs without being readable in the cookie.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE_SIZE = 12


def _cipher(secret_key: str | bytes, purpose: str) -> AESGCM:
    secret = secret_key.encode() if isinstance(secret_key, str) else secret_key
    info = f"relais-session-value|{purpose}".encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)
    return AESGCM(key)


def seal_text(secret_key: str | bytes, purpose: str, text: str) -> str:
    """``text`` encrypted for ``purpose``, as URL-safe base64."""
    nonce = os.urandom(_NONCE_SIZE)
    sealed = _cipher(secret_key, purpose).encrypt(nonce, text.encode(), purpose.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_text(secret_key: str | bytes, purpose: str, sealed: object) -> str | None:
    """The text ``seal_text`` sealed, or ``None`` for anything else (another key or purpose,
    a damaged or foreign value)."""
    if not isinstance(sealed, str):
        return None
    try:
        raw = base64.urlsafe_b64decode(sealed.encode("ascii"))
        opened = _cipher(secret_key, purpose).decrypt(
            raw[:_NONCE_SIZE], raw[_NONCE_SIZE:], purpose.encode()
        )
        return opened.decode()
    except (InvalidTag, ValueError, binascii.Error, UnicodeError):
        return None

"""Errors raised by the crypto layer. Messages never carry key material or plaintext."""


class KeyConfigError(RuntimeError):
    """A key is missing, malformed, reused across roles or a documented example."""


class DecryptionError(ValueError):
    """A ciphertext could not be authenticated: wrong key, wrong context, altered or unknown."""

"""``python -m app.crypto``: print a fresh set of keys, one ``NAME=value`` line each."""

import secrets

from app.crypto.keyring import KeyRing

for name, value in KeyRing.generate(kek_id="k" + secrets.token_hex(2)).as_settings().items():
    print(f"{name}={value}")  # noqa: T201 - the command's output

"""Whether the national exchange's keys are fit to use (``security-check``, "publication").

A territory signs its published statistics with ``RELAIS_PUBLICATION_KEY`` for the territory
``RELAIS_TERRITORY``; a national instance verifies them with ``RELAIS_TRUSTED_PUBLICATION_KEYS``
(docs/scaling.md). Neither is needed to serve: they are checked only when set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.crypto import KeyConfigError, KeyRing
from app.crypto.signing import SigningKey, parse_trusted_keys
from app.setting_values import read_secret
from app.settings import PUBLICATION_KEY, ConfigError, ProductionConfig


def publication_keys_problem(settings: Mapping[str, Any], environ: Mapping[str, str]) -> str | None:
    """The territory's signing key well formed, its own (no other key of the instance), with
    the territory it signs for; the trusted keys of a national instance well formed. None when
    they are, or when neither is set (no exchange); else the reasons, never a key."""
    problems = []
    try:
        text = read_secret(PUBLICATION_KEY, environ)
        if text:
            key = SigningKey.from_text(PUBLICATION_KEY, text)
            if not settings.get("TERRITORY"):
                problems.append(
                    f"{PUBLICATION_KEY} is set without RELAIS_TERRITORY, the territory it signs for"
                )
            if key.seed in _instance_keys(environ):
                problems.append(f"{PUBLICATION_KEY} reuses another key of this instance")
    except (KeyConfigError, ConfigError) as exc:
        problems.append(str(exc))
    trusted = str(settings.get("TRUSTED_PUBLICATION_KEYS") or "").strip()
    if trusted:
        try:
            parse_trusted_keys("RELAIS_TRUSTED_PUBLICATION_KEYS", trusted)
        except KeyConfigError as exc:
            problems.append(str(exc))
    return "; ".join(problems) or None


def _instance_keys(environ: Mapping[str, str]) -> set[bytes]:
    """The instance's other keys (none when they cannot be read: the "keys" check says why)."""
    try:
        ring = KeyRing.from_settings(ProductionConfig.load_secrets(environ))
    except (KeyConfigError, ConfigError):
        return set()
    return {ring.secret_key, ring.index_key, ring.audit_key, *ring.keks.values()}

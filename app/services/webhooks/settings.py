"""The webhook settings of an application's configuration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    allow_http: bool = False  # http:// addresses (development and tests)
    allow_private: bool = False  # loopback and private addresses (development and tests)
    max_attempts: int = 10
    timeout: float = 5.0  # seconds, to connect and to read the answer


def webhook_settings(config: Mapping[str, Any]) -> WebhookSettings:
    return WebhookSettings(
        allow_http=bool(config.get("WEBHOOK_ALLOW_HTTP", False)),
        allow_private=bool(config.get("WEBHOOK_ALLOW_PRIVATE", False)),
        max_attempts=int(config.get("WEBHOOK_MAX_ATTEMPTS") or 10),
        timeout=float(config.get("WEBHOOK_TIMEOUT") or 5),
    )


# The settings that open webhooks to unsafe addresses, and their variables.
WEBHOOK_FLAGS = {
    "WEBHOOK_ALLOW_HTTP": "RELAIS_WEBHOOK_ALLOW_HTTP",
    "WEBHOOK_ALLOW_PRIVATE": "RELAIS_WEBHOOK_ALLOW_PRIVATE",
}


def unsafe_webhook_settings(config: Mapping[str, Any]) -> str | None:
    """Why these settings are unsafe in production (``app.security_checks``), or ``None``."""
    allowed = [variable for setting, variable in WEBHOOK_FLAGS.items() if config.get(setting)]
    if not allowed:
        return None
    return (
        f"{' and '.join(allowed)} on: webhooks could carry hand-off events unencrypted, or "
        "be sent to the servers of Relais's own network (development and tests only)"
    )

"""Webhooks, as rules: which hand-off events a structure's software hears of, how a message is
signed, when a failed delivery is tried again, which addresses may receive.

Nothing here touches the database or the network (``app.services.webhooks`` does).

*Events.* A hand-off sent is ``handoff.received`` at the receiving structure; an answer
(accept, decline, redirect), an expiry and a closing (completed, not completed, withdrawn) are
heard by both structures of the hand-off. A redirect also sends a new hand-off: the structure
it goes to hears ``handoff.received``. Reminders, first contacts and the follow-up questions
are not webhook events. ``ping`` is the test message a manager sends from the page.

*Signature* (the Standard Webhooks convention, https://www.standardwebhooks.com): the secret
is ``whsec_`` followed by the base64 of 32 random bytes; each request carries
``webhook-id`` (the event's id, the same on every retry), ``webhook-timestamp`` (Unix seconds
of this attempt) and ``webhook-signature: v1,<base64 of HMAC-SHA256(key, "id.timestamp.body")>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from app.domain.handoffs import HandoffEvent

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not a secret
SECRET_BYTES = 32
SIGNATURE_VERSION = "v1"
MAX_URL_LENGTH = 500


class WebhookEvent(StrEnum):
    RECEIVED = "handoff.received"
    ANSWERED = "handoff.answered"
    EXPIRED = "handoff.expired"
    CLOSED = "handoff.closed"
    PING = "ping"


# What a structure may subscribe to (``ping`` is always delivered: it is asked for).
SUBSCRIBABLE = (
    WebhookEvent.RECEIVED,
    WebhookEvent.ANSWERED,
    WebhookEvent.EXPIRED,
    WebhookEvent.CLOSED,
)

EVENT_OF_HANDOFF_EVENT: dict[HandoffEvent, WebhookEvent] = {
    HandoffEvent.SEND: WebhookEvent.RECEIVED,
    HandoffEvent.ACCEPT: WebhookEvent.ANSWERED,
    HandoffEvent.DECLINE: WebhookEvent.ANSWERED,
    HandoffEvent.REDIRECT: WebhookEvent.ANSWERED,
    HandoffEvent.EXPIRE: WebhookEvent.EXPIRED,
    HandoffEvent.COMPLETE: WebhookEvent.CLOSED,
    HandoffEvent.NOT_COMPLETE: WebhookEvent.CLOSED,
    HandoffEvent.WITHDRAW: WebhookEvent.CLOSED,
}

# Heard by the receiving structure only; every other event by both structures.
RECEIVER_ONLY = frozenset({WebhookEvent.RECEIVED})


def parse_events(stored: str) -> frozenset[WebhookEvent]:
    """The events of an endpoint's ``events`` column (comma-separated; unknown ones ignored)."""
    known = {event.value: event for event in SUBSCRIBABLE}
    return frozenset(known[name] for name in stored.split(",") if name in known)


def format_events(events: frozenset[WebhookEvent] | set[WebhookEvent]) -> str:
    return ",".join(event.value for event in SUBSCRIBABLE if event in events)


# -- secrets and signatures -------------------------------------------------------------------


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signing_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret (its base64 part, decoded)."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header's value for one attempt."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def verify(secret: str, message_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """Whether one of the space-separated signatures of ``header`` is right (what a receiver
    does; the tests and the documentation's example use it)."""
    expected = signature(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, given) for given in header.split())


# -- retries -----------------------------------------------------------------------------------

FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
JITTER = 0.25  # each wait is drawn within 25 % of its nominal length


def retry_delay(attempts: int, draw: Callable[[float, float], float] = random.uniform) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: 1 min, 2, 4... up to 6 h,
    each within ``JITTER`` of its length (so that many deliveries failing together do not all
    come back at the same second)."""
    nominal = min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_WAIT)
    factor: float = draw(1 - JITTER, 1 + JITTER)
    return timedelta(seconds=nominal.total_seconds() * factor)


def next_attempt(now: datetime, attempts: int, max_attempts: int) -> datetime | None:
    """When to try again after ``attempts`` failures; ``None``: give up."""
    if attempts >= max_attempts:
        return None
    return now + retry_delay(attempts)


# -- addresses --------------------------------------------------------------------------------


class UrlRefused(ValueError):
    """An address a webhook may not be sent to; ``reason`` is a short code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query


def parse_url(url: str, *, allow_http: bool) -> Target:
    """Check the form of an endpoint's address: ``https://`` (``http://`` only when allowed),
    a host, no user name or password, no fragment. ``UrlRefused`` otherwise."""
    if len(url) > MAX_URL_LENGTH or any(c.isspace() or ord(c) < 32 for c in url):
        raise UrlRefused("malformed")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused("malformed") from exc
    if parts.scheme not in ("https", "http"):
        raise UrlRefused("scheme")
    if parts.scheme == "http" and not allow_http:
        raise UrlRefused("http")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise UrlRefused("malformed")
    if parts.fragment:
        raise UrlRefused("malformed")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    default = 443 if parts.scheme == "https" else 80
    return Target(parts.scheme, parts.hostname, port or default, path)


# The IPv6 addresses that carry an IPv4 address (checked as that one): well-known NAT64.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# IPv6 addresses never on the public Internet that ``is_global`` lets through: IPv4-compatible
# (deprecated, ::/96), local-use NAT64 (64:ff9b:1::/48), site-local (deprecated, fec0::/10).
NOT_PUBLIC_V6 = tuple(ipaddress.IPv6Network(n) for n in ("::/96", "64:ff9b:1::/48", "fec0::/10"))


def address_refused(address: str) -> bool:
    """Whether an IP address is not on the public Internet: loopback, private, link-local
    (cloud metadata at 169.254.169.254), multicast, reserved, unspecified, shared (CGNAT).
    An IPv4 address within an IPv6 one (mapped, 6to4, NAT64) is judged as itself: a NAT64
    gateway would connect to 64:ff9b::a9fe:a9fe as to 169.254.169.254."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
        elif ip in NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        elif any(ip in network for network in NOT_PUBLIC_V6):
            return True
    return not ip.is_global or ip.is_multicast

"""Sending one signed webhook request, and checking an address before anything is sent.

The host is resolved here and every address it resolves to is checked (a name that points
at a private address is refused like the address itself); the connection is then made to the
checked addresses, each in turn until one answers, with the host name for TLS (SNI and certificate) and the ``Host`` header, so
that a second resolution cannot lead elsewhere (DNS rebinding). ``http.client`` follows no
redirect: a 3xx answer is a failure. The answer's body is read only up to a few hundred bytes,
and nothing of it is kept. An attempt lasts ``timeout`` seconds in all: the socket's own timeout
bounds each read, and a watchdog cuts the connection of a receiver that answers a byte at a time.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from app.domain.webhooks import Target, UrlRefused, address_refused, parse_url
from app.services.webhooks.settings import WebhookSettings

Resolver = Callable[[str, int], list[str]]
USER_AGENT = "Relais-Webhooks/1"
READ_AT_MOST = 512


def resolve(host: str, port: int) -> list[str]:
    """Every address of ``host`` (``UrlRefused("unresolvable")`` when there is none)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise UrlRefused("unresolvable") from exc
    addresses = sorted({str(info[4][0]) for info in found})
    if not addresses:
        raise UrlRefused("unresolvable")
    return addresses


def checked_target(
    url: str, settings: WebhookSettings, resolver: Resolver = resolve
) -> tuple[Target, list[str]]:
    """The parts of ``url`` and the addresses to connect to, in turn; ``UrlRefused`` when the
    form, the scheme or any address the host resolves to is not allowed."""
    target = parse_url(url, allow_http=settings.allow_http)
    addresses = resolver(target.host, target.port)
    if not settings.allow_private and any(address_refused(a) for a in addresses):
        raise UrlRefused("address")
    return target, addresses


@dataclass(frozen=True, slots=True)
class Answer:
    status: int | None  # None: no HTTP answer
    error: str | None  # a short code; None when delivered (2xx)


def _connect_any(
    addresses: list[str], port: int, timeout: float | None, expired: threading.Event
) -> socket.socket:
    """A connection to the first of the checked ``addresses`` that answers (a host with an
    IPv6 and an IPv4 address is reached from a machine without IPv6), as
    ``socket.create_connection`` does with the addresses it resolves itself."""
    error: OSError = OSError("no address")
    for address in addresses:
        if expired.is_set():
            break
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            error = exc
    raise error


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(
        self, host: str, port: int, addresses: list[str], timeout: float, expired: threading.Event
    ) -> None:
        super().__init__(host, port, timeout=timeout)
        self._addresses, self._expired = addresses, expired

    def connect(self) -> None:
        self.sock = _connect_any(self._addresses, self.port, self.timeout, self._expired)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(
        self, host: str, port: int, addresses: list[str], timeout: float, expired: threading.Event
    ) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._addresses, self._expired = addresses, expired

    def connect(self) -> None:
        raw = _connect_any(self._addresses, self.port, self.timeout, self._expired)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _failure(exc: Exception) -> str:
    """The short code of a failed attempt."""
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ssl.SSLError):
        return "tls"
    if isinstance(exc, ConnectionRefusedError):
        return "connection-refused"
    # ValueError: what http.client refuses to write (a path it cannot encode...).
    return type(exc).__name__[:60]


def _cut(connection: http.client.HTTPConnection, expired: threading.Event) -> None:
    """The attempt's time is up: shut its socket, so that the read waiting on it ends."""
    expired.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    settings: WebhookSettings,
    resolver: Resolver = resolve,
) -> Answer:
    """POST ``body`` to ``url``; never raises for a network or receiver failure."""
    try:
        target, addresses = checked_target(url, settings, resolver)
    except UrlRefused as exc:
        return Answer(None, f"refused-{exc.reason}")
    connection_class = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    expired = threading.Event()
    connection = connection_class(target.host, target.port, addresses, settings.timeout, expired)
    watchdog = threading.Timer(settings.timeout, _cut, (connection, expired))
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={
                **headers,
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
            },
        )
        response = connection.getresponse()
        response.read(READ_AT_MOST)
        status = response.status
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return Answer(None, "timeout" if expired.is_set() else _failure(exc))
    finally:
        watchdog.cancel()
        connection.close()
    if expired.is_set():  # cut short: what was read of the answer may be a part of it
        return Answer(None, "timeout")
    if 200 <= status < 300:
        return Answer(status, None)
    return Answer(status, f"http-{status}")

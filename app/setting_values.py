"""How one environment variable's text becomes a setting: the parsers ``app.settings`` names
in its ``ENVIRONMENT`` table, and the reading of secrets (a variable, or a file named by the
same variable with ``_FILE``). Each refuses a malformed value with a ``ConfigError`` naming
the variable, never showing a secret."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

# The blind-index widths ``app.crypto.blind_index.BlindIndexer`` accepts.
MIN_INDEX_BITS = 4
MAX_INDEX_BITS = 32


class ConfigError(RuntimeError):
    """The environment asks for something Relais cannot run with."""


def read_secret(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """Read a secret from ``NAME`` or from the file named by ``NAME_FILE``."""
    environ = os.environ if environ is None else environ
    value = environ.get(name)
    if value:
        return value.strip()
    path = environ.get(f"{name}_FILE")
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{name}_FILE: cannot read {path} ({exc.strerror})") from exc


def parse_int(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def parse_at_least(minimum: int, words: str) -> Callable[[str, str], int]:
    """A parser of whole numbers of ``minimum`` or more (``words`` names it in the error)."""

    def parse(name: str, raw: str) -> int:
        number = parse_int(name, raw)
        if number < minimum:
            raise ConfigError(f"{name} must be {words} or more, got {raw!r}")
        return number

    return parse


parse_days = parse_at_least(1, "one day")
parse_weeks = parse_at_least(1, "one week")
parse_minutes = parse_at_least(1, "one minute")
parse_positive = parse_at_least(1, "1")
parse_count = parse_at_least(0, "0")


def parse_bits(name: str, raw: str) -> int:
    """The blind-index width: what ``BlindIndexer`` accepts (docs/security.md)."""
    bits = parse_int(name, raw)
    if not MIN_INDEX_BITS <= bits <= MAX_INDEX_BITS:
        raise ConfigError(
            f"{name} must be a whole number from {MIN_INDEX_BITS} to {MAX_INDEX_BITS}, got {raw!r}"
        )
    return bits


def parse_port(name: str, raw: str) -> int:
    port = parse_int(name, raw)
    if not 1 <= port <= 65535:
        raise ConfigError(f"{name} must be a port number from 1 to 65535, got {raw!r}")
    return port


def parse_flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def parse_text(_name: str, raw: str) -> str:
    return raw


# The databases Relais runs on, and the drivers it ships (SQLAlchemy's default for both).
DATABASE_DRIVERS = {"sqlite": ("", "pysqlite"), "postgresql": ("", "psycopg")}


def parse_database_url(name: str, raw: str) -> str:
    """A SQLAlchemy URL of a SQLite or PostgreSQL database (``postgresql+psycopg://...``,
    ``sqlite:///path``). The error never shows the URL: it may hold the database password."""
    example = "e.g. postgresql+psycopg://relais@db-host/relais or sqlite:////path/relais.sqlite3"
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError) as exc:  # no scheme; a port that is not a number
        raise ConfigError(f"{name} is not a database URL ({example})") from exc
    backend, _, driver = url.drivername.partition("+")
    if driver not in DATABASE_DRIVERS.get(backend, ()):
        raise ConfigError(
            f"{name} must name a SQLite or PostgreSQL database ({example}); it names "
            f"{url.drivername!r}, which Relais does not support"
        )
    return raw

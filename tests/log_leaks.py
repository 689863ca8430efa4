"""Suite-wide log capture: no log record of the whole run may hold a personal value, a key,
a password or a token.

``install`` (from ``pytest_configure`` in conftest) puts one handler on the root logger and
lowers the root level to DEBUG, so every record of every logger reaches it, in every test,
at every level; SQLAlchemy keeps its own WARNING level (SQL statements are logged only where a
test turns them on, e.g. ``tests/web/test_no_leaks.py``, and then they reach this handler too).
The handler keeps each record's text: the message with its arguments, the exception and the
stack if any, and any ``extra`` attribute. ``check`` (from ``pytest_sessionfinish``) scans them
once, at the end, for:

* the personal values the tests use: every literal given to an identity field (last and first
  names, e-mails, phones in several writings, addresses, notes) in the test sources, and the
  factories' defaults;
* every secret of every ``KeyRing`` and ``DataKey`` built during the run (base64url and hex),
  recorded as they are built;
* the test and demo passwords; Argon2 hashes;
* signed tokens (Flask session cookies, CSRF tokens: itsdangerous' ``payload.time.signature``).

A found value fails the run, naming the logger and the kind of value - never the value.
``tests/test_log_leaks.py`` checks that the handler sees records and that planted values of
each kind are found.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.crypto.fields import DataKey
from app.crypto.keyring import KeyRing, encode_key
from app.demo.data.network import DEMO_PASSWORD
from tests import factories

TESTS = Path(__file__).resolve().parent
IDENTITY_LITERAL = re.compile(
    r"""\b(last_name|first_name|email|phone|address|notes|france_travail_id|ine)"?\s*[:=]\s*"""
    r"""["']([^"'\n]{5,})["']"""
)
# Personal values written in test data other than as keyword arguments (CSV lines, forms).
EXTRA_VALUES = ("Tilleuls", "Zephyrin", "Aurélie", "Quintavalle", "Marguerite")
# Written in the tests as identity values but also ordinary words of the application.
NOT_PERSONAL = frozenset(
    {"not a phone", "pas un numéro", "no-at-sign", "pas une adresse", "Alpha", "Autre"}
)
SIGNED_TOKEN = re.compile(r"[\w-]{8,}\.[\w-]{4,8}\.[\w-]{27}(?![\w-])")
ARGON2_HASH = re.compile(r"\$argon2(?:id|i|d)\$")
LONG_RUN = re.compile(r"[A-Za-z0-9_+/=-]{40,}")
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}


def _phone_forms(value: str) -> set[str]:
    digits = re.sub(r"\D", "", value)
    forms = {value}
    if len(digits) >= 9:
        forms |= {digits, digits[-9:]}
    return forms


def personal_values(sources: Iterable[Path]) -> set[str]:
    """Identity values written in the test sources, as they may appear in a log."""
    found: set[str] = set(EXTRA_VALUES)
    for path in sources:
        for name, value in IDENTITY_LITERAL.findall(path.read_text(encoding="utf-8")):
            if value in NOT_PERSONAL or "%" in value or "{" in value:
                continue
            found |= _phone_forms(value) if name == "phone" else {value}
    for value in list(found):
        if "@" in value:
            found.add(value.lower())
    return found


@dataclass
class Secrets:
    """Key material recorded as it is built, as its texts (base64url and hex)."""

    texts: set[str] = field(default_factory=set)

    def add(self, raw: bytes) -> None:
        self.texts.add(encode_key(raw))
        self.texts.add(raw.hex())

    def found_in(self, text: str) -> bool:
        for run in LONG_RUN.findall(text):
            for size in (43, 64):
                for start in range(len(run) - size + 1):
                    if run[start : start + size] in self.texts:
                        return True
        return False


@dataclass
class Leak:
    logger: str
    kind: str


class LeakRecorder(logging.Handler):
    """Keeps the text of every record; ``leaks`` scans them."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            parts = [record.getMessage()]
        except Exception:  # noqa: BLE001 - a badly formed record still gets scanned
            parts = [str(record.msg), repr(record.args)]
        if record.exc_info and record.exc_info[1] is not None:
            parts.extend(traceback.format_exception(record.exc_info[1]))
        if record.exc_text:
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(record.stack_info)
        parts.extend(str(v) for k, v in vars(record).items() if k not in _STANDARD)
        self.records.append((record.name, "\n".join(parts)))


def leaks(
    records: Iterable[tuple[str, str]],
    values: Iterable[str],
    secrets: Secrets,
    passwords: Iterable[str],
) -> list[Leak]:
    """Every (logger, kind) whose records hold a personal value, a key, a password or a token."""
    value_pattern = re.compile(
        "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)), re.IGNORECASE
    )
    password_list = list(passwords)
    found: list[Leak] = []
    for logger, text in records:
        kinds = []
        if value_pattern.search(text):
            kinds.append("personal value")
        if secrets.found_in(text):
            kinds.append("key")
        if any(p in text for p in password_list) or ARGON2_HASH.search(text):
            kinds.append("password")
        if SIGNED_TOKEN.search(text):
            kinds.append("signed token")
        found.extend(Leak(logger, kind) for kind in kinds)
    return found


@dataclass
class Capture:
    recorder: LeakRecorder
    secrets: Secrets
    values: set[str]
    passwords: tuple[str, ...]
    previous_level: int
    restore: list[tuple[Any, str, Any]]

    def leaks(self) -> list[Leak]:
        return leaks(self.recorder.records, self.values, self.secrets, self.passwords)


CAPTURE: list[Capture] = []


def _recording(cls: Any, attributes: tuple[str, ...], secrets: Secrets) -> Any:
    original = cls.__post_init__

    def __post_init__(self: Any) -> None:  # noqa: N807 - replaces the dataclass hook
        original(self)
        for name in attributes:
            value = getattr(self, name)
            for raw in value.values() if isinstance(value, dict) else (value,):
                secrets.add(raw)

    return original, __post_init__


def install() -> Capture:
    secrets = Secrets()
    restore: list[tuple[Any, str, Any]] = []
    for cls, attributes in (
        (KeyRing, ("secret_key", "keks", "index_key", "audit_key")),
        (DataKey, ("secret",)),
    ):
        original, recording = _recording(cls, attributes, secrets)
        restore.append((cls, "__post_init__", original))
        cls.__post_init__ = recording
    recorder = LeakRecorder()
    root = logging.getLogger()
    capture = Capture(
        recorder=recorder,
        secrets=secrets,
        values=personal_values(sorted(TESTS.rglob("*.py"))),
        passwords=(factories.PASSWORD, DEMO_PASSWORD),
        previous_level=root.level,
        restore=restore,
    )
    root.addHandler(recorder)
    root.setLevel(logging.DEBUG)
    CAPTURE[:] = [capture]
    return capture


def uninstall(capture: Capture) -> None:
    root = logging.getLogger()
    root.removeHandler(capture.recorder)
    root.setLevel(capture.previous_level)
    for cls, name, original in capture.restore:
        setattr(cls, name, original)

"""The suite-wide log capture (tests/log_leaks.py) sees every record and finds planted values.

The capture fails the whole run at its end; these tests check that it cannot pass for want of
looking: its handler is on the root logger at DEBUG, and a value of each kind, planted in a
record, is found (the planted records are then removed so that the run itself stays clean).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from app.crypto import KeyRing
from app.crypto.fields import DataKey
from app.crypto.keyring import encode_key
from app.services.security.passwords import hash_password
from tests import factories, log_leaks

PROBE = "relais.leak_probe"


@pytest.fixture
def capture() -> Iterator[log_leaks.Capture]:
    assert log_leaks.CAPTURE, "the capture is installed by conftest's pytest_configure"
    current = log_leaks.CAPTURE[0]
    kept = len(current.recorder.records)
    yield current
    # Take the planted records out again, so that the end-of-run check stays meaningful.
    del current.recorder.records[kept:]


def _plant(capture: log_leaks.Capture, message: str, *args: object) -> list[log_leaks.Leak]:
    start = len(capture.recorder.records)
    logging.getLogger(PROBE).debug(message, *args)
    planted = capture.recorder.records[start:]
    assert [name for name, _ in planted] == [PROBE], "the root handler did not see the record"
    return log_leaks.leaks(planted, capture.values, capture.secrets, capture.passwords)


def test_the_handler_sees_debug_records_of_any_logger(capture: log_leaks.Capture) -> None:
    root = logging.getLogger()
    assert capture.recorder in root.handlers
    assert root.getEffectiveLevel() == logging.DEBUG
    assert _plant(capture, "nothing personal in %s", "this line") == []


@pytest.mark.parametrize(
    "value",
    [
        "Zephyrin",
        "ZEPHYRIN",
        "Aurélie",
        "aurelie.z@exemple.fr",
        "0612345678",
        "+33612345678",
        "12 rue des Tilleuls, 90000 Belfort",
        "Quintavalle",
    ],
)
def test_a_planted_personal_value_is_found(capture: log_leaks.Capture, value: str) -> None:
    assert [leak.kind for leak in _plant(capture, "person %s seen", value)] == ["personal value"]


def test_planted_keys_are_found(capture: log_leaks.Capture, keyring: KeyRing) -> None:
    data_key = DataKey.generate()  # recorded as it is built
    for raw in (keyring.audit_key, keyring.index_key, data_key.secret):
        for text in (encode_key(raw), raw.hex()):
            assert [leak.kind for leak in _plant(capture, "key=%s;", text)] == ["key"]
    assert _plant(capture, "key=%s", encode_key(secrets.token_bytes(32))) == []


def test_planted_passwords_hashes_and_tokens_are_found(capture: log_leaks.Capture) -> None:
    assert [x.kind for x in _plant(capture, "pw %s", factories.PASSWORD)] == ["password"]
    digest = hash_password("another passphrase entirely")
    assert [x.kind for x in _plant(capture, "hash %s", digest)] == ["password"]
    token = URLSafeTimedSerializer("k").dumps({"csrf": "abc"})
    assert [x.kind for x in _plant(capture, "cookie %s", token)] == ["signed token"]


def test_an_exception_in_a_record_is_scanned(capture: log_leaks.Capture) -> None:
    start = len(capture.recorder.records)
    try:
        raise ValueError("Marguerite")
    except ValueError:
        logging.getLogger(PROBE).exception("failed")
    planted = capture.recorder.records[start:]
    found = log_leaks.leaks(planted, capture.values, capture.secrets, capture.passwords)
    assert [leak.kind for leak in found] == ["personal value"]


def test_real_session_and_csrf_tokens_would_be_found(
    capture: log_leaks.Capture, app: Flask, client: FlaskClient
) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    html = page.get_data(as_text=True)
    csrf = html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    for token in (cookie.value, csrf):
        assert "signed token" in [leak.kind for leak in _plant(capture, "t=%s", token)]

"""The sign-in settings are checked when the application starts (a clean message, status 1)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from app import StartupError, _check_sign_in
from app.settings import ProductionConfig, as_mapping
from tests.test_startup import ROOT, _production_env, _start


@pytest.mark.parametrize(
    ("setting", "value", "reason"),
    [
        ("SESSION_IDLE_MINUTES", 0, "RELAIS_SESSION_IDLE_MINUTES must be 1 or more"),
        ("LOGIN_CLIENT_MAX_FAILURES", -3, "RELAIS_LOGIN_CLIENT_MAX_FAILURES must be 1 or more"),
        (
            "LOGIN_FRESH_CLIENT_DELAY_SECONDS",
            -1,
            "RELAIS_LOGIN_FRESH_CLIENT_DELAY_SECONDS must be 0 or more",
        ),
        ("ANONYMOUS_POST_LIMIT", "often", "RELAIS_ANONYMOUS_POST_LIMIT is not a rate limit"),
        ("API_AUTH_FAILURE_LIMIT", "10/sec", "RELAIS_API_AUTH_FAILURE_LIMIT is not a rate limit"),
    ],
)
def test_a_bad_sign_in_setting_stops_the_start(setting: str, value: object, reason: str) -> None:
    app = Flask(__name__)
    app.config.from_mapping(as_mapping(ProductionConfig, {}))
    app.config[setting] = value
    with pytest.raises(StartupError, match=reason):
        _check_sign_in(app)


def test_an_unusable_limiter_storage_stops_the_start(tmp_path: Path) -> None:
    env = _production_env(tmp_path, RELAIS_RATELIMIT_STORAGE_URI="carrier-pigeon://x")
    result = _start(env)
    assert result.returncode == 1
    assert "Relais cannot start: RELAIS_RATELIMIT_STORAGE_URI cannot be used" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_sign_in_settings_are_read_from_the_environment(tmp_path: Path) -> None:
    env = _production_env(
        tmp_path,
        RELAIS_SESSION_IDLE_MINUTES="15",
        RELAIS_ANONYMOUS_POST_LIMIT="5 per minute",
        RELAIS_RATELIMIT_STORAGE_URI="memory://",
    )
    script = (
        "from app import create_app; c = create_app().config; "
        "print(c['SESSION_IDLE_MINUTES'], c['ANONYMOUS_POST_LIMIT'], c['SESSION_COOKIE_NAME'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["15", "5", "per", "minute", "__Host-relais_session"]

"""A real server with the demo network, driven by Debian's Chromium through Playwright.

The server runs in its own process, on its own database (a SQLite file, or a PostgreSQL
database next to ``RELAIS_TEST_DATABASE_URL``), prepared the way the README does it:
``db upgrade`` then ``demo load``, and served by gunicorn with two workers.

Every browser context is opened by ``new_context``: Chromium enforces Relais's
Content-Security-Policy there as any browser does, and each test fails on anything the policy
blocked in its pages (an inline script or style, which browsers ignore: a dead button, a chart
at the wrong size) and on any file a page loads that does not come (a style sheet or a script
misnamed). axe-core runs under the policy too (Playwright's evaluation is not a page script).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import create_engine, make_url

from app.crypto import KeyRing

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# What the pages of the test running could not use (``new_context``): what the
# Content-Security-Policy blocked, and the files they load (style sheet, script, icon) that
# did not come.
_BLOCKED: list[str] = []


def new_context(browser: Any, **options: Any) -> Any:
    """A browser context (Playwright's ``new_context`` options) whose pages report what the
    Content-Security-Policy blocks and the files they load that fail: the test then fails
    (``_nothing_blocked``). The pages themselves may answer 4xx (the tests of refusals)."""
    context = browser.new_context(**options)

    def watch(page: Any) -> None:
        def seen(message: Any) -> None:
            if message.type == "error" and "Content Security Policy" in message.text:
                _BLOCKED.append(f"{page.url}: {message.text[:200]}")

        def loaded(response: Any) -> None:
            if response.request.resource_type != "document" and response.status >= 400:
                _BLOCKED.append(f"{page.url}: {response.url} answered {response.status}")

        page.on("console", seen)
        page.on("response", loaded)

    context.on("page", watch)
    return context


@pytest.fixture(autouse=True)
def _nothing_blocked() -> Iterator[None]:
    _BLOCKED.clear()
    yield
    assert _BLOCKED == [], "blocked by the Content-Security-Policy, or a file that did not load"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM:
        return
    skip = pytest.mark.skip(reason="Chromium is not installed (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


# The second factors of the demo accounts, read from ``demo load`` (development prints them),
# by server (each test server has its own database and seeds): base URL -> e-mail -> otpauth
# URI; and what the tests already spent, so that no code is sent twice.
TOTP_URIS: dict[str, dict[str, str]] = {}
_LAST_STEP: dict[tuple[str, str], int] = {}
_RECOVERY_CODES: dict[tuple[str, str], list[str]] = {}
_FLASK: dict[str, tuple[list[str], dict[str, str]]] = {}
_URI = re.compile(r"otpauth://totp/\S+")
_RECOVERY = re.compile(r"^  ([A-Z0-9]{4}(?:-[A-Z0-9]{4}){3})$", re.MULTILINE)


def _second_factors(output: str) -> dict[str, str]:
    found = {}
    for uri in _URI.findall(output):
        totp = pyotp.parse_uri(uri)
        assert isinstance(totp, pyotp.TOTP)
        found[str(totp.name)] = uri
    return found


def second_factor_code(base: str, email: str) -> str | None:
    """A code for the demo account ``email`` of the server at ``base`` that the server has not
    seen yet, or ``None`` when the account has no second factor.

    A code is single use and accepted one 30-second step either side: the current step's,
    else the next step's; a third sign-in within the same step uses a recovery code (printed
    by ``flask users recovery-codes``, as an administrator would hand them over).
    """
    uri = TOTP_URIS.get(base, {}).get(email)
    if uri is None:
        return None
    step = int(time.time()) // 30
    use = max(step, _LAST_STEP.get((base, email), -1) + 1)
    if use <= step + 1:
        _LAST_STEP[base, email] = use
        return str(pyotp.parse_uri(uri).generate_otp(use))
    if not _RECOVERY_CODES.get((base, email)):
        flask, env = _FLASK[base]
        printed = subprocess.run(
            [*flask, "users", "recovery-codes", email],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        _RECOVERY_CODES[base, email] = _RECOVERY.findall(printed.stdout)
    return _RECOVERY_CODES[base, email].pop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _admin_sql(url: str, statement: str) -> None:
    engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def browser_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from scratch_database(tmp_path_factory, "browser")


def serve(
    database_url: str, *setup: list[str], settings: dict[str, str] | None = None
) -> Iterator[str]:
    """Prepare ``database_url`` with ``db upgrade`` then each ``setup`` command (``flask``
    arguments), serve it with gunicorn and two workers, yield its base URL, stop it.
    ``settings``: more ``RELAIS_*`` variables of the server's environment."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 - only a fallback
        "RELAIS_ENV": "development",
        "DATABASE_URL": database_url,
        # Every test signs in from 127.0.0.1: the per-address request limit of the sign-in
        # form stays on, high enough for the whole run.
        "RELAIS_ANONYMOUS_POST_LIMIT": "600 per minute",
        **KeyRing.generate().as_settings(),
        **(settings or {}),
    }
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    seeds: dict[str, str] = {}
    for command in (["db", "upgrade"], *setup):
        done = subprocess.run(
            [*flask, *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
        seeds.update(_second_factors(done.stdout))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    TOTP_URIS[base] = seeds
    _FLASK[base] = (flask, env)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_until_healthy(base, server)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stderr:
            server.stderr.close()


# How long a test server may take to answer /health: generous, as on a loaded machine (the
# suite's workers, a busy CI) gunicorn and its workers import the application slowly.
SERVER_START_SECONDS = 180


def _wait_until_healthy(base: str, server: subprocess.Popen[bytes]) -> None:
    """Wait for ``server`` to answer ``/health``; fail at once, with its error, if it exits."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            error = server.stderr.read().decode(errors="replace")[-2000:] if server.stderr else ""
            raise RuntimeError(f"the test server exited ({server.returncode}): {error}")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=5) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the test server did not answer within {SERVER_START_SECONDS} s")


def scratch_database(tmp_path_factory: pytest.TempPathFactory, suffix: str) -> Iterator[str]:
    """An empty database for a server of its own: a SQLite file, or a PostgreSQL database
    named after ``RELAIS_TEST_DATABASE_URL``'s with ``suffix``, dropped afterwards."""
    configured = os.environ.get("RELAIS_TEST_DATABASE_URL")
    if not configured or make_url(configured).get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp(suffix) / 'relais.sqlite3'}"
        return
    name = f"{make_url(configured).database}_{suffix}"
    _admin_sql(configured, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin_sql(configured, f'CREATE DATABASE "{name}"')
    yield make_url(configured).set(database=name).render_as_string(hide_password=False)
    _admin_sql(configured, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def live_server(browser_db: str) -> Iterator[str]:
    yield from serve(browser_db, ["demo", "load"])


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


# Every journey runs on an office screen and on a phone (ux.md: "Every size, every user").
VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    return VIEWPORTS[request.param]


@pytest.fixture
def page(browser: object, live_server: str, viewport: dict[str, int]) -> Iterator[object]:
    context = new_context(browser, base_url=live_server, viewport=viewport)
    new_page = context.new_page()
    yield new_page
    context.close()

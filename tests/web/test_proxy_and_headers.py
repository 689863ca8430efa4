"""Behind a TLS proxy: X-Forwarded-* honoured only for RELAIS_TRUSTED_PROXIES, HSTS in
production, and no Server banner from the application or from gunicorn."""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask, Response, request
from flask.testing import FlaskClient
from werkzeug.middleware.proxy_fix import ProxyFix

from app.crypto import KeyRing
from app.web import HSTS, trust_proxies
from tests.web.helpers import csrf_token

ROOT = Path(__file__).resolve().parent.parent.parent
FORWARDED = {
    "X-Forwarded-For": "198.51.100.9, 203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "localhost",
}


@pytest.fixture
def seen(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str | None, str]]:
    """The client address and scheme of each request, as the application sees them."""
    found: list[tuple[str | None, str]] = []

    def record(response: Response) -> Response:
        found.append((request.remote_addr, request.scheme))
        return response

    monkeypatch.setitem(app.after_request_funcs, None, [*app.after_request_funcs[None], record])
    return found


@pytest.fixture
def behind_one_proxy(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite's application as RELAIS_TRUSTED_PROXIES=1 builds it (restored afterwards)."""
    monkeypatch.setattr(app, "wsgi_app", app.wsgi_app)
    trust_proxies(app, 1)


def test_forwarded_headers_are_ignored_without_a_trusted_proxy(
    client: FlaskClient, seen: list[tuple[str | None, str]]
) -> None:
    client.get("/login", headers=FORWARDED)
    assert seen == [("127.0.0.1", "http")]


@pytest.mark.usefixtures("behind_one_proxy")
def test_one_trusted_proxy_gives_the_client_address_and_https(
    client: FlaskClient, seen: list[tuple[str | None, str]]
) -> None:
    client.get("/login", headers=FORWARDED)
    # Only the last address is the proxy's word; the first one came from the client.
    assert seen == [("203.0.113.7", "https")]


@pytest.mark.usefixtures("behind_one_proxy")
def test_behind_the_proxy_a_post_without_referer_is_refused(client: FlaskClient) -> None:
    """Over HTTPS (the proxy says so), Flask-WTF checks the Referer of every form."""
    token = csrf_token(client, "/login")
    data = {"email": "nobody@example.org", "password": "wrong password", "csrf_token": token}
    refused = client.post("/login", data=data, headers=FORWARDED)
    assert refused.status_code == 400
    same_site = {**FORWARDED, "Referer": "https://localhost/login"}
    assert client.post("/login", data=data, headers=same_site).status_code == 200
    other_site = {**FORWARDED, "Referer": "https://evil.example/login"}
    assert client.post("/login", data=data, headers=other_site).status_code == 400


def test_without_a_trusted_proxy_the_referer_is_not_asked(client: FlaskClient) -> None:
    token = csrf_token(client, "/login")
    data = {"email": "nobody@example.org", "password": "wrong password", "csrf_token": token}
    assert client.post("/login", data=data, headers=FORWARDED).status_code == 200


def test_create_app_installs_proxy_fix_as_configured(tmp_path: Path) -> None:
    """In a fresh interpreter (building an app rewires the database): 0 installs nothing,
    2 trusts two hops of each header."""
    code = (
        "from app import create_app; from config import TestingConfig; import sys\n"
        "from app.crypto import KeyRing\n"
        "for count in (0, 2):\n"
        "    app = create_app(TestingConfig, keyring=KeyRing.generate(), overrides={\n"
        f"        'DATABASE_URL': 'sqlite:///{tmp_path / 'proxy.sqlite3'}',\n"
        "        'TRUSTED_PROXIES': count})\n"
        "    fix = app.wsgi_app\n"
        "    print(count, type(fix).__name__, getattr(fix, 'x_for', '-'),\n"
        "          getattr(fix, 'x_proto', '-'), getattr(fix, 'x_host', '-'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["0 method - - -", "2 ProxyFix 2 2 2"]
    assert ProxyFix.__name__ == "ProxyFix"


def test_hsts_in_production_only(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "Strict-Transport-Security" not in client.get("/login").headers
    monkeypatch.setitem(app.config, "RELAIS_ENV", "production")
    for path in ("/login", "/health", "/static/app.css"):
        assert client.get(path).headers["Strict-Transport-Security"] == HSTS
    assert HSTS == "max-age=63072000; includeSubDomains"


def test_the_application_sends_no_server_banner(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "Server" not in client.get("/login").headers

    def banner(response: Response) -> Response:  # an extension or a view that would set one
        response.headers["Server"] = "Werkzeug/3 Python/3.11"
        return response

    monkeypatch.setitem(app.after_request_funcs, None, [*app.after_request_funcs[None], banner])
    assert "Server" not in client.get("/login").headers


def _gunicorn_headers(tmp_path: Path, config: Path) -> dict[str, str]:
    """Run gunicorn with ``config`` on a socket made here (no port to wait for) and return
    the headers of one page."""
    env = {
        "PATH": "/usr/bin:/bin",
        "RELAIS_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'gunicorn.sqlite3'}",
        **KeyRing.generate().as_settings(),
    }
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    fd = listener.fileno()
    command = [sys.executable, "-m", "gunicorn", "-c", str(config), "--workers", "1"]
    server = subprocess.Popen(
        [*command, "--bind", f"fd://{fd}", "app:create_app()"],
        cwd=ROOT,
        env=env,
        pass_fds=(fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", "/login")
        response = connection.getresponse()
        response.read()
        connection.close()
        return dict(response.getheaders())
    finally:
        listener.close()
        server.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        server.wait(timeout=30)


def test_gunicorn_with_the_repository_config_sends_no_server_header(tmp_path: Path) -> None:
    """Without gunicorn.conf.py, gunicorn answers with "Server: gunicorn"."""
    headers = _gunicorn_headers(tmp_path, ROOT / "gunicorn.conf.py")
    assert "Server" not in headers
    assert headers["Content-Security-Policy"].startswith("default-src 'self'")

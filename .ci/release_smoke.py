"""Sign in to a Relais started from its wheel, as a browser behind the TLS proxy would.

    python release_smoke.py http://127.0.0.1:PORT EMAIL PASSWORD

Run by ``.ci/release-check`` (standard library only: it runs with any Python). The server
trusts one proxy (``RELAIS_TRUSTED_PROXIES=1``), so each request says it came over HTTPS
(``X-Forwarded-Proto``); the cookies are kept by hand because they are ``Secure``. Exits
non-zero, saying why, unless ``GET /login`` answers the sign-in page and the sign-in lands on
a signed-in page.
"""

from __future__ import annotations

import http.client
import re
import sys
import time
from urllib.parse import urlencode, urlsplit

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browser:
    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = {
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "203.0.113.7",
            "Host": "relais.example.test",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = "https://relais.example.test"
            headers["Referer"] = "https://relais.example.test/login"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        answer = response.read().decode("utf-8", "replace")
        return response.status, {k.lower(): v for k, v in response.getheaders()}, answer


def main() -> int:
    base, email, password = sys.argv[1:4]
    browser = Browser(base)
    for _ in range(60):  # gunicorn's workers are starting
        try:
            status, _headers, page = browser.request("GET", "/login")
            break
        except OSError:
            time.sleep(1)
    else:
        print("release check: the server never answered", file=sys.stderr)
        return 1
    if status != 200 or 'name="password"' not in page:
        print(f"release check: GET /login answered {status}:\n{page[:2000]}", file=sys.stderr)
        return 1
    print("GET /login: 200, the sign-in page")
    found = TOKEN.search(page)
    if found is None:
        print("release check: no CSRF token on the sign-in page", file=sys.stderr)
        return 1
    form = {"csrf_token": found.group(1), "email": email, "password": password, "next": ""}
    status, headers, page = browser.request("POST", "/login", form)
    if status not in (302, 303) or headers.get("location", "").rstrip("/").endswith("/login"):
        print(
            f"release check: signing in answered {status} {headers.get('location')}:\n{page[:2000]}",
            file=sys.stderr,
        )
        return 1
    target = urlsplit(headers["location"]).path or "/"
    for _ in range(5):  # the home page sends each role to its own page
        status, headers, page = browser.request("GET", target)
        if status not in (301, 302, 303):
            break
        target = urlsplit(headers["location"]).path or "/"
    if status != 200 or "/logout" not in page:
        print(f"release check: after signing in, GET {target} answered {status}:", file=sys.stderr)
        print(page[:2000], file=sys.stderr)
        return 1
    print(f"signed in: GET {target}: 200, a signed-in page")
    status, _headers, page = browser.request("GET", "/health")
    if status != 200 or '"keys":"ok"' not in page.replace(" ", ""):
        print(f"release check: GET /health answered {status}: {page[:500]}", file=sys.stderr)
        return 1
    print("GET /health: 200, the keys open the database")
    return 0


if __name__ == "__main__":
    sys.exit(main())

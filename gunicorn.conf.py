"""gunicorn's settings for Relais, as the README's production recipe runs it:

    gunicorn -c gunicorn.conf.py "app:create_app()"

Options given on the command line win over these. Relais runs behind a TLS reverse proxy
(docs/deployment.md): gunicorn listens on the loopback interface only, and the proxy's
X-Forwarded-* headers are trusted by the application itself, as RELAIS_TRUSTED_PROXIES says.
"""

import gc

import gunicorn.http.wsgi

bind = "127.0.0.1:8000"
workers = 4
# The application is built once, in the master, before the workers are forked: a
# configuration that Relais refuses ("Relais cannot start: ...") stops gunicorn with that
# message, instead of every worker failing and being replaced, for ever.
preload_app = True
# No access log: its lines would hold the query strings, and a search holds a name.
accesslog = None


# gunicorn writes "Server: gunicorn" on every response and has no setting to leave it out:
# its response class is given a header list without that line. The proxy drops or replaces
# the header on its side too (nginx does by default; Caddy: docs/deployment.md).
def _headers_without_server(response: gunicorn.http.wsgi.Response) -> list[str]:
    lines: list[str] = _gunicorn_default_headers(response)
    return [line for line in lines if not line.lower().startswith("server:")]


_gunicorn_default_headers = getattr(
    gunicorn.http.wsgi.Response.default_headers,
    "relais_original",
    gunicorn.http.wsgi.Response.default_headers,
)
_headers_without_server.relais_original = _gunicorn_default_headers  # type: ignore[attr-defined]
gunicorn.http.wsgi.Response.default_headers = _headers_without_server


def post_fork(server: object, worker: object) -> None:
    """A forked worker opens its own database connections (the master opened none, but the
    pool is not shared across processes: SQLAlchemy's recipe for forking)."""
    from app.extensions import db

    db.engine.dispose(close=False)


def pre_fork(server: object, worker: object) -> None:
    """The application built in the master (``preload_app``) is moved out of the garbage
    collector's reach before each fork: its objects live as long as the process, and a full
    collection in a worker no longer walks them (about 0.8 ms of CPU per request in the
    in-process bench: docs/performance.md, "Third pass"); the pages they sit on are not
    touched either, so the workers keep sharing them with the master."""
    gc.collect()
    gc.freeze()

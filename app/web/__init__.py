"""Web layer: blueprints, forms, request wiring.

One folder per feature (``people``, ``handoffs``, ``pathways``, ``directory``, ``dashboard``,
``imports``, ``auth``, ``admin``), each a blueprint routed with decorators, with its forms and
labels beside its views; templates follow the same names under ``templates/``. Shared here:
``access`` (the authorisation matrix: every endpoint classified), ``context`` (the acting user, the vault, dates, role guards), ``forms_support``, ``labels``,
``listing``, ``errors`` (error pages), ``request_guard`` (malformed requests refused first), ``key_guard`` (every request refused
while the keys do not open the database), ``home`` and ``work_queue`` (the caseworker's home page). Views are thin: load or 404, authorise,
validate the form, call one service, flash, redirect. They never import SQLAlchemy and never
commit: ``app.unit_of_work`` commits or rolls back each request.
"""

from __future__ import annotations

from flask import Flask, Response, abort, current_app, g, request, session
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from app.extensions import babel, login_manager
from app.web import access, errors, handoff_links, home, key_guard, request_guard, work_queue
from app.web.admin import outbox
from app.web.admin import views as admin
from app.web.api import blueprint as api_blueprint
from app.web.api import docs as api_docs  # noqa: F401 - routes the API's blueprint
from app.web.api import views as api_views  # noqa: F401 - routes the API's blueprint
from app.web.auth import active_sessions as account_sessions
from app.web.auth import contact as account_contact
from app.web.auth import password_reset, proconnect, second_step, two_factor
from app.web.auth import views as auth
from app.web.auth.signing_in import enrolment_gate, return_path, sign_in_again
from app.web.confirmations import flash_text
from app.web.context import LANGUAGE, load_session_user, template_helpers
from app.web.dashboard import partner as partner_figures
from app.web.dashboard import views as dashboard
from app.web.directory import capacity as directory_capacity  # noqa: F401 - routes
from app.web.directory import events as network_events
from app.web.directory import views as directory
from app.web.handoffs import no_solution  # noqa: F401 - routes the handoffs blueprint
from app.web.handoffs import views as handoffs
from app.web.imports import views as imports
from app.web.manage import accounts as structure_accounts
from app.web.manage import api_tokens
from app.web.manage import invitation as invitation_page
from app.web.pathways import views as pathways
from app.web.people import barriers, decisions, facts, records, referents, rights
from app.web.people import views as people
from app.web.steering import index as _steering_index  # noqa: F401 - its route on steering.bp
from app.web.steering import lost as _lost  # noqa: F401 - its routes on steering.bp
from app.web.steering import report as _report  # noqa: F401 - its routes on steering.bp
from app.web.steering import unmet_needs as _unmet_needs  # noqa: F401 - its routes on steering.bp
from app.web.steering import views as steering
from app.web.webhooks import views as webhooks

# The people blueprint is routed by several modules: all of them are imported before it is
# registered.
PEOPLE_ROUTES = (people, records, barriers, referents, rights, facts, decisions)
# The auth blueprint is routed by several modules.
AUTH_ROUTES = (
    auth,
    account_contact,
    account_sessions,
    password_reset,
    proconnect,
    second_step,
    two_factor,
)
# The structure accounts blueprint is routed by the public invitation page too.
ACCOUNTS_ROUTES = (structure_accounts, invitation_page)

# Endpoints reachable without signing in, read from the authorisation matrix
# (app/web/access.py, where every route is classified). Everything else is closed by default.
PUBLIC_ENDPOINTS = access.endpoints_of(access.Visitors.ALWAYS)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
# Production only: browsers that once reached Relais over HTTPS never try plain HTTP again,
# on this host and its subdomains, for two years.
HSTS = "max-age=63072000; includeSubDomains"


def register_web(app: Flask) -> None:
    """Register blueprints, login, locale selection, security headers and error pages."""
    request_guard.install(app)
    key_guard.install(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_session_user)
    login_manager.unauthorized_handler(sign_in_again)
    babel.init_app(app, locale_selector=select_locale)
    for module in (auth, home, people, handoffs, pathways, dashboard, admin, outbox, imports):
        app.register_blueprint(module.bp)
    for module in (
        directory,
        network_events,
        work_queue,
        api_tokens,
        webhooks,
        handoff_links,
        steering,
    ):
        app.register_blueprint(module.bp)
    app.register_blueprint(partner_figures.bp)
    # The JSON API: its views and its documentation route one blueprint.
    app.register_blueprint(api_blueprint.bp)
    app.register_blueprint(structure_accounts.bp)  # routed by invitation_page too
    errors.register(app)
    trust_proxies(app, int(app.config.get("TRUSTED_PROXIES") or 0))
    app.before_request(_require_login)
    app.before_request(enrolment_gate)
    app.after_request(_security_headers)
    app.context_processor(template_helpers)
    app.add_template_global(flash_text)
    app.add_template_global(return_path)


def trust_proxies(app: Flask, count: int) -> None:
    """Behind ``count`` reverse proxies (RELAIS_TRUSTED_PROXIES), take the client's address,
    the scheme, the host and the port from the X-Forwarded-* headers the proxies set, the last
    ``count`` values of each; with 0, these headers are ignored (anyone could send them).

    Behind a TLS proxy this is what makes ``request.is_secure`` true, hence Flask-WTF's
    HTTPS Referer check on every form."""
    if count > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count
        )


def select_locale() -> str:
    """French, unless English was chosen with the language switch in this session.

    The browser's preference is not followed: Relais is a French public-service tool, and
    pages must read the same for every partner unless someone asks otherwise. English is
    British English's formats (``en_GB``: the day before the month, a 24-hour clock, as
    everything else in France): in US order "12/8/26, 1:20 AM" read as the 12th of August
    to a European reader. The texts are the catalogue's msgids either way.
    """
    return "en_GB" if session.get(LANGUAGE) == "en" else "fr"


def _require_login() -> Response | None:
    """Deny by default, from the authorisation matrix (``app.web.access``): a visitor reaches
    only the public endpoints (and the directory's reading pages when the public directory is
    switched on); a signed-in account only the endpoints its role may open, any other is a
    404. An endpoint missing from the matrix is closed to everyone."""
    if request.endpoint is None:
        return None  # no route matched: the 404 (or 405) page
    if access.is_api(request.endpoint):
        # The JSON API authenticates by token, never by the session cookie: its blueprint
        # checks the token and the scope the matrix gives (app/web/api/blueprint.py).
        return None
    if access.opens_to_visitors(request.endpoint, current_app.config["PUBLIC_DIRECTORY"]) and (
        access.is_public(request.endpoint) or not current_user.is_authenticated
    ):
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()  # type: ignore[no-any-return]
    if not access.role_may_open(request.endpoint, current_user.role):
        abort(404)
    g.user = current_user
    return None


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config.get("RELAIS_ENV") == "production":
        headers.setdefault("Strict-Transport-Security", HSTS)
    # No software or version banner from the application's side (gunicorn's own is removed
    # by gunicorn.conf.py, the proxy's by its configuration: docs/deployment.md).
    headers.pop("Server", None)
    if request.endpoint != "static":
        # Pages may hold personal data: never cache them anywhere.
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response

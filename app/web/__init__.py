"""Web layer: blueprints, forms, request wiring.

One folder per feature (``people``, ``handoffs``, ``pathways``, ``directory``, ``dashboard``,
``imports``, ``auth``, ``admin``), each a blueprint routed with decorators, with its forms and
labels beside its views; templates follow the same names under ``templates/``. Shared here:
``context`` (the acting user, the vault, dates, role guards), ``forms_support``, ``labels``,
``listing``, ``errors`` (error pages), ``request_guard`` (malformed requests refused first), ``home`` and ``work_queue`` (the caseworker's home page). Views are thin: load or 404, authorise,
validate the form, call one service, flash, redirect. They never import SQLAlchemy and never
commit: ``app.unit_of_work`` commits or rolls back each request.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import babel, login_manager
from app.web import errors, home, request_guard, work_queue
from app.web.admin import outbox
from app.web.admin import views as admin
from app.web.auth import contact as account_contact
from app.web.auth import views as auth
from app.web.context import load_session_user, template_helpers
from app.web.dashboard import views as dashboard
from app.web.directory import events as network_events
from app.web.directory import views as directory
from app.web.handoffs import views as handoffs
from app.web.imports import views as imports
from app.web.pathways import views as pathways
from app.web.people import facts, records, referents, rights
from app.web.people import views as people

# The people blueprint is routed by several modules: all of them are imported before it is
# registered.
PEOPLE_ROUTES = (people, records, referents, rights, facts)
# The auth blueprint is routed by two modules.
AUTH_ROUTES = (auth, account_contact)

# Endpoints reachable without signing in. Everything else is closed by default.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.set_language", "static", "home.health"})

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def register_web(app: Flask) -> None:
    """Register blueprints, login, locale selection, security headers and error pages."""
    request_guard.install(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.localize_callback = str  # render the lazy message in the request's language
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_session_user)
    babel.init_app(app, locale_selector=select_locale)
    for module in (auth, home, people, handoffs, pathways, dashboard, admin, outbox, imports):
        app.register_blueprint(module.bp)
    for module in (directory, network_events, work_queue):
        app.register_blueprint(module.bp)
    errors.register(app)
    app.before_request(_require_login)
    app.after_request(_security_headers)
    app.context_processor(template_helpers)


def select_locale() -> str:
    """French, unless English was chosen with the language switch in this session.

    The browser's preference is not followed: Relais is a French public-service tool, and
    pages must read the same for every partner unless someone asks otherwise.
    """
    return "en" if session.get("lang") == "en" else "fr"


def _require_login() -> Response | None:
    """Deny by default: only the endpoints listed in PUBLIC_ENDPOINTS are open to visitors,
    and the directory's read-only pages when the public directory is switched on."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if (
        request.endpoint in directory.PUBLIC_DIRECTORY_ENDPOINTS
        and current_app.config["PUBLIC_DIRECTORY"]
        and not current_user.is_authenticated
    ):
        return None  # RELAIS_PUBLIC_DIRECTORY: the directory's read-only pages are public
    if not current_user.is_authenticated:
        return login_manager.unauthorized()  # type: ignore[no-any-return]
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
    if request.endpoint != "static":
        # Pages may hold personal data: never cache them anywhere.
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response

"""Relais: beneficiary pathways and hand-offs between the insertion partners of a territory."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response
from limits import parse_many
from limits.errors import ConfigurationError

from app import log_scrubbing, paths
from app.crypto import KeyConfigError, KeyRing
from app.crypto.keyring import REQUIRED_SECRETS, load_or_create_dev_keys
from app.security_checks import Inspection, run_checks
from app.services.mail.settings import mail_settings
from app.services.mail.transport import MailConfigError
from app.services.security import passwords
from app.services.security.audit_checkpoint import CheckpointError, check_target
from app.services.security.key_check import EXTENSION as KEY_GUARD
from app.services.security.key_check import KeyGuard
from app.services.security.vault import Vault
from app.settings import Config, ConfigError, as_mapping, config_from_environment

log = logging.getLogger(__name__)


class StartupError(SystemExit):
    """Relais refuses to start. Uncaught, it prints the reason and exits with status 1.

    ``others``: how many more unsafe settings the production checks found (the message points
    to ``security-check``, which lists them all)."""

    def __init__(self, message: str, others: int = 0) -> None:
        more = (
            f" (and {others} more: run flask --app app security-check --deploy)" if others else ""
        )
        super().__init__(f"Relais cannot start: {message}{more}")
        self.reason = message


def create_app(
    config_class: type[Config] | None = None,
    overrides: Mapping[str, Any] | None = None,
    keyring: KeyRing | None = None,
) -> Flask:
    """Build the application: load configuration and keys, then wire extensions and routes."""
    log_scrubbing.install()
    try:
        config_class = config_class or config_from_environment()
        settings = as_mapping(config_class)
    except ConfigError as exc:
        raise StartupError(str(exc)) from exc
    app = Flask(
        __name__,
        template_folder=str(paths.shipped("templates")),
        instance_path=str(paths.instance_folder(os.environ)),
        instance_relative_config=True,
    )
    app.config.from_mapping(settings)
    app.config.from_mapping(overrides or {})
    app.config["RELAIS_ENV"] = config_class.ENV_NAME
    if config_class.ENV_NAME == "production":
        _refuse_unsafe_settings(app, keys_given=keyring is not None)
    try:
        vault = Vault(keyring or _load_keys(app, config_class), app.config["BLIND_INDEX_BITS"])
    except ValueError as exc:  # a width given in ``overrides`` (the environment's is checked)
        raise StartupError(f"BLIND_INDEX_BITS: {exc}") from exc
    app.config["SECRET_KEY"] = vault.keys.secret_key
    passwords.configure(
        time_cost=app.config["ARGON2_TIME_COST"],
        memory_cost_kib=app.config["ARGON2_MEMORY_KIB"],
        parallelism=app.config["ARGON2_PARALLELISM"],
    )
    app.extensions["relais_vault"] = vault
    app.extensions[KEY_GUARD] = KeyGuard(bool(app.config.get("KEY_CHECK", True)))
    _check_mail(app)
    _check_audit_checkpoint(app)
    _check_sign_in(app)
    _register_extensions(app)
    _register_web(app)
    _register_cli(app)
    return app


def _load_keys(app: Flask, config_class: type[Config]) -> KeyRing:
    try:
        raw = config_class.load_secrets()
        complete = all(raw.get(name) for name in REQUIRED_SECRETS)
        if complete or not config_class.GENERATE_MISSING_KEYS:
            return KeyRing.from_settings(raw)
        path = Path(app.instance_path) / "relais-keys.json"
        ring, created = load_or_create_dev_keys(path, raw)
    except (KeyConfigError, ConfigError) as exc:
        raise StartupError(str(exc)) from exc
    if created:
        log.warning(
            "Development keys generated in %s (mode 0600). Never use them in production.", path
        )
    return ring


def _check_mail(app: Flask) -> None:
    """Mail settings are read at start: a production server without them would queue the
    notifications of every hand-off and never send one."""
    try:
        mail_settings(app.config)
    except MailConfigError as exc:
        raise StartupError(str(exc)) from exc


def _refuse_unsafe_settings(app: Flask, *, keys_given: bool) -> None:
    """Production runs the checks of ``app.security_checks`` (the ones ``security-check``
    lists) and refuses to start on the first failure, saying how many more there are.
    Warnings are logged. A key ring given by the caller is not read from the environment."""
    skip = {"keys": "key ring given"} if keys_given else None
    outcomes = run_checks(Inspection(app.config, os.environ), skip=skip)
    for outcome in outcomes:
        if outcome.warned:
            log.warning("Security check %s: %s", outcome.check.name, outcome.problem)
    failures = [outcome for outcome in outcomes if outcome.failed]
    if failures:
        raise StartupError(str(failures[0].problem), others=len(failures) - 1)


def _check_audit_checkpoint(app: Flask) -> None:
    """A checkpoint target given outside production must still be one ``flask audit
    checkpoint`` can write to (production checks it with the others, ``security-check``)."""
    configured = app.config.get("AUDIT_CHECKPOINT")
    if not configured or app.config["RELAIS_ENV"] == "production":
        return
    try:
        check_target(str(configured))
    except CheckpointError as exc:
        raise StartupError(f"RELAIS_AUDIT_CHECKPOINT: {exc}") from exc


def _check_sign_in(app: Flask) -> None:
    """The back-off, the request-rate limit and the session timeouts must make sense, or sign-in
    would refuse everyone (or no one) without a word."""
    config = app.config
    for name in ("SESSION_IDLE_MINUTES", "LOGIN_CLIENT_MAX_FAILURES"):
        if int(config[name]) < 1:
            raise StartupError(f"RELAIS_{name} must be 1 or more, got {config[name]}")
    if int(config["LOGIN_FRESH_CLIENT_DELAY_SECONDS"]) < 0:
        raise StartupError(
            "RELAIS_LOGIN_FRESH_CLIENT_DELAY_SECONDS must be 0 or more, "
            f"got {config['LOGIN_FRESH_CLIENT_DELAY_SECONDS']}"
        )
    for name in ("ANONYMOUS_POST_LIMIT", "API_RATE_LIMIT", "API_AUTH_FAILURE_LIMIT"):
        limit = str(config[name])
        try:
            parse_many(limit) if limit else None
        except ValueError as exc:
            raise StartupError(
                f"RELAIS_{name} is not a rate limit such as '20 per minute': {limit!r}"
            ) from exc


def _database_url(app: Flask) -> str:
    url = app.config.get("DATABASE_URL")
    if url:
        return str(url)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(app.instance_path) / 'relais.sqlite3'}"


def _register_extensions(app: Flask) -> None:
    from app.extensions import csrf, db, limiter, migrate
    from app.services.handoffs import link_offers
    from app.services.security import audit

    read_url = app.config.get("READ_DATABASE_URL")
    db.init_app(
        app,
        _database_url(app),
        str(read_url) if read_url else None,
        pgbouncer=bool(app.config.get("PGBOUNCER")),
        listen_url=app.config.get("LISTEN_DATABASE_URL") or None,
    )
    audit.use_key(app.extensions["relais_vault"].keys.audit_key)
    link_offers.configure(
        link_offers.LinkPolicy(
            base_url=mail_settings(app.config).base_url,
            expiry_days=int(app.config["HANDOFF_EXPIRY_DAYS"]),
            follow_through_days=int(app.config["HANDOFF_FOLLOW_THROUGH_LINK_DAYS"]),
        )
    )
    migrate.init_app(app, db, directory=str(paths.shipped("migrations")), render_as_batch=True)
    csrf.init_app(app)
    # Registered before the limiter's, so run after it (Flask runs them last registered first).
    app.after_request(_retry_after_only_when_refused)
    try:
        limiter.init_app(app)
    except ConfigurationError as exc:
        raise StartupError(f"RELAIS_RATELIMIT_STORAGE_URI cannot be used: {exc}") from exc


def _retry_after_only_when_refused(response: Response) -> Response:
    """Flask-Limiter writes ``Retry-After`` beside its ``X-RateLimit-*`` counters on every
    answer of a limited route; it means "try again later" only on a 429 or a 503."""
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    return response


def _register_web(app: Flask) -> None:
    from app import unit_of_work
    from app.web import register_web

    register_web(app)
    unit_of_work.install(app)


def _register_cli(app: Flask) -> None:
    from app.cli import register_cli

    register_cli(app)

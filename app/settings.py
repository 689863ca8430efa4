"""Configuration of Relais: one class of defaults per environment (``RELAIS_ENV``, development
by default), and the environment read once, when ``create_app`` calls
``config_from_environment``: importing this module reads nothing, so a bad value is refused
with the clean "Relais cannot start" message. ``config.py`` re-exports it.

``DATABASE_URL`` picks the database (a SQLite file in the instance folder when unset). The
secrets (``SECRET_NAMES``) come from a variable or from a file named by the same variable with
``_FILE`` (mounted secrets), read as raw text and checked by ``app.crypto.keyring``. Every
other setting is a class attribute of ``Config``, set by the variable of the same name with
the ``RELAIS_`` prefix through the parser (``app.setting_values``) its ``ENVIRONMENT`` entry names (the README's
configuration table lists them all). Production safety is ``app.security_checks``'s.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from app.setting_values import (
    ConfigError as ConfigError,  # re-exported: the error of every setting
)
from app.setting_values import (
    parse_bits,
    parse_count,
    parse_database_url,
    parse_days,
    parse_flag,
    parse_int,
    parse_minutes,
    parse_port,
    parse_positive,
    parse_text,
    parse_weeks,
    read_secret,
)

SECRET_NAMES = (
    "RELAIS_SECRET_KEY",
    "RELAIS_KEKS",
    "RELAIS_ACTIVE_KEK",
    "RELAIS_INDEX_KEY",
    "RELAIS_AUDIT_KEY",
)
# A territory's key to sign the statistics it publishes (docs/scaling.md): a secret too, read
# (variable or ``_FILE``) by the statistics commands only, not at start-up.
PUBLICATION_KEY = "RELAIS_PUBLICATION_KEY"


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    # Whether ``as_mapping`` applies the environment (not for the test suite's own class).
    READS_ENVIRONMENT = True
    DATABASE_URL: str | None = None
    # Keys may be generated into the instance folder (development only).
    GENERATE_MISSING_KEYS = False
    RAW_SECRETS: dict[str, str | None] = {}
    # Each process tries its keys on the database before serving (app/web/key_guard.py). Not
    # an environment setting: only the test suite's application goes without.
    KEY_CHECK = True

    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
    LANGUAGES = ("fr", "en")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "relais_session"
    REMEMBER_COOKIE_SECURE = True
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    WTF_CSRF_TIME_LIMIT = 8 * 3600

    # Sign-in back-off (docs/security.md, "Sign-in throttling"): a login may fail this many
    # times in a row, then each attempt waits a doubling delay (5 s, 10 s...) of at most
    # LOGIN_LOCK_MINUTES; a client address may fail LOGIN_CLIENT_MAX_FAILURES times. From an
    # address with fewer than LOGIN_MAX_FAILURES failures a login waits at most
    # LOGIN_FRESH_CLIENT_DELAY_SECONDS, so that a stranger cannot lock its owner out.
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    LOGIN_CLIENT_MAX_FAILURES = 20
    LOGIN_FRESH_CLIENT_DELAY_SECONDS = 60
    # Request rate per client address on the forms open to visitors (sign-in, language), in
    # Flask-Limiter's notation; empty switches it off. The counters are kept in
    # RATELIMIT_STORAGE_URI: memory:// is per worker; give a Redis URL (redis://...) when
    # gunicorn runs several workers.
    ANONYMOUS_POST_LIMIT = "20 per minute; 200 per hour"
    RATELIMIT_STORAGE_URI = "memory://"
    # Requests per API token to /api/v1 (docs/api.md), in Flask-Limiter's notation, counted
    # in RATELIMIT_STORAGE_URI; empty switches it off.
    API_RATE_LIMIT = "120 per minute; 5000 per hour"
    # Requests to /api/v1 without a valid token (none, unknown, revoked, expired) per client
    # address, in Flask-Limiter's notation; beyond it they get a 429 with Retry-After. A valid
    # token is never refused by it. Empty switches it off.
    API_AUTH_FAILURE_LIMIT = "10 per minute; 100 per hour"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = "relais"
    # Sessions end after this many minutes without a request, and after
    # PERMANENT_SESSION_LIFETIME (8 hours) in any case.
    SESSION_IDLE_MINUTES = 30
    PASSWORD_MIN_LENGTH = 12
    # A password-reset link is valid this many minutes; an account gets at most one reset mail
    # every PASSWORD_RESET_INTERVAL_MINUTES (later requests get the same answer and no mail).
    PASSWORD_RESET_MINUTES = 30
    PASSWORD_RESET_INTERVAL_MINUTES = 5
    # ``flask users deactivate-idle`` closes the accounts not signed in for this many days.
    ACCOUNT_IDLE_DAYS = 180
    # An invitation to create an account (sent by a structure manager or an administrator)
    # works once, for this many days.
    INVITATION_DAYS = 7
    # Argon2id parameters of new password hashes (RFC 9106, second recommended option: 3
    # passes over 64 MiB, 4 lanes). Older hashes are upgraded at sign-in.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_KIB = 64 * 1024
    ARGON2_PARALLELISM = 4

    # Sensitive actions (erasure, exports, password and second-factor changes) ask for the
    # password (and the code) again when the last proof is older than this.
    REAUTH_MINUTES = 10

    # Blind index truncation in bits (see docs/security.md): about 14 bits for 100,000 people.
    BLIND_INDEX_BITS = 14
    # Hand-off deadlines, in days.
    HANDOFF_OVERDUE_DAYS = 10
    HANDOFF_EXPIRY_DAYS = 30
    # Its sender may remind the partner of a pending hand-off once every so many days.
    HANDOFF_REMINDER_DAYS = 3
    # A structure that accepted a hand-off from a mailed link may report the first contact and
    # the outcome through its follow-through link for this many days after the acceptance.
    HANDOFF_FOLLOW_THROUGH_LINK_DAYS = 120
    # The work queue lists the people followed with no event for this many weeks.
    IDLE_WEEKS = 8
    # A caseload list is sorted by name (every last name of the list decrypted at each view)
    # when it holds this many people or fewer after its filters (docs/caseworkers.md).
    NAME_ORDER_LIMIT = 3000
    # People lost from view (docs/statistics.md): no event from any partner for this many
    # days, or an accepted hand-off without a first contact for this many days.
    LOST_FROM_VIEW_DAYS = 90
    LOST_FIRST_CONTACT_DAYS = 30
    # A partner's capacity status not confirmed for this many weeks is shown as stale.
    CAPACITY_STALE_WEEKS = 4
    # Small-count protection for statistics.
    SMALL_COUNT_THRESHOLD = 11
    # Delays against the targets (docs/statistics.md): the national target (a first
    # appointment within 15 days of orientation) and the delay many départements contract on.
    DELAY_TARGET_DAYS = 15
    DELAY_CONTRACT_DAYS = 30

    # Rights of the people followed (docs/rights.md). A follow-up without activity for this
    # many months ends; a person without a follow-up for as long is erased, after a notice of
    # RELAIS_ERASURE_NOTICE_DAYS days shown to their last structure.
    RETENTION_MONTHS = 24
    ERASURE_NOTICE_DAYS = 30
    # The append-only file copy of the erasure register, to keep (and back up) apart from the
    # database; "erasure-register.txt" in the instance folder when unset.
    ERASURE_REGISTER_PATH: str | None = None
    # Where ``flask audit checkpoint`` appends the audit chain's head (a file outside the
    # database, or "syslog:"), compared by ``flask audit verify``; required in production.
    AUDIT_CHECKPOINT: str | None = None
    # How many whole months of audit rows ``flask audit prune`` keeps before the current month
    # (sealed months only; their seals stay): docs/security.md, "Audit over years".
    AUDIT_RETENTION_MONTHS = 12

    # The national layer (docs/scaling.md): this instance's territory id in the files it
    # publishes (``flask statistics publish``), and the public keys of the territories whose
    # files it gathers (``territory:key[,territory:key...]``, ``flask statistics gather``).
    # The signing key, RELAIS_PUBLICATION_KEY, is a secret read by the commands only.
    TERRITORY: str | None = None
    TRUSTED_PUBLICATION_KEYS: str | None = None
    # A read replica for the statistics pages and exports (read-only transactions); unset:
    # they read through DATABASE_URL. With PGBOUNCER, the database URLs lead to PgBouncer in
    # transaction mode: psycopg prepares no statement on the server (docs/scaling.md).
    READ_DATABASE_URL: str | None = None
    PGBOUNCER = False
    # A direct URL to PostgreSQL for the mail and webhook workers' LISTEN, which PgBouncer in
    # transaction mode cannot carry; unset behind PgBouncer, they poll.
    LISTEN_DATABASE_URL: str | None = None

    # Partner directory. Off by default: visitors who are not signed in see nothing.
    PUBLIC_DIRECTORY = False
    # A card not checked for this many months is flagged, and its structure reminded.
    DIRECTORY_STALE_MONTHS = 6
    # The data·inclusion ``source`` of this instance's exports.
    DIRECTORY_SOURCE: str = "relais"

    # Mail notifications. "smtp" sends them through the server below; "outbox" only keeps them
    # in the database (readable at /dev/outbox) and logs one line each.
    MAIL_BACKEND = "smtp"
    MAIL_FROM: str | None = None
    # The address people open Relais at, for the links in mails (https://relais.example.org).
    PUBLIC_BASE_URL: str | None = None
    SMTP_HOST: str | None = None
    SMTP_PORT = 587
    SMTP_STARTTLS = True
    SMTP_TIMEOUT = 10
    SMTP_USERNAME: str | None = None
    # The password, or a file holding it (a mounted secret); read when mail is sent.
    SMTP_PASSWORD: str | None = None
    SMTP_PASSWORD_FILE: str | None = None

    # Webhooks (docs/webhooks.md): a delivery is tried this many times, each attempt waiting
    # at most WEBHOOK_TIMEOUT seconds. http:// addresses, and addresses on a loopback or
    # private network, are refused unless allowed (development and tests only: production
    # refuses to start with either).
    WEBHOOK_MAX_ATTEMPTS = 10
    WEBHOOK_TIMEOUT = 5
    WEBHOOK_ALLOW_HTTP = False
    WEBHOOK_ALLOW_PRIVATE = False

    # Sign-in with ProConnect (docs/security.md): off while OIDC_ISSUER is unset.
    OIDC_ISSUER: str | None = None
    OIDC_CLIENT_ID: str | None = None
    OIDC_CLIENT_SECRET: str | None = None
    OIDC_CLIENT_SECRET_FILE: str | None = None
    OIDC_SCOPES = "openid email given_name usual_name"
    OIDC_ACR_VALUES: str | None = None  # asked of the provider when set ("eidas1")
    # ProConnect sends no email_verified (its e-mails are the employers'): on for others.
    OIDC_REQUIRE_EMAIL_VERIFIED = False
    OIDC_TIMEOUT = 10  # seconds, for each call to the provider

    # Behind a reverse proxy: how many proxies set X-Forwarded-For/-Proto/-Host/-Port in front
    # of the app (werkzeug's ProxyFix trusts that many hops); 0 trusts none of these headers.
    TRUSTED_PROXIES = 0

    @classmethod
    def load_secrets(cls, environ: Mapping[str, str] | None = None) -> dict[str, str | None]:
        return {name: read_secret(name, environ) for name in SECRET_NAMES}


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    GENERATE_MISSING_KEYS = True
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    MAIL_BACKEND = "outbox"
    MAIL_FROM = "relais@localhost"
    PUBLIC_BASE_URL = "http://localhost:5000"


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    READS_ENVIRONMENT = False
    GENERATE_MISSING_KEYS = False
    # Tests pin the statements of requests; the tests of the key guard switch it on.
    KEY_CHECK = False
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    # Tests pass their own database and keys; nothing is read from the environment here.
    # Tests that erase name a register file of their own (a temporary folder).
    MAIL_BACKEND = "outbox"
    MAIL_FROM = "relais@localhost"
    PUBLIC_BASE_URL = "http://localhost"
    # Cheap hashes: the suite signs in thousands of times (a real hash costs ~0.1 s each).
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_KIB = 1024
    ARGON2_PARALLELISM = 1
    # Every test signs in from 127.0.0.1: the request-rate limit is switched on by the tests
    # of the limit only.
    ANONYMOUS_POST_LIMIT = ""
    API_AUTH_FAILURE_LIMIT = ""

    @classmethod
    def load_secrets(cls, environ: Mapping[str, str] | None = None) -> dict[str, str | None]:
        return dict.fromkeys(SECRET_NAMES)


class ProductionConfig(Config):
    ENV_NAME = "production"
    # The __Host- prefix: browsers accept it only Secure, for Path=/ and without Domain, so
    # that no other host of the domain can set or shadow the session cookie.
    SESSION_COOKIE_NAME = "__Host-relais_session"
    SESSION_COOKIE_PATH = "/"
    SESSION_COOKIE_DOMAIN = None


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


# Settings the environment may change: (setting, variable, parser). An empty variable keeps
# the class's default.
ENVIRONMENT: tuple[tuple[str, str, Callable[[str, str], object]], ...] = (
    ("LOGIN_MAX_FAILURES", "RELAIS_LOGIN_MAX_FAILURES", parse_positive),
    ("LOGIN_LOCK_MINUTES", "RELAIS_LOGIN_LOCK_MINUTES", parse_positive),
    ("LOGIN_CLIENT_MAX_FAILURES", "RELAIS_LOGIN_CLIENT_MAX_FAILURES", parse_positive),
    ("LOGIN_FRESH_CLIENT_DELAY_SECONDS", "RELAIS_LOGIN_FRESH_CLIENT_DELAY_SECONDS", parse_count),
    ("SESSION_IDLE_MINUTES", "RELAIS_SESSION_IDLE_MINUTES", parse_positive),
    ("ANONYMOUS_POST_LIMIT", "RELAIS_ANONYMOUS_POST_LIMIT", parse_text),
    ("RATELIMIT_STORAGE_URI", "RELAIS_RATELIMIT_STORAGE_URI", parse_text),
    ("API_RATE_LIMIT", "RELAIS_API_RATE_LIMIT", parse_text),
    ("API_AUTH_FAILURE_LIMIT", "RELAIS_API_AUTH_FAILURE_LIMIT", parse_text),
    ("BLIND_INDEX_BITS", "RELAIS_BLIND_INDEX_BITS", parse_bits),
    ("HANDOFF_OVERDUE_DAYS", "RELAIS_HANDOFF_OVERDUE_DAYS", parse_days),
    ("HANDOFF_EXPIRY_DAYS", "RELAIS_HANDOFF_EXPIRY_DAYS", parse_days),
    ("HANDOFF_REMINDER_DAYS", "RELAIS_HANDOFF_REMINDER_DAYS", parse_days),
    (
        "HANDOFF_FOLLOW_THROUGH_LINK_DAYS",
        "RELAIS_HANDOFF_FOLLOW_THROUGH_LINK_DAYS",
        parse_days,
    ),
    ("IDLE_WEEKS", "RELAIS_IDLE_WEEKS", parse_weeks),
    ("NAME_ORDER_LIMIT", "RELAIS_NAME_ORDER_LIMIT", parse_positive),
    ("LOST_FROM_VIEW_DAYS", "RELAIS_LOST_FROM_VIEW_DAYS", parse_days),
    ("LOST_FIRST_CONTACT_DAYS", "RELAIS_LOST_FIRST_CONTACT_DAYS", parse_days),
    ("CAPACITY_STALE_WEEKS", "RELAIS_CAPACITY_STALE_WEEKS", parse_weeks),
    ("REAUTH_MINUTES", "RELAIS_REAUTH_MINUTES", parse_minutes),
    ("PASSWORD_RESET_MINUTES", "RELAIS_PASSWORD_RESET_MINUTES", parse_minutes),
    ("PASSWORD_RESET_INTERVAL_MINUTES", "RELAIS_PASSWORD_RESET_INTERVAL_MINUTES", parse_count),
    ("ACCOUNT_IDLE_DAYS", "RELAIS_ACCOUNT_IDLE_DAYS", parse_days),
    ("INVITATION_DAYS", "RELAIS_INVITATION_DAYS", parse_days),
    ("SMALL_COUNT_THRESHOLD", "RELAIS_SMALL_COUNT_THRESHOLD", parse_positive),
    ("DELAY_TARGET_DAYS", "RELAIS_DELAY_TARGET_DAYS", parse_days),
    ("DELAY_CONTRACT_DAYS", "RELAIS_DELAY_CONTRACT_DAYS", parse_days),
    ("RETENTION_MONTHS", "RELAIS_RETENTION_MONTHS", parse_int),
    ("ERASURE_NOTICE_DAYS", "RELAIS_ERASURE_NOTICE_DAYS", parse_int),
    ("AUDIT_RETENTION_MONTHS", "RELAIS_AUDIT_RETENTION_MONTHS", parse_positive),
    ("DIRECTORY_STALE_MONTHS", "RELAIS_DIRECTORY_STALE_MONTHS", parse_int),
    ("SMTP_PORT", "RELAIS_SMTP_PORT", parse_port),
    ("SMTP_TIMEOUT", "RELAIS_SMTP_TIMEOUT", parse_positive),
    ("TRUSTED_PROXIES", "RELAIS_TRUSTED_PROXIES", parse_count),
    ("WEBHOOK_MAX_ATTEMPTS", "RELAIS_WEBHOOK_MAX_ATTEMPTS", parse_positive),
    ("WEBHOOK_TIMEOUT", "RELAIS_WEBHOOK_TIMEOUT", parse_positive),
    ("WEBHOOK_ALLOW_HTTP", "RELAIS_WEBHOOK_ALLOW_HTTP", parse_flag),
    ("WEBHOOK_ALLOW_PRIVATE", "RELAIS_WEBHOOK_ALLOW_PRIVATE", parse_flag),
    ("OIDC_TIMEOUT", "RELAIS_OIDC_TIMEOUT", parse_positive),
    ("PUBLIC_DIRECTORY", "RELAIS_PUBLIC_DIRECTORY", parse_flag),
    ("OIDC_REQUIRE_EMAIL_VERIFIED", "RELAIS_OIDC_REQUIRE_EMAIL_VERIFIED", parse_flag),
    ("SMTP_STARTTLS", "RELAIS_SMTP_STARTTLS", parse_flag),
    ("DATABASE_URL", "DATABASE_URL", parse_database_url),
    ("READ_DATABASE_URL", "RELAIS_READ_DATABASE_URL", parse_database_url),
    ("PGBOUNCER", "RELAIS_PGBOUNCER", parse_flag),
    ("LISTEN_DATABASE_URL", "RELAIS_LISTEN_DATABASE_URL", parse_database_url),
    ("TERRITORY", "RELAIS_TERRITORY", parse_text),
    ("TRUSTED_PUBLICATION_KEYS", "RELAIS_TRUSTED_PUBLICATION_KEYS", parse_text),
    ("ERASURE_REGISTER_PATH", "RELAIS_ERASURE_REGISTER", parse_text),
    ("AUDIT_CHECKPOINT", "RELAIS_AUDIT_CHECKPOINT", parse_text),
    ("DIRECTORY_SOURCE", "RELAIS_DIRECTORY_SOURCE", parse_text),
    ("MAIL_FROM", "RELAIS_MAIL_FROM", parse_text),
    ("PUBLIC_BASE_URL", "RELAIS_PUBLIC_BASE_URL", parse_text),
    ("SMTP_HOST", "RELAIS_SMTP_HOST", parse_text),
    ("SMTP_USERNAME", "RELAIS_SMTP_USERNAME", parse_text),
    ("SMTP_PASSWORD", "RELAIS_SMTP_PASSWORD", parse_text),
    ("SMTP_PASSWORD_FILE", "RELAIS_SMTP_PASSWORD_FILE", parse_text),
    ("OIDC_ISSUER", "RELAIS_OIDC_ISSUER", parse_text),
    ("OIDC_CLIENT_ID", "RELAIS_OIDC_CLIENT_ID", parse_text),
    ("OIDC_CLIENT_SECRET", "RELAIS_OIDC_CLIENT_SECRET", parse_text),
    ("OIDC_CLIENT_SECRET_FILE", "RELAIS_OIDC_CLIENT_SECRET_FILE", parse_text),
    ("OIDC_SCOPES", "RELAIS_OIDC_SCOPES", parse_text),
    ("OIDC_ACR_VALUES", "RELAIS_OIDC_ACR_VALUES", parse_text),
)


def config_from_environment(environ: Mapping[str, str] | None = None) -> type[Config]:
    """Return the configuration class named by ``RELAIS_ENV`` (``development`` by default)."""
    environ = os.environ if environ is None else environ
    name = environ.get("RELAIS_ENV", "development").strip().lower()
    try:
        return CONFIGS[name]
    except KeyError as exc:
        choices = ", ".join(CONFIGS)
        raise ConfigError(f"RELAIS_ENV must be one of {choices}, got {name!r}") from exc


def as_mapping(
    config_class: type[Config],
    environ: Mapping[str, str] | None = None,
    errors: list[tuple[str, ConfigError]] | None = None,
) -> dict[str, Any]:
    """The upper-case settings of ``config_class``, as Flask expects them, with the values
    the environment sets (``ConfigError`` naming the variable for a bad one). The testing
    class reads nothing from the environment.

    With an ``errors`` list, every bad variable is appended to it as ``(variable, error)``
    and keeps the class's default, instead of stopping at the first (``security-check``)."""
    values = {key: getattr(config_class, key) for key in dir(config_class) if key.isupper()}
    if not config_class.READS_ENVIRONMENT:
        return values
    environ = os.environ if environ is None else environ
    for setting, variable, parse in ENVIRONMENT:
        raw = environ.get(variable, "").strip()
        if not raw:
            continue
        try:
            values[setting] = parse(variable, raw)
        except ConfigError as exc:
            if errors is None:
                raise
            errors.append((variable, exc))
    return values

"""The checks a production configuration must pass: one list, ``CHECKS``, shared by the
start-up refusal (``create_app`` in production) and ``flask --app app security-check``.

A check reads an ``Inspection`` (the settings and the process environment) and returns
``None`` when it passes, or the reason it fails: one sentence naming the variable, never a
secret. An ``error`` stops a production server and makes the command exit non-zero; a
``warning`` is only reported. To add one, append a ``Check`` to ``CHECKS`` (name, variables
read, the line shown when it passes, the fix, the function). The *form* of a value (a whole
number, a range) is ``app.settings``'s to refuse: these are production safety.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from app.crypto import KeyConfigError, KeyRing
from app.services.mail.settings import mail_settings, starttls_problem
from app.services.mail.transport import MailConfigError
from app.services.security.audit_checkpoint import CheckpointError, check_target
from app.services.security.oidc_settings import configuration_problem
from app.services.statistics.publication_keys import publication_keys_problem
from app.services.webhooks.settings import WEBHOOK_FLAGS, unsafe_webhook_settings
from app.settings import ENVIRONMENT, PUBLICATION_KEY, SECRET_NAMES, ConfigError, ProductionConfig

# Statistics must hide at least the counts below this in production (docs/statistics.md).
MIN_SMALL_COUNT_THRESHOLD = 5
# Variables ending with this name a file holding a secret (a key, a password).
SECRET_FILE_PATTERN = re.compile(r"^RELAIS_[A-Z0-9_]+_FILE$")
# Variables read outside ``app.settings.ENVIRONMENT`` (the secrets, the test suite's).
OTHER_VARIABLES = frozenset(
    {"RELAIS_ENV", "RELAIS_TEST_DATABASE_URL", "RELAIS_INSTANCE_PATH"}
    | {*SECRET_NAMES, PUBLICATION_KEY}
    | {f"{name}_FILE" for name in (*SECRET_NAMES, PUBLICATION_KEY)}
)

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Inspection:
    """What the checks read: the settings, the environment, and the environment's name."""

    settings: Mapping[str, Any]
    environ: Mapping[str, str]
    env_name: str = "production"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    variables: tuple[str, ...]
    passes: str  # the line shown when the check passes
    fix: str
    run: Callable[[Inspection], str | None] = field(repr=False)
    severity: Severity = "error"


@dataclass(frozen=True, slots=True)
class Outcome:
    check: Check
    problem: str | None = None  # None: the check passed
    skipped: str | None = None  # why the check did not run

    @property
    def failed(self) -> bool:
        return self.problem is not None and self.check.severity == "error"

    @property
    def warned(self) -> bool:
        return self.problem is not None and self.check.severity == "warning"


def _environment(inspection: Inspection) -> str | None:
    if inspection.env_name == "production":
        return None
    return (
        f"RELAIS_ENV is {inspection.env_name!r}: a server for real people runs with "
        "RELAIS_ENV=production (keys never generated, mails sent, cookies Secure, HSTS)"
    )


def _keys(inspection: Inspection) -> str | None:
    try:
        KeyRing.from_settings(ProductionConfig.load_secrets(inspection.environ))
    except (KeyConfigError, ConfigError) as exc:
        return str(exc)
    return None


def _secret_files(inspection: Inspection) -> dict[str, str]:
    files = {
        name: value.strip()
        for name, value in inspection.environ.items()
        if SECRET_FILE_PATTERN.match(name) and value.strip()
    }
    configured = inspection.settings.get("SMTP_PASSWORD_FILE")
    if configured:
        files["RELAIS_SMTP_PASSWORD_FILE"] = str(configured)
    return dict(sorted(files.items()))


def _key_files(inspection: Inspection) -> str | None:
    problems = []
    for variable, path in _secret_files(inspection).items():
        try:
            info = os.stat(path)
        except OSError as exc:
            problems.append(f"{variable}: cannot read {path} ({exc.strerror})")
            continue
        if not stat.S_ISREG(info.st_mode):
            problems.append(f"{variable}: {path} is not a file")
            continue
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            problems.append(
                f"{variable}: {path} may be read or changed by its group or others "
                f"(mode {mode:04o}); a secret's file must be its owner's only"
            )
    return "; ".join(problems) or None


def _public_url(inspection: Inspection) -> str | None:
    url = str(inspection.settings.get("PUBLIC_BASE_URL") or "").strip()
    if not url:
        return "RELAIS_PUBLIC_BASE_URL is missing: it is the https:// address of Relais"
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        shown = f"{parts.scheme}://" if parts.scheme else "no scheme"
        return (
            f"RELAIS_PUBLIC_BASE_URL must be an https:// address (it has {shown}): the links "
            "in mails would send people to Relais without TLS"
        )
    return None


def _mail(inspection: Inspection) -> str | None:
    settings = inspection.settings
    if _public_url(inspection) is not None:
        # The address is public-url's to report (once): check the rest of the mail settings.
        settings = {**settings, "PUBLIC_BASE_URL": "https://relais.invalid"}
    try:
        mail_settings(settings)
    except MailConfigError as exc:
        return str(exc)
    return None


def _database(inspection: Inspection) -> str | None:
    url = str(inspection.settings.get("DATABASE_URL") or "").strip()
    if not url:
        return (
            "DATABASE_URL is missing: production would keep its data in a SQLite file of the "
            "instance folder"
        )
    backend = url.partition(":")[0].partition("+")[0].lower()
    if backend != "postgresql":
        # Never show the URL: it may hold the database password.
        return f"DATABASE_URL must name a PostgreSQL database (it names {backend or 'nothing'!r})"
    return None


def _erasure_register(inspection: Inspection) -> str | None:
    """Production names the file copy of the erasure register: the instance folder sits next
    to the database, and a restore of both would lose the erasures the register must replay."""
    configured = str(inspection.settings.get("ERASURE_REGISTER_PATH") or "").strip()
    if not configured:
        return (
            "RELAIS_ERASURE_REGISTER must name the erasure register's file, on storage backed "
            "up apart from the database (see docs/rights.md)"
        )
    path = Path(configured)
    if not path.is_absolute():
        return f"RELAIS_ERASURE_REGISTER must be an absolute path, got {configured}"
    if not path.parent.is_dir():
        return (
            f"RELAIS_ERASURE_REGISTER names a file in a folder that does not exist: {path.parent}"
        )
    if path.is_dir():
        return f"RELAIS_ERASURE_REGISTER names a folder, not a file: {path}"
    if path.exists() and not path.is_file():
        return f"RELAIS_ERASURE_REGISTER names something that is not a plain file: {path}"
    writable = path if path.exists() else path.parent
    if not os.access(writable, os.W_OK):
        return f"RELAIS_ERASURE_REGISTER: this user cannot write to {writable}"
    return None


def _audit_checkpoint(inspection: Inspection) -> str | None:
    """Production names where ``flask audit checkpoint`` copies the audit chain's head: without
    it, the tables' owner could cut the end of the log and move the head back unnoticed."""
    configured = str(inspection.settings.get("AUDIT_CHECKPOINT") or "").strip()
    if not configured:
        return (
            "RELAIS_AUDIT_CHECKPOINT must name the audit checkpoint file (appended to by "
            "'flask --app app audit checkpoint' from cron, on storage the database server "
            "cannot write) or syslog: (see docs/security.md)"
        )
    try:
        check_target(configured)
    except CheckpointError as exc:
        return f"RELAIS_AUDIT_CHECKPOINT: {exc}"
    return None


def _small_counts(inspection: Inspection) -> str | None:
    threshold = int(inspection.settings.get("SMALL_COUNT_THRESHOLD") or 0)
    if threshold >= MIN_SMALL_COUNT_THRESHOLD:
        return None
    return (
        f"RELAIS_SMALL_COUNT_THRESHOLD is {threshold}: statistics would show counts of "
        f"fewer than {MIN_SMALL_COUNT_THRESHOLD} people, which can point to someone"
    )


def _proxies(inspection: Inspection) -> str | None:
    if int(inspection.settings.get("TRUSTED_PROXIES") or 0) > 0:
        return None
    return (
        "RELAIS_TRUSTED_PROXIES is 0: behind a reverse proxy, Relais sees the proxy's address "
        "for every client and does not learn that the request came over HTTPS"
    )


def _rate_limit_storage(inspection: Inspection) -> str | None:
    storage = str(inspection.settings.get("RATELIMIT_STORAGE_URI") or "memory://")
    if not storage.startswith("memory://"):
        return None
    return (
        "RELAIS_RATELIMIT_STORAGE_URI is memory://: each gunicorn worker counts the requests "
        "of the sign-in form apart, so the per-address limit is multiplied by the number of "
        "workers (the sign-in back-off itself is in the database and shared)"
    )


def _unknown_variables(inspection: Inspection) -> str | None:
    known = OTHER_VARIABLES | {variable for _setting, variable, _parse in ENVIRONMENT}
    unknown = sorted(
        name for name in inspection.environ if name.startswith("RELAIS_") and name not in known
    )
    if not unknown:
        return None
    return f"Relais does not read {', '.join(unknown)} (a misspelt name keeps the default)"


CHECKS: tuple[Check, ...] = (
    Check(
        "environment",
        ("RELAIS_ENV",),
        "RELAIS_ENV is production",
        "export RELAIS_ENV=production",
        _environment,
    ),
    Check(
        "keys",
        SECRET_NAMES,
        "the keys are set, well formed, random and one per role",
        "print a fresh set with `python -m app.crypto` (docs/security.md, Keys)",
        _keys,
    ),
    Check(
        "key-files",
        ("RELAIS_*_FILE",),
        "every secret file (RELAIS_*_FILE) is readable by its owner only",
        "chown the file to the service's user and `chmod 600` it (or mount it with mode 0400)",
        _key_files,
    ),
    Check(
        "database",
        ("DATABASE_URL",),
        "DATABASE_URL names a PostgreSQL database",
        "export DATABASE_URL=postgresql+psycopg://relais@db-host/relais",
        _database,
    ),
    Check(
        "public-url",
        ("RELAIS_PUBLIC_BASE_URL",),
        "RELAIS_PUBLIC_BASE_URL is an https:// address",
        "export RELAIS_PUBLIC_BASE_URL=https://relais.example.org (the address people open)",
        _public_url,
    ),
    Check(
        "mail",
        ("RELAIS_MAIL_FROM", "RELAIS_SMTP_HOST"),
        "mail is sent through RELAIS_SMTP_HOST from RELAIS_MAIL_FROM",
        "set RELAIS_SMTP_HOST and RELAIS_MAIL_FROM (README, Configuration)",
        _mail,
    ),
    Check(
        "smtp-tls",
        ("RELAIS_SMTP_STARTTLS", "RELAIS_SMTP_USERNAME", "RELAIS_SMTP_PASSWORD"),
        "the SMTP credentials, if any, travel over STARTTLS",
        "unset RELAIS_SMTP_STARTTLS (it is on by default) or use a server without a password",
        lambda inspection: starttls_problem(inspection.settings),
    ),
    Check(
        "erasure-register",
        ("RELAIS_ERASURE_REGISTER",),
        "RELAIS_ERASURE_REGISTER is a writable file path in an existing folder",
        "export RELAIS_ERASURE_REGISTER=/srv/relais-register/erasure-register.txt "
        "(a folder backed up apart from the database)",
        _erasure_register,
    ),
    Check(
        "audit-checkpoint",
        ("RELAIS_AUDIT_CHECKPOINT",),
        "RELAIS_AUDIT_CHECKPOINT receives the audit chain's head outside the database",
        "export RELAIS_AUDIT_CHECKPOINT=/srv/relais-audit/checkpoints.log (or syslog:auth) and "
        "run 'flask --app app audit checkpoint' from cron",
        _audit_checkpoint,
    ),
    Check(
        "small-counts",
        ("RELAIS_SMALL_COUNT_THRESHOLD",),
        f"statistics hide the counts below RELAIS_SMALL_COUNT_THRESHOLD "
        f"(at least {MIN_SMALL_COUNT_THRESHOLD})",
        "unset RELAIS_SMALL_COUNT_THRESHOLD (11 by default) or set it to 5 or more",
        _small_counts,
    ),
    Check(
        "proconnect",
        ("RELAIS_OIDC_ISSUER", "RELAIS_OIDC_CLIENT_ID", "RELAIS_OIDC_CLIENT_SECRET"),
        "sign-in with ProConnect is off, or has an https issuer, a client id and its secret",
        "set RELAIS_OIDC_ISSUER (https), _CLIENT_ID and _CLIENT_SECRET_FILE, or none of them",
        lambda inspection: configuration_problem(inspection.settings),
    ),
    Check(
        "proxies",
        ("RELAIS_TRUSTED_PROXIES",),
        "RELAIS_TRUSTED_PROXIES trusts the reverse proxy's X-Forwarded-* headers",
        "export RELAIS_TRUSTED_PROXIES=1 (one proxy: nginx or Caddy, docs/deployment.md)",
        _proxies,
        severity="warning",
    ),
    Check(
        "rate-limits",
        ("RELAIS_RATELIMIT_STORAGE_URI",),
        "RELAIS_RATELIMIT_STORAGE_URI is shared by every worker",
        "export RELAIS_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0 (pip install relais[redis]), "
        "or keep the proxy's limit_req on /login (docs/deployment.md)",
        _rate_limit_storage,
        severity="warning",
    ),
    Check(
        "webhooks",
        tuple(WEBHOOK_FLAGS.values()),
        "webhooks go to https:// addresses on the Internet only",
        "unset RELAIS_WEBHOOK_ALLOW_HTTP and RELAIS_WEBHOOK_ALLOW_PRIVATE",
        lambda inspection: unsafe_webhook_settings(inspection.settings),
    ),
    Check(
        "publication",
        (PUBLICATION_KEY, "RELAIS_TERRITORY", "RELAIS_TRUSTED_PUBLICATION_KEYS"),
        "the national exchange's keys, if any, are well formed and used for nothing else",
        "flask --app app keys publication-key --new, with RELAIS_TERRITORY (docs/scaling.md)",
        lambda inspection: publication_keys_problem(inspection.settings, inspection.environ),
    ),
    Check(
        "variables",
        ("RELAIS_*",),
        "every RELAIS_* variable set is one Relais reads",
        "correct the name, or unset the variable",
        _unknown_variables,
        severity="warning",
    ),
)


def run_checks(
    inspection: Inspection,
    checks: Iterable[Check] = CHECKS,
    *,
    skip: Mapping[str, str] | None = None,
) -> list[Outcome]:
    """Run every check (none stops the others); ``skip`` maps a check's name to why not."""
    skip = skip or {}
    outcomes = []
    for check in checks:
        if check.name in skip:
            outcomes.append(Outcome(check, skipped=skip[check.name]))
        else:
            outcomes.append(Outcome(check, problem=check.run(inspection)))
    return outcomes

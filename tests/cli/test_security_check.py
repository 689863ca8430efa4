"""``flask --app app security-check [--deploy]``: every production check listed, pass or fail,
with the reason and the fix; status 1 when one fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from app.cli.security import security_check
from app.crypto.keyring import KeyRing
from app.crypto.signing import SigningKey
from app.security_checks import CHECKS

ROOT = Path(__file__).resolve().parent.parent.parent


def _good_production(tmp_path: Path) -> dict[str, str]:
    password = tmp_path / "smtp-password"
    password.write_text("smtp-secret-value\n")
    password.chmod(0o600)
    return {
        "RELAIS_ENV": "production",
        "DATABASE_URL": "postgresql+psycopg://relais@db-host/relais",
        **KeyRing.generate().as_settings(),
        "RELAIS_PUBLIC_BASE_URL": "https://relais.example.org",
        "RELAIS_MAIL_FROM": "relais@example.org",
        "RELAIS_SMTP_HOST": "smtp.example.org",
        "RELAIS_SMTP_USERNAME": "relais",
        "RELAIS_SMTP_PASSWORD_FILE": str(password),
        "RELAIS_ERASURE_REGISTER": str(tmp_path / "erasure-register.txt"),
        "RELAIS_TRUSTED_PROXIES": "1",
        "RELAIS_AUDIT_CHECKPOINT": str(tmp_path / "audit-checkpoints.log"),
        "RELAIS_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
    }


def _run(env: dict[str, str | None], *args: str) -> Result:
    """The command with exactly ``env`` as its Relais variables (the others unset)."""
    cleared: dict[str, str | None] = {
        name: None for name in os.environ if name.startswith("RELAIS_") or name == "DATABASE_URL"
    }
    return CliRunner().invoke(security_check, list(args), env={**cleared, **env})


def _lines(result: Result) -> dict[str, str]:
    """Each check's line, by name (the status and the name are the first two words)."""
    found = {}
    for line in result.output.splitlines()[1:-1]:
        status, name, _rest = line.split(maxsplit=2)
        found[name if name != "setting" else line] = status
    return found


def test_a_good_production_configuration_passes_every_check(tmp_path: Path) -> None:
    result = _run(_good_production(tmp_path), "--deploy")
    assert result.exit_code == 0, result.output
    assert _lines(result) == {check.name: "ok" for check in CHECKS}
    assert result.output.splitlines()[-1] == f"{len(CHECKS)} passed, 0 failed, 0 warning(s)."
    assert "smtp-secret-value" not in result.output


def test_a_bad_production_configuration_lists_every_failure_at_once(tmp_path: Path) -> None:
    key = tmp_path / "audit.key"
    env: dict[str, str | None] = {**_good_production(tmp_path)}
    key.write_text(str(env.pop("RELAIS_AUDIT_KEY")))
    key.chmod(0o644)
    env.update(
        {
            "RELAIS_AUDIT_KEY_FILE": str(key),
            "DATABASE_URL": "sqlite:////srv/relais.sqlite3",
            "RELAIS_PUBLIC_BASE_URL": "http://relais.example.org",
            "RELAIS_SMTP_STARTTLS": "off",
            "RELAIS_ERASURE_REGISTER": str(tmp_path),
            "RELAIS_SMALL_COUNT_THRESHOLD": "3",
            "RELAIS_LOGIN_MAX_FAILURES": "0",
            "RELAIS_TRUSTED_PROXIES": "0",
            "RELAIS_RATELIMIT_STORAGE_URI": "memory://",
            "RELAIS_SMTP_STARTLS": "on",
            "RELAIS_AUDIT_CHECKPOINT": str(tmp_path / "missing" / "checkpoints.log"),
        }
    )
    result = _run(env, "--deploy")
    assert result.exit_code == 1
    lines = _lines(result)
    failed = {name for name, status in lines.items() if status == "FAIL"}
    assert failed == {
        "FAIL  setting           RELAIS_LOGIN_MAX_FAILURES must be 1 or more, got '0'. Fix: "
        "correct the value, or unset the variable for its default (README, Configuration)",
        "key-files",
        "database",
        "public-url",
        "smtp-tls",
        "erasure-register",
        "audit-checkpoint",
        "small-counts",
    }
    assert {name for name, status in lines.items() if status == "warn"} == {
        "proxies",
        "rate-limits",
        "variables",
    }
    assert "Fix: chown the file to the service's user and `chmod 600` it" in result.output
    assert "Relais does not read RELAIS_SMTP_STARTLS" in result.output
    assert result.output.splitlines()[-1] == (
        "6 passed, 8 failed, 3 warning(s): Relais would refuse to start in production."
    )
    assert "smtp-secret-value" not in result.output


def test_a_missing_public_address_is_reported_once(tmp_path: Path) -> None:
    env: dict[str, str | None] = {**_good_production(tmp_path)}
    env.pop("RELAIS_PUBLIC_BASE_URL")
    result = _run(env, "--deploy")
    assert result.exit_code == 1
    lines = _lines(result)
    assert lines["public-url"] == "FAIL"
    assert lines["mail"] == "ok"  # the mail's own settings are right
    assert result.output.count("RELAIS_PUBLIC_BASE_URL") == 2  # its line: the reason and the fix
    env.pop("RELAIS_SMTP_HOST")
    lines = _lines(_run(env, "--deploy"))
    assert lines["mail"] == "FAIL"
    assert "RELAIS_SMTP_HOST must name the SMTP server" in _run(env, "--deploy").output


def test_deploy_checks_a_development_environment_as_production(tmp_path: Path) -> None:
    result = _run({"RELAIS_ENV": "development"}, "--deploy")
    assert result.exit_code == 1
    lines = _lines(result)
    assert lines["environment"] == "FAIL"
    assert lines["keys"] == "FAIL"
    assert "RELAIS_ENV is 'development': a server for real people runs with" in result.output


def test_without_deploy_development_checks_the_values_only() -> None:
    good = _run({"RELAIS_ENV": "development"})
    assert good.exit_code == 0, good.output
    assert good.output.splitlines() == [
        "Relais security check (settings, RELAIS_ENV=development):",
        "0 passed, 0 failed, 0 warning(s); run with --deploy for the production checks.",
    ]
    bad = _run({"RELAIS_ENV": "development", "RELAIS_BLIND_INDEX_BITS": "99"})
    assert bad.exit_code == 1
    assert (
        "FAIL  setting           RELAIS_BLIND_INDEX_BITS must be a whole number from 4 to 32"
        in (bad.output)
    )


def test_without_deploy_production_runs_the_production_checks(tmp_path: Path) -> None:
    env = {**_good_production(tmp_path), "RELAIS_PUBLIC_BASE_URL": "http://relais.example.org"}
    result = _run(env)
    assert result.exit_code == 1
    assert _lines(result)["public-url"] == "FAIL"


def test_a_check_reading_a_bad_value_is_skipped_not_passed(tmp_path: Path) -> None:
    env = {**_good_production(tmp_path), "RELAIS_SMALL_COUNT_THRESHOLD": "many"}
    result = _run(env, "--deploy")
    assert result.exit_code == 1
    assert "skip  small-counts      RELAIS_SMALL_COUNT_THRESHOLD is not valid" in result.output


def test_an_unknown_environment_name_is_a_failure_not_a_crash() -> None:
    result = _run({"RELAIS_ENV": "staging"}, "--deploy")
    assert result.exit_code == 1
    assert "RELAIS_ENV must be one of development, testing, production" in result.output
    assert "skip  environment       RELAIS_ENV is not valid" in result.output


def test_flask_finds_the_command_without_building_the_application(tmp_path: Path) -> None:
    """A production environment that create_app refuses: ``flask --app app security-check``
    still runs (a plugin command) and lists all the failures, not the first one."""
    env = {
        "PATH": "/usr/bin:/bin",
        **_good_production(tmp_path),
        "DATABASE_URL": "sqlite:////srv/relais.sqlite3",
        "RELAIS_PUBLIC_BASE_URL": "http://relais.example.org",
    }
    command = [sys.executable, "-m", "flask", "--app", "app", "security-check"]
    result = subprocess.run(
        [*command, "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "Relais cannot start" not in result.stderr
    assert "FAIL  database" in result.stdout
    assert "FAIL  public-url" in result.stdout


def test_each_check_has_its_own_name_and_a_fix() -> None:
    names = [check.name for check in CHECKS]
    assert len(set(names)) == len(names)
    assert all(check.fix and check.passes and check.variables for check in CHECKS)


def test_webhooks_to_http_or_private_addresses_are_refused_in_production(tmp_path: Path) -> None:
    for variables in (
        {"RELAIS_WEBHOOK_ALLOW_HTTP": "true"},
        {"RELAIS_WEBHOOK_ALLOW_PRIVATE": "yes"},
        {"RELAIS_WEBHOOK_ALLOW_HTTP": "1", "RELAIS_WEBHOOK_ALLOW_PRIVATE": "on"},
    ):
        result = _run({**_good_production(tmp_path), **variables}, "--deploy")
        assert result.exit_code == 1
        assert {n for n, s in _lines(result).items() if s == "FAIL"} == {"webhooks"}
        for variable in variables:
            assert variable in result.output
    allowed_off = {"RELAIS_WEBHOOK_ALLOW_HTTP": "false", "RELAIS_WEBHOOK_ALLOW_PRIVATE": "off"}
    assert _run({**_good_production(tmp_path), **allowed_off}, "--deploy").exit_code == 0


def test_proconnect_is_off_or_whole_with_an_https_issuer(tmp_path: Path) -> None:
    good = _good_production(tmp_path)
    secret = tmp_path / "oidc-secret"
    secret.write_text("oidc-client-secret-value\n")
    secret.chmod(0o600)
    whole = {
        "RELAIS_OIDC_ISSUER": "https://auth.agentconnect.gouv.fr/api/v2",
        "RELAIS_OIDC_CLIENT_ID": "relais-client",
        "RELAIS_OIDC_CLIENT_SECRET_FILE": str(secret),
    }
    assert _lines(_run({**good, **whole}, "--deploy"))["proconnect"] == "ok"
    half = _run({**good, "RELAIS_OIDC_ISSUER": whole["RELAIS_OIDC_ISSUER"]}, "--deploy")
    assert half.exit_code == 1
    assert _lines(half)["proconnect"] == "FAIL"
    assert "RELAIS_OIDC_CLIENT_ID and RELAIS_OIDC_CLIENT_SECRET missing" in half.output
    plain = _run({**good, **whole, "RELAIS_OIDC_ISSUER": "http://idp.example.org"}, "--deploy")
    assert _lines(plain)["proconnect"] == "FAIL"
    assert "RELAIS_OIDC_ISSUER must be an https:// address" in plain.output
    assert "oidc-client-secret-value" not in plain.output + half.output


def test_the_national_exchange_keys_are_checked_when_set(tmp_path: Path) -> None:
    good = _good_production(tmp_path)
    signing = SigningKey.generate()
    national = f"90:{signing.verify_key.text},25:{SigningKey.generate().verify_key.text}"
    whole = {
        "RELAIS_PUBLICATION_KEY": signing.text,
        "RELAIS_TERRITORY": "90",
        "RELAIS_TRUSTED_PUBLICATION_KEYS": national,
    }
    assert _lines(_run({**good, **whole}, "--deploy"))["publication"] == "ok"

    def failure(env: dict[str, str | None]) -> str:
        result = _run({**good, **env}, "--deploy")
        assert result.exit_code == 1
        assert _lines(result)["publication"] == "FAIL"
        return result.output

    assert "without RELAIS_TERRITORY" in failure({**whole, "RELAIS_TERRITORY": None})
    reused = {**whole, "RELAIS_PUBLICATION_KEY": good["RELAIS_AUDIT_KEY"]}
    assert "reuses another key of this instance" in failure(reused)
    assert "RELAIS_PUBLICATION_KEY" in failure({**whole, "RELAIS_PUBLICATION_KEY": "short"})
    bad_list = {**whole, "RELAIS_TRUSTED_PUBLICATION_KEYS": "90-no-colon"}
    assert "RELAIS_TRUSTED_PUBLICATION_KEYS" in failure(bad_list)
    # No secret is ever printed.
    assert signing.text not in failure(bad_list)

"""Start-up: production refuses to run without good keys; development makes its own once."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app import StartupError, create_app
from app.crypto.keyring import DOCUMENTED_EXAMPLES, KeyRing
from config import ProductionConfig

ROOT = Path(__file__).resolve().parent.parent


def _production_env(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "RELAIS_ENV": "production",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
    }
    env.update(KeyRing.generate().as_settings())
    env.update(
        {
            "RELAIS_SMTP_HOST": "smtp.example.org",
            "RELAIS_MAIL_FROM": "relais@example.org",
            "RELAIS_PUBLIC_BASE_URL": "https://relais.example.org",
            "RELAIS_ERASURE_REGISTER": str(tmp_path / "erasure-register.txt"),
            "RELAIS_AUDIT_CHECKPOINT": str(tmp_path / "audit-checkpoints.log"),
        }
    )
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def _start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Build the app in a fresh interpreter, as gunicorn would."""
    return subprocess.run(
        [sys.executable, "-c", "from app import create_app; create_app(); print('started')"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_starts_with_good_keys(tmp_path: Path) -> None:
    result = _start(_production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.parametrize(
    "missing", ["RELAIS_SECRET_KEY", "RELAIS_KEKS", "RELAIS_INDEX_KEY", "RELAIS_AUDIT_KEY"]
)
def test_production_without_a_key_refuses_to_start_and_names_it(
    tmp_path: Path, missing: str
) -> None:
    result = _start(_production_env(tmp_path, **{missing: None}))
    assert result.returncode == 1
    assert f"Relais cannot start: {missing} is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_a_reused_key(tmp_path: Path) -> None:
    env = _production_env(tmp_path)
    env["RELAIS_AUDIT_KEY"] = env["RELAIS_INDEX_KEY"]
    result = _start(env)
    assert result.returncode == 1
    assert "reuses the key" in result.stderr
    assert env["RELAIS_INDEX_KEY"] not in result.stderr  # the key itself is never printed


def test_production_refuses_a_documented_example(tmp_path: Path) -> None:
    example = sorted(DOCUMENTED_EXAMPLES)[0]
    result = _start(_production_env(tmp_path, RELAIS_INDEX_KEY=example))
    assert result.returncode == 1
    assert "RELAIS_INDEX_KEY is an example value" in result.stderr


def test_production_refuses_a_malformed_key(tmp_path: Path) -> None:
    result = _start(_production_env(tmp_path, RELAIS_AUDIT_KEY="c2hvcnQ"))
    assert result.returncode == 1
    assert "RELAIS_AUDIT_KEY must be 32 bytes" in result.stderr


def test_keys_can_come_from_files(tmp_path: Path) -> None:
    env = _production_env(tmp_path)
    secret = tmp_path / "audit.key"
    secret.write_text(env.pop("RELAIS_AUDIT_KEY") + "\n")
    env["RELAIS_AUDIT_KEY_FILE"] = str(secret)
    assert _start(env).returncode == 0


def test_unknown_environment_name_is_refused(tmp_path: Path) -> None:
    result = _start(_production_env(tmp_path, RELAIS_ENV="staging"))
    assert result.returncode == 1
    assert "RELAIS_ENV must be one of" in result.stderr


def test_startup_error_is_a_clean_exit() -> None:
    with pytest.raises(StartupError) as caught:
        create_app(ProductionConfig)  # the test environment sets no key
    assert caught.value.reason == "RELAIS_SECRET_KEY is missing"


def test_development_generates_keys_once_with_mode_0600(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "RELAIS_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}",
    }
    code = (
        "import app as m; from pathlib import Path; "
        f"m.ROOT = Path({str(tmp_path)!r}); m.create_app(); print('started')"
    )
    first = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert first.returncode == 0, first.stderr
    keys = tmp_path / "instance" / "relais-keys.json"
    assert "Development keys generated" in first.stderr
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    content = keys.read_text()
    second = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert second.returncode == 0
    assert "Development keys generated" not in second.stderr
    assert keys.read_text() == content


@pytest.mark.parametrize(
    "missing", ["RELAIS_SMTP_HOST", "RELAIS_MAIL_FROM", "RELAIS_PUBLIC_BASE_URL"]
)
def test_production_without_mail_settings_refuses_to_start(tmp_path: Path, missing: str) -> None:
    result = _start(_production_env(tmp_path, **{missing: None}))
    assert result.returncode == 1
    assert f"Relais cannot start: {missing}" in result.stderr


def test_the_key_generator_prints_a_set_production_accepts() -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", "-m", "app.crypto"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    settings = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert set(settings) == {
        "RELAIS_SECRET_KEY",
        "RELAIS_KEKS",
        "RELAIS_ACTIVE_KEK",
        "RELAIS_INDEX_KEY",
        "RELAIS_AUDIT_KEY",
    }
    KeyRing.from_settings(settings)


def test_production_without_an_erasure_register_refuses_to_start(tmp_path: Path) -> None:
    result = _start(_production_env(tmp_path, RELAIS_ERASURE_REGISTER=None))
    assert result.returncode == 1
    assert "Relais cannot start: RELAIS_ERASURE_REGISTER must name" in result.stderr


def test_production_refuses_an_erasure_register_in_a_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "not-mounted" / "erasure-register.txt"
    result = _start(_production_env(tmp_path, RELAIS_ERASURE_REGISTER=str(missing)))
    assert result.returncode == 1
    assert "does not exist" in result.stderr


def test_production_without_an_audit_checkpoint_refuses_to_start(tmp_path: Path) -> None:
    result = _start(_production_env(tmp_path, RELAIS_AUDIT_CHECKPOINT=None))
    assert result.returncode == 1
    assert "Relais cannot start: RELAIS_AUDIT_CHECKPOINT must name" in result.stderr


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("{tmp}/not-mounted/checkpoints.log", "is in a folder that does not exist"),
        ("{tmp}", "is a folder, not a file"),
        ("syslog:kern9", "unknown syslog facility 'kern9'"),
    ],
)
def test_production_refuses_a_bad_audit_checkpoint(tmp_path: Path, value: str, reason: str) -> None:
    env = _production_env(tmp_path, RELAIS_AUDIT_CHECKPOINT=value.format(tmp=tmp_path))
    result = _start(env)
    assert result.returncode == 1
    assert "Relais cannot start: RELAIS_AUDIT_CHECKPOINT: " in result.stderr
    assert reason in result.stderr


def test_production_accepts_a_syslog_audit_checkpoint(tmp_path: Path) -> None:
    result = _start(_production_env(tmp_path, RELAIS_AUDIT_CHECKPOINT="syslog:local3"))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("RELAIS_LOGIN_MAX_FAILURES", "abc", "RELAIS_LOGIN_MAX_FAILURES must be a whole number"),
        ("RELAIS_PUBLIC_DIRECTORY", "perhaps", "RELAIS_PUBLIC_DIRECTORY must be true or false"),
        (
            "RELAIS_HANDOFF_REMINDER_DAYS",
            "0",
            "RELAIS_HANDOFF_REMINDER_DAYS must be one day or more",
        ),
        ("RELAIS_HANDOFF_OVERDUE_DAYS", "0", "RELAIS_HANDOFF_OVERDUE_DAYS must be one day or more"),
        ("RELAIS_HANDOFF_EXPIRY_DAYS", "-1", "RELAIS_HANDOFF_EXPIRY_DAYS must be one day or more"),
        ("RELAIS_IDLE_WEEKS", "0", "RELAIS_IDLE_WEEKS must be one week or more"),
        ("RELAIS_ENV", "staging", "RELAIS_ENV must be one of"),
    ],
)
def test_a_bad_variable_is_refused_cleanly_by_any_command(
    tmp_path: Path, variable: str, value: str, reason: str
) -> None:
    """The environment is read when the application is built, not when a module is imported:
    ``flask routes`` (or gunicorn) says why it cannot start, without a traceback."""
    env = _production_env(tmp_path, **{variable: value})
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "routes"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert f"Relais cannot start: {reason}" in result.stderr
    assert "Traceback" not in result.stderr


def test_importing_the_settings_reads_nothing(tmp_path: Path) -> None:
    env = _production_env(tmp_path, RELAIS_LOGIN_MAX_FAILURES="abc")
    result = subprocess.run(
        [sys.executable, "-c", "import config, app.settings; print('imported')"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "imported" in result.stdout

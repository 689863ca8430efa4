"""Start-up: production refuses to run without good keys; development makes its own once."""

from __future__ import annotations

import gc
import os
import runpy
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import app as app_module
from app import StartupError, create_app
from app.crypto.keyring import DOCUMENTED_EXAMPLES, KeyRing
from config import Config, DevelopmentConfig, ProductionConfig, TestingConfig

ROOT = Path(__file__).resolve().parent.parent
# Production refuses SQLite; nothing connects to this database while the app is built.
PRODUCTION_DATABASE_URL = "postgresql+psycopg://relais@127.0.0.1:9/relais"


def _production_env(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "RELAIS_ENV": "production",
        "DATABASE_URL": PRODUCTION_DATABASE_URL,
        "RELAIS_TRUSTED_PROXIES": "1",
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
    secret.chmod(0o600)
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
        "RELAIS_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    code = "import app as m; m.create_app(); print('started')"
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
        ("DATABASE_URL", "garbage", "DATABASE_URL is not a database URL"),
        ("DATABASE_URL", "postgresql+psycopg://db:port/x", "DATABASE_URL is not a database URL"),
        (
            "DATABASE_URL",
            "mysql://x/y",
            "DATABASE_URL must name a SQLite or PostgreSQL database",
        ),
        (
            "RELAIS_READ_DATABASE_URL",
            "postgres://replica/relais",
            "RELAIS_READ_DATABASE_URL must name a SQLite or PostgreSQL database",
        ),
        (
            "RELAIS_LISTEN_DATABASE_URL",
            "postgresql+psycopg2://db/relais",
            "RELAIS_LISTEN_DATABASE_URL must name a SQLite or PostgreSQL database",
        ),
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


def test_a_database_url_of_another_database_is_refused_without_showing_it(
    tmp_path: Path,
) -> None:
    """An unsupported dialect stops a development command too, before its driver is imported,
    and the message never shows the URL (it may hold the password)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "RELAIS_ENV": "development",
        "RELAIS_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": "mysql://relais:s3cret-pw@db/relais",
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "structures", "list"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Relais cannot start: DATABASE_URL must name a SQLite or PostgreSQL" in result.stderr
    assert "'mysql'" in result.stderr
    assert "s3cret-pw" not in result.stderr
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


# -- production refuses unsafe settings (issue 12) --------------------------------------------
# Built in this process for speed: each case stops before the database and the audit key are
# wired (``_register_extensions`` would fail the test), so the suite's application is untouched.


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Replace the process environment's Relais variables with a production set, changed by
    the keyword arguments (``None`` removes a variable)."""

    def never_started(_app: object) -> None:
        raise AssertionError("create_app went past the settings checks")

    monkeypatch.setattr(app_module, "_register_extensions", never_started)

    def apply(**overrides: str | None) -> None:
        for name in list(os.environ):
            if name.startswith("RELAIS_") or name == "DATABASE_URL":
                monkeypatch.delenv(name)
        for name, value in _production_env(tmp_path, **overrides).items():
            if name != "PATH":
                monkeypatch.setenv(name, value)

    return apply


def _refusal(config: type[Config] = ProductionConfig) -> str:
    with pytest.raises(StartupError) as caught:
        create_app(config)
    return str(caught.value)


def _owner_only_file(path: Path, text: str, mode: int = 0o600) -> str:
    path.write_text(text + "\n")
    path.chmod(mode)
    return str(path)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        (
            {"RELAIS_PUBLIC_BASE_URL": "http://relais.example.org"},
            "RELAIS_PUBLIC_BASE_URL must be an https:// address",
        ),
        (
            {
                "RELAIS_SMTP_STARTTLS": "false",
                "RELAIS_SMTP_USERNAME": "relais",
                "RELAIS_SMTP_PASSWORD": "smtp-secret-value",
            },
            "RELAIS_SMTP_STARTTLS is off while RELAIS_SMTP_USERNAME and RELAIS_SMTP_PASSWORD "
            "are set",
        ),
        ({"RELAIS_SMALL_COUNT_THRESHOLD": "4"}, "RELAIS_SMALL_COUNT_THRESHOLD is 4"),
        ({"RELAIS_SMALL_COUNT_THRESHOLD": "0"}, "RELAIS_SMALL_COUNT_THRESHOLD must be 1 or more"),
        ({"RELAIS_LOGIN_MAX_FAILURES": "0"}, "RELAIS_LOGIN_MAX_FAILURES must be 1 or more"),
        ({"RELAIS_LOGIN_LOCK_MINUTES": "-1"}, "RELAIS_LOGIN_LOCK_MINUTES must be 1 or more"),
        ({"DATABASE_URL": None}, "DATABASE_URL is missing"),
        (
            {"DATABASE_URL": "sqlite:////srv/relais/relais.sqlite3"},
            "DATABASE_URL must name a PostgreSQL database (it names 'sqlite')",
        ),
        (
            {"RELAIS_ERASURE_REGISTER": "erasure-register.txt"},
            "RELAIS_ERASURE_REGISTER must be an absolute path",
        ),
        ({"RELAIS_BLIND_INDEX_BITS": "forty"}, "RELAIS_BLIND_INDEX_BITS must be a whole number"),
        ({"RELAIS_BLIND_INDEX_BITS": "40"}, "RELAIS_BLIND_INDEX_BITS must be a whole number from"),
    ],
)
def test_production_refuses_an_unsafe_setting_and_names_it(
    environment: Callable[..., None], overrides: dict[str, str | None], reason: str
) -> None:
    environment(**overrides)
    message = _refusal()
    assert message.startswith(f"Relais cannot start: {reason}")
    assert "smtp-secret-value" not in message


def test_production_refuses_an_erasure_register_that_is_a_folder(
    environment: Callable[..., None], tmp_path: Path
) -> None:
    environment(RELAIS_ERASURE_REGISTER=str(tmp_path))
    assert f"RELAIS_ERASURE_REGISTER names a folder, not a file: {tmp_path}" in _refusal()


def test_production_refuses_a_key_file_others_can_read(
    environment: Callable[..., None], tmp_path: Path
) -> None:
    key = KeyRing.generate().as_settings()["RELAIS_INDEX_KEY"]
    shared = _owner_only_file(tmp_path / "index.key", key, mode=0o644)
    environment(RELAIS_INDEX_KEY=None, RELAIS_INDEX_KEY_FILE=shared)
    message = _refusal()
    assert f"RELAIS_INDEX_KEY_FILE: {shared} may be read or changed by its group" in message
    assert "(mode 0644)" in message
    assert key not in message


def test_production_refuses_an_smtp_password_file_its_group_can_read(
    environment: Callable[..., None], tmp_path: Path
) -> None:
    password = _owner_only_file(tmp_path / "smtp", "smtp-secret-value", mode=0o640)
    environment(RELAIS_SMTP_USERNAME="relais", RELAIS_SMTP_PASSWORD_FILE=password)
    assert f"RELAIS_SMTP_PASSWORD_FILE: {password} may be read" in _refusal()


def test_production_accepts_secret_files_of_their_owner_only(
    environment: Callable[..., None], tmp_path: Path
) -> None:
    """The counter-test of the two above: the same files, mode 0600 and 0400, pass the
    checks (the build then stops where this fixture stops it, after the checks)."""
    key = KeyRing.generate().as_settings()["RELAIS_INDEX_KEY"]
    environment(
        RELAIS_INDEX_KEY=None,
        RELAIS_INDEX_KEY_FILE=_owner_only_file(tmp_path / "index.key", key),
        RELAIS_SMTP_USERNAME="relais",
        RELAIS_SMTP_PASSWORD_FILE=_owner_only_file(tmp_path / "smtp", "pw", mode=0o400),
    )
    with pytest.raises(AssertionError, match="went past the settings checks"):
        create_app(ProductionConfig)


def test_several_unsafe_settings_name_the_first_and_count_the_others(
    environment: Callable[..., None],
) -> None:
    environment(DATABASE_URL=None, RELAIS_PUBLIC_BASE_URL="http://relais.example.org")
    with pytest.raises(StartupError) as caught:
        create_app(ProductionConfig)
    assert caught.value.reason.startswith("DATABASE_URL is missing")
    assert str(caught.value).endswith("(and 1 more: run flask --app app security-check --deploy)")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("RELAIS_BLIND_INDEX_BITS", "3"),
        ("RELAIS_BLIND_INDEX_BITS", "33"),
        ("RELAIS_LOGIN_LOCK_MINUTES", "0"),
    ],
)
def test_a_value_out_of_range_is_refused_in_development_too(
    environment: Callable[..., None], variable: str, value: str
) -> None:
    environment(RELAIS_ENV="development", **{variable: value})
    message = _refusal(DevelopmentConfig)
    assert message.startswith(f"Relais cannot start: {variable} must be")
    assert "ValueError" not in message


def test_a_blind_index_width_given_by_code_is_refused_cleanly() -> None:
    with pytest.raises(StartupError, match="BLIND_INDEX_BITS: blind index width must be"):
        create_app(TestingConfig, overrides={"BLIND_INDEX_BITS": 64}, keyring=KeyRing.generate())


def test_development_does_not_ask_for_production_settings(
    environment: Callable[..., None],
) -> None:
    """An http:// address, SQLite and no register are fine for a developer's machine."""
    environment(
        RELAIS_ENV="development",
        DATABASE_URL=None,
        RELAIS_PUBLIC_BASE_URL="http://localhost:5000",
        RELAIS_ERASURE_REGISTER=None,
        RELAIS_SMALL_COUNT_THRESHOLD="2",
    )
    with pytest.raises(AssertionError, match="went past the settings checks"):
        create_app(DevelopmentConfig)


def test_gunicorn_with_the_repository_config_stops_on_a_refused_configuration(
    tmp_path: Path,
) -> None:
    """The app is built in gunicorn's master (preload_app): gunicorn exits with the reason,
    rather than forking workers that fail and are replaced for ever."""
    env = _production_env(tmp_path, RELAIS_PUBLIC_BASE_URL="http://relais.example.org")
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", "127.0.0.1:0"]
        + ["app:create_app()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Relais cannot start: RELAIS_PUBLIC_BASE_URL must be an https:// address" in (
        result.stderr
    )
    assert "Booting worker" not in result.stderr


def test_production_logs_the_warnings_of_the_checks(
    environment: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> None:
    environment(RELAIS_TRUSTED_PROXIES="0")
    with pytest.raises(AssertionError, match="went past the settings checks"):
        create_app(ProductionConfig)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        "Security check proxies: RELAIS_TRUSTED_PROXIES is 0: behind a reverse proxy, Relais "
        "sees the proxy's address for every client and does not learn that the request came "
        "over HTTPS",
        "Security check rate-limits: RELAIS_RATELIMIT_STORAGE_URI is memory://: each "
        "gunicorn worker counts the requests of the sign-in form apart, so the per-address "
        "limit is multiplied by the number of workers (the sign-in back-off itself is in the "
        "database and shared)",
    ]


def test_gunicorn_freezes_the_preloaded_application_before_forking() -> None:
    """``pre_fork`` moves what the master built out of the garbage collector's reach (the
    workers' collections do not walk it again: docs/performance.md, "Third pass")."""
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    gc.unfreeze()
    try:
        hooks["pre_fork"](None, None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()

"""``flask --app app security-check [--deploy]``: list the checks of ``app.security_checks``.

The command reads the settings itself, as ``create_app`` would, without building the
application: a production configuration that fails a check cannot build it (it refuses to
start on the first failure), and the command must list every failure at once. It is
registered as a Flask plugin command (``flask.commands`` entry point in pyproject.toml), which
``flask`` finds without loading the application, and on the application too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import click

from app.security_checks import CHECKS, Check, Inspection, Outcome, run_checks
from app.settings import CONFIGS, ConfigError, ProductionConfig, as_mapping, config_from_environment

# A bad value of the environment, shown like a failed check.
SETTING_CHECK = Check(
    "setting",
    (),
    "",
    "correct the value, or unset the variable for its default (README, Configuration)",
    lambda _inspection: None,
)


def inspect_environment(
    environ: Mapping[str, str], *, deploy: bool
) -> tuple[list[Outcome], str | None]:
    """Every outcome, the bad values first; and the environment's name (``None`` if bad)."""
    errors: list[tuple[str, ConfigError]] = []
    try:
        env_name: str | None = config_from_environment(environ).ENV_NAME
    except ConfigError as exc:
        errors.append(("RELAIS_ENV", exc))
        env_name = None
    production = deploy or env_name == "production"
    config_class = ProductionConfig if production else CONFIGS[env_name or "development"]
    settings = as_mapping(config_class, environ, errors)
    outcomes = [Outcome(SETTING_CHECK, problem=str(error)) for _variable, error in errors]
    if production:
        bad = {variable for variable, _error in errors}
        skip = {
            check.name: f"{', '.join(sorted(bad & set(check.variables)))} is not valid"
            for check in CHECKS
            if bad & set(check.variables)
        }
        inspection = Inspection(settings, environ, env_name or "unknown")
        outcomes += run_checks(inspection, skip=skip)
    return outcomes, env_name


def _line(outcome: Outcome) -> str:
    check = outcome.check
    if outcome.skipped:
        return f"skip  {check.name:<17} {outcome.skipped}"
    if outcome.problem is None:
        return f"ok    {check.name:<17} {check.passes}"
    status = "FAIL" if outcome.failed else "warn"
    return f"{status}  {check.name:<17} {outcome.problem}. Fix: {check.fix}"


@click.command("security-check")
@click.option(
    "--deploy",
    is_flag=True,
    help="Run every production check on this environment's settings, whatever RELAIS_ENV says.",
)
def security_check(deploy: bool) -> None:
    """List the security checks of the settings (pass or fail, the reason and the fix).

    Without --deploy: the values of every variable, and the production checks when
    RELAIS_ENV is production. Exits with status 1 when one fails; warnings do not fail.
    Run it as the service's user, with the service's environment.
    """
    outcomes, env_name = inspect_environment(os.environ, deploy=deploy)
    scope = "production checks" if deploy or env_name == "production" else "settings"
    click.echo(f"Relais security check ({scope}, RELAIS_ENV={env_name or 'invalid'}):")
    for outcome in outcomes:
        click.echo(_line(outcome))
    failed = sum(outcome.failed for outcome in outcomes)
    warned = sum(outcome.warned for outcome in outcomes)
    passed = sum(outcome.problem is None and not outcome.skipped for outcome in outcomes)
    summary = f"{passed} passed, {failed} failed, {warned} warning(s)"
    if scope == "settings":
        summary += "; run with --deploy for the production checks"
    if failed:
        click.echo(f"{summary}: Relais would refuse to start in production.")
        raise SystemExit(1)
    click.echo(f"{summary}.")

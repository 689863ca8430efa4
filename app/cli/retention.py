"""``flask retention run``: the retention rule, for cron (for instance every night).

Idle follow-ups end, people no longer followed get an erasure notice shown to their last
structure, and those whose notice has passed are erased (see docs/rights.md). The settings are
``RELAIS_RETENTION_MONTHS`` (24) and ``RELAIS_ERASURE_NOTICE_DAYS`` (30). The command prints
counts only; ``--dry-run`` prints what it would do and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli.common import transaction, vault
from app.cli.gdpr import register_file, today_in_france
from app.services.rights.erasure import RegisterFileError
from app.services.rights.retention import apply_retention, plan_retention

retention_cli = AppGroup("retention", help="The retention rule of personal data (for cron).")


def _settings() -> tuple[int, int]:
    months = current_app.config["RETENTION_MONTHS"]
    notice = current_app.config["ERASURE_NOTICE_DAYS"]
    if not isinstance(months, int) or months < 1:
        raise click.ClickException("RETENTION_MONTHS must be a whole number of months, 1 or more")
    if not isinstance(notice, int) or notice < 0:
        raise click.ClickException("ERASURE_NOTICE_DAYS must be a whole number of days, 0 or more")
    return months, notice


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Only count what would be done.")
def run(dry_run: bool) -> None:
    """End idle follow-ups, give erasure notices, erase the people whose notice has passed.

    A follow-up ends after RETENTION_MONTHS months without activity (a step, a barrier change,
    a hand-off transition, its start); a person with no follow-up left for as long gets a
    notice of ERASURE_NOTICE_DAYS days on their last structure's page, then is erased.
    """
    months, notice = _settings()
    today, now = today_in_france(), datetime.now(UTC)
    register = register_file()
    try:
        with transaction() as session:
            plan = plan_retention(session, today=today, months=months, notice_days=notice)
            if not dry_run:
                report = apply_retention(session, vault(), register, plan, now=now)
    except RegisterFileError as exc:  # the transaction was rolled back
        raise click.ClickException(f"nothing done: {exc}") from exc
    if dry_run:
        click.echo(
            f"would end {len(plan.idle)} follow-up(s) without activity for {months} months, "
            f"give {len(plan.to_notice)} erasure notice(s) (erasure on {plan.erase_on}), "
            f"cancel {len(plan.to_cancel)} notice(s), erase {len(plan.to_erase)} person(s)"
        )
        return
    click.echo(
        f"ended {report.follow_ups_ended} follow-up(s) without activity for {months} months, "
        f"gave {report.notices_given} erasure notice(s) (erasure on {plan.erase_on}), "
        f"cancelled {report.notices_cancelled} notice(s), erased {report.erased} person(s)"
    )

"""Command-line interface: thin wrappers over the services, registered on the app."""

from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    """Attach every command group to ``app.cli`` (``flask --app app ...``)."""
    from app.cli import database
    from app.cli.accounts import users_cli
    from app.cli.audit import audit_cli
    from app.cli.demo import demo_cli
    from app.cli.directory import directory_cli
    from app.cli.gdpr import gdpr_cli
    from app.cli.handoffs import handoffs_cli
    from app.cli.imports import beneficiaries_cli
    from app.cli.keys import keys_cli
    from app.cli.mail import mail_cli
    from app.cli.pathways import pathways_cli
    from app.cli.retention import retention_cli
    from app.cli.security import security_check
    from app.cli.statistics import statistics_cli
    from app.cli.structures import reference_cli, structures_cli
    from app.cli.submissions import submissions_cli
    from app.cli.webhooks import webhooks_cli

    for group in (
        structures_cli,
        users_cli,
        reference_cli,
        demo_cli,
        handoffs_cli,
        pathways_cli,
        mail_cli,
        webhooks_cli,
        beneficiaries_cli,
        directory_cli,
        gdpr_cli,
        retention_cli,
        keys_cli,
        audit_cli,
        submissions_cli,
        statistics_cli,
        security_check,
    ):
        app.cli.add_command(group)
    database.register()

"""Command-line interface: thin wrappers over the services, registered on the app."""

from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    """Attach every command group to ``app.cli`` (``flask --app app ...``)."""

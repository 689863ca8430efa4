"""Web layer: blueprints, forms, request wiring."""

from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    """Register blueprints, login, locale selection, security headers and error pages."""

"""The front door: each role lands on its own page, where reminders are shown."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.domain.roles import Role
from app.extensions import limiter
from app.models import User
from app.services.directory.search import DirectoryEntry, card_reminder
from app.services.health import health as health_of
from app.services.rights.retention import ErasureNotice, erasure_notices
from app.web import key_guard
from app.web.context import actor, dbs, replica, today, vault

bp = Blueprint("home", __name__)

LANDING = {
    Role.CASEWORKER: "work.index",
    Role.COORDINATOR: "pathways.index",
    Role.ADMIN: "admin.structures",
    Role.FIELD_WORKER: "directory.index",
}


@bp.get("/")
def index() -> ResponseReturnValue:
    return redirect(url_for(LANDING[actor().role]))


@bp.get("/health")
def health() -> ResponseReturnValue:
    """For load balancers and monitoring: 200 when every required dependency answers, else 503
    naming the one that is down (``{"status": "unavailable", "checks": {"database": "down",
    ...}}``); a read replica that is down is named too, with 200 and ``"degraded"``; keys
    that do not open the database are ``"keys": "mismatch"`` (``app/web/key_guard.py``).
    Says nothing else."""
    verdict = key_guard.guard_of(current_app).verdict(dbs(), vault())
    keys_match = None if verdict is None else verdict.ok
    found = health_of(dbs(), limiter.storage, replica(), keys_match)
    return {"status": found.status, "checks": found.checks}, 200 if found.ok else 503


@bp.app_context_processor
def _reminders() -> dict[str, Any]:
    return {"card_reminder": landing_card_reminder, "erasure_notices": landing_erasure_notices}


def landing_card_reminder() -> DirectoryEntry | None:
    """On a caseworker's landing page: their structure's card, when it needs checking."""
    user = current_user._get_current_object()
    if not isinstance(user, User) or request.endpoint != LANDING.get(user.role):
        return None
    months = current_app.config["DIRECTORY_STALE_MONTHS"]
    return card_reminder(dbs(), user, today=today(), stale_months=months)


def landing_erasure_notices() -> list[ErasureNotice]:
    """On a caseworker's landing page: the people their structure followed last who will be
    erased by the retention rule, and when (see ``app/services/rights/retention.py``)."""
    user = current_user._get_current_object()
    if not isinstance(user, User) or request.endpoint != LANDING.get(user.role):
        return []
    return erasure_notices(dbs(), user)

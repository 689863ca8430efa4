"""The front door: each role lands on its own page."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from app.domain.roles import Role
from app.web.context import actor, dbs

bp = Blueprint("home", __name__)

LANDING = {
    Role.CASEWORKER: "people.index",
    Role.COORDINATOR: "pathways.index",
    Role.ADMIN: "admin.structures",
}


@bp.get("/")
def index() -> ResponseReturnValue:
    return redirect(url_for(LANDING[actor().role]))


@bp.get("/health")
def health() -> ResponseReturnValue:
    """For load balancers: the app answers and reaches its database. Says nothing else."""
    dbs().execute(text("SELECT 1"))
    return {"status": "ok"}

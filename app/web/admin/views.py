"""Administrators: structures, accounts and reference lists. No identity is shown here."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from app.domain.roles import Role
from app.models import ReferenceKind
from app.services.security.accounts import list_users
from app.services.structures import list_structures, reference_items
from app.web.context import dbs, roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/structures")
@roles_required(Role.ADMIN)
def structures() -> ResponseReturnValue:
    session = dbs()
    users = list_users(session)
    staff = Counter(u.structure_id for u in users if u.active and u.structure_id)
    return render_template(
        "admin/structures.html", structures=list_structures(session), staff=staff
    )


@bp.get("/users")
@roles_required(Role.ADMIN)
def users() -> ResponseReturnValue:
    return render_template("admin/users.html", users=list_users(dbs()))


@bp.get("/reference")
@roles_required(Role.ADMIN)
def reference() -> ResponseReturnValue:
    session = dbs()
    lists = {kind: reference_items(session, kind, include_inactive=True) for kind in ReferenceKind}
    return render_template("admin/reference.html", lists=lists)

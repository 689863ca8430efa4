"""Coordinators: every pathway of the network, pseudonymous, never an identity."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from app.domain.roles import Role
from app.models import ReferenceKind
from app.services import pathways
from app.services.people import access, overview
from app.services.structures import list_structures, reference_items
from app.web.context import actor, dbs, roles_required, today
from app.web.listing import filters_from_request, page_from_request

bp = Blueprint("pathways", __name__, url_prefix="/pathways")


@bp.get("/")
@roles_required(Role.COORDINATOR)
def index() -> ResponseReturnValue:
    session, user = dbs(), actor()
    filters = filters_from_request()
    page = overview.all_pathways(session, user, filters=filters, page=page_from_request())
    return render_template(
        "pathways/index.html",
        page=page,
        filters=filters,
        today=today(),
        cohorts=reference_items(session, ReferenceKind.COHORT),
        stages=reference_items(session, ReferenceKind.STAGE),
        qpvs=reference_items(session, ReferenceKind.QPV),
        structures=list_structures(session, include_inactive=False),
    )


@bp.get("/<pseudonym>")
@roles_required(Role.COORDINATOR)
def detail(pseudonym: str) -> ResponseReturnValue:
    session, user = dbs(), actor()
    person = access.person_for_coordinator(session, user, pseudonym)
    timeline = pathways.timeline(session, person)
    overview.record_pathway_view(session, user, person)
    return render_template(
        "pathways/detail.html", person=person, timeline=timeline, texts={}, today=today()
    )

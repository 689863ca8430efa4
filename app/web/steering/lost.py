"""Steering the territory: the coordinators' list of the people lost from view.

Pseudonymous (a coordinator never sees who the people are): each row links to the person's
pathway (``/pathways/<pseudonym>``), with their last structure, the day of their last event
and why they count as lost (``app.services.statistics.lost``).
"""

from __future__ import annotations

from flask import current_app, render_template
from flask.typing import ResponseReturnValue

from app.domain.roles import Role
from app.models import ReferenceKind
from app.services.people.lost import lost_from_view
from app.services.structures import list_structures, reference_items
from app.web.context import actor, dbs, roles_required, today
from app.web.listing import filters_from_request, page_from_request
from app.web.steering.views import bp


@bp.get("/lost")
@roles_required(Role.COORDINATOR)
def lost() -> ResponseReturnValue:
    session, user = dbs(), actor()
    filters = filters_from_request()
    page = lost_from_view(
        session,
        user,
        filters=filters,
        page=page_from_request(),
        today=today(),
        days=current_app.config["LOST_FROM_VIEW_DAYS"],
        contact_days=current_app.config["LOST_FIRST_CONTACT_DAYS"],
    )
    return render_template(
        "steering/lost.html",
        page=page,
        filters=filters,
        days=current_app.config["LOST_FROM_VIEW_DAYS"],
        contact_days=current_app.config["LOST_FIRST_CONTACT_DAYS"],
        cohorts=reference_items(session, ReferenceKind.COHORT),
        qpvs=reference_items(session, ReferenceKind.QPV),
        structures=list_structures(session, include_inactive=False),
    )

"""Coordinators: every pathway of the network, pseudonymous, never an identity."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.domain.people import canonical_pseudonym
from app.domain.roles import Role
from app.models import ReferenceKind
from app.services import pathways
from app.services.errors import InvalidInput
from app.services.people import access, overview
from app.services.structures import list_structures, reference_items
from app.web.context import actor, dbs, roles_required, today
from app.web.forms_support import service_message
from app.web.listing import filters_from_request, refuse_bad_cursor, window_from_request
from app.web.pathways.timeline_text import timeline_words

bp = Blueprint("pathways", __name__, url_prefix="/pathways")


@bp.get("/")
@roles_required(Role.COORDINATOR)
def index() -> ResponseReturnValue:
    session, user = dbs(), actor()
    search_text = request.args.get("q", "").strip()[:64]
    filters = replace(filters_from_request(), pseudonym=search_text or None)
    search_error = None
    try:
        page = overview.all_pathways(session, user, filters=filters, window=window_from_request())
    except InvalidInput as exc:
        refuse_bad_cursor(exc)
        search_error = service_message(exc)
        page = overview.Page(items=[], page=1, per_page=overview.PER_PAGE, total=0)
    return render_template(
        "pathways/index.html",
        page=page,
        filters=filters,
        search_text=search_text,
        search_error=search_error,
        today=today(),
        cohorts=reference_items(session, ReferenceKind.COHORT),
        stages=reference_items(session, ReferenceKind.STAGE),
        qpvs=reference_items(session, ReferenceKind.QPV),
        structures=list_structures(session, include_inactive=False),
    )


@bp.get("/<pseudonym>")
@roles_required(Role.COORDINATOR)
def detail(pseudonym: str) -> ResponseReturnValue:
    canonical = canonical_pseudonym(pseudonym)
    if canonical is not None and canonical != pseudonym:
        # A pseudonym typed in the address bar (``/pathways/p-hthe-x875``): its own address.
        return redirect(url_for("pathways.detail", pseudonym=canonical), 301)
    session, user = dbs(), actor()
    person = access.person_for_coordinator(session, user, pseudonym)
    timeline = pathways.timeline(session, person)
    overview.record_pathway_view(session, user, person)
    return render_template(
        "pathways/detail.html",
        person=person,
        timeline=timeline,
        texts={},
        employers={},
        words=timeline_words(),
        today=today(),
    )

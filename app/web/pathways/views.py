"""Coordinators: every pathway of the network, pseudonymous, never an identity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.domain.people import canonical_pseudonym
from app.domain.roles import Role
from app.models import ReferenceKind
from app.services import pathways
from app.services.errors import InvalidInput
from app.services.people import access, overview
from app.services.structures import list_structures, reference_items
from app.web.context import actor, dbs, roles_required, today
from app.web.forms_support import service_message
from app.web.listing import (
    Coded,
    filters_from_request,
    refuse_bad_cursor,
    unknown_filters,
    window_from_request,
)
from app.web.pathways.timeline_text import timeline_words

bp = Blueprint("pathways", __name__, url_prefix="/pathways")


@bp.get("/")
@roles_required(Role.COORDINATOR)
def index() -> ResponseReturnValue:
    session, user = dbs(), actor()
    search_text = request.args.get("q", "").strip()[:64]
    filters = replace(filters_from_request(), pseudonym=search_text or None)
    lists: dict[str, Sequence[Coded]] = {
        "cohort": reference_items(session, ReferenceKind.COHORT),
        "stage": reference_items(session, ReferenceKind.STAGE),
        "qpv": reference_items(session, ReferenceKind.QPV),
        "structure": list_structures(session, include_inactive=False),
    }
    search_error = filter_error = None
    page: overview.Page[overview.PathwayRow]
    page = overview.Page(items=[], page=1, per_page=overview.PER_PAGE, total=0)
    if unknown_filters(filters, lists):
        # A value not in its list (an address typed or kept from before) matches nobody,
        # while its list would show "All": said, not answered with an empty list.
        filter_error = _("A filter holds a value that is not in its list: choose it again.")
    else:
        try:
            page = overview.all_pathways(
                session, user, filters=filters, window=window_from_request()
            )
        except InvalidInput as exc:
            refuse_bad_cursor(exc)
            search_error = service_message(exc)
    page_html = render_template(
        "pathways/index.html",
        page=page,
        filters=filters,
        search_text=search_text,
        search_error=search_error,
        filter_error=filter_error,
        today=today(),
        cohorts=lists["cohort"],
        stages=lists["stage"],
        qpvs=lists["qpv"],
        structures=lists["structure"],
    )
    return page_html, 400 if filter_error else 200


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

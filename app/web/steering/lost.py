"""Steering the territory: the people lost from view, for coordinators.

The list is pseudonymous (a coordinator never sees who the people are): each row links to
the person's pathway (``/pathways/<pseudonym>``), with their last structure, the day of their
last event and why they count as lost (``app.services.statistics.lost``). Above it, the
protected count table by last structure and reason (``lost_from_view_counts``): exact by
default, the publication view on request (``?view=publication``), as the other steering
pages; its CSV export is in the publication view whatever the page showed, and audited.
"""

from __future__ import annotations

from flask import abort, current_app, g, render_template, request
from flask.typing import ResponseReturnValue

from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.models import ReferenceKind
from app.services.errors import ServiceError
from app.services.people.lost import lost_from_view
from app.services.people.overview import Filters
from app.services.statistics import exports
from app.services.statistics.dashboard import View
from app.services.statistics.lost import lost_from_view_counts
from app.services.statistics.scope import DashboardFilters, Scope, resolve_scope
from app.services.statistics.tables import CountTable
from app.services.structures import list_structures, reference_items
from app.web.auth.signing_in import reauth_required
from app.web.context import actor, dbs, reads, roles_required, today
from app.web.dashboard.views import csv_response, heading, number, shown_value, table_lines
from app.web.listing import filters_from_request, page_from_request
from app.web.steering.views import bp

COUNTS_TABLE = "lost-from-view"


def _scope(filters: Filters) -> Scope | None:
    """The population of the list's cohort and QPV filters, read today; None for an unknown
    code (the list then shows nobody; the counts are not shown)."""
    wanted = DashboardFilters(cohort=filters.cohort, qpv=filters.qpv)
    try:
        return resolve_scope(dbs(), wanted, today=today())
    except ServiceError:
        return None


def _counts(scope: Scope, k: int) -> CountTable:
    config = current_app.config
    return lost_from_view_counts(
        reads(),
        scope,
        k,
        int(config["LOST_FROM_VIEW_DAYS"]),
        today=today(),
        contact_days=int(config["LOST_FIRST_CONTACT_DAYS"]),
    )


@bp.get("/lost")
@roles_required(Role.COORDINATOR)
def lost() -> ResponseReturnValue:
    session, user = dbs(), actor()
    filters = filters_from_request()
    view = g.relais_view = (
        View.PUBLICATION if request.args.get("view") == View.PUBLICATION else View.EXACT
    )
    small = int(current_app.config["SMALL_COUNT_THRESHOLD"])
    scope = _scope(filters)
    counts = _counts(scope, small if view is View.PUBLICATION else 1) if scope else None
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
        view=view,
        k=small,
        counts=counts,
        name=heading,
        value=shown_value,
        number=number,
        export_args={k: v for k, v in (("cohort", filters.cohort), ("qpv", filters.qpv)) if v},
        days=current_app.config["LOST_FROM_VIEW_DAYS"],
        contact_days=current_app.config["LOST_FIRST_CONTACT_DAYS"],
        cohorts=reference_items(session, ReferenceKind.COHORT),
        qpvs=reference_items(session, ReferenceKind.QPV),
        structures=list_structures(session, include_inactive=False),
    )


@bp.get("/lost/export.csv")
@roles_required(Role.COORDINATOR)
@reauth_required()
def lost_export() -> ResponseReturnValue:
    scope = _scope(filters_from_request())
    if scope is None:
        abort(400)
    # Whatever the page showed, an export leaves the coordination: the publication view only.
    k = int(current_app.config["SMALL_COUNT_THRESHOLD"])
    counts = _counts(scope, k)
    exports.record_export(dbs(), actor(), AuditAction.STATISTICS_EXPORT, scope, COUNTS_TABLE)
    lines = list(table_lines(counts, k))
    return csv_response(f"{COUNTS_TABLE}-publication-{today()}", lines)

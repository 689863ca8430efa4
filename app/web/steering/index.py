"""The steering index (``/steering/``): the coordinators' steering pages, one line each on
what it answers, with a headline figure (``steering_index.steering_figures``, exact view)."""

from __future__ import annotations

from flask import current_app, render_template
from flask.typing import ResponseReturnValue

from app.domain.roles import Role
from app.services.statistics.report import last_full_quarter
from app.services.statistics.scope import DashboardFilters, resolve_scope
from app.services.statistics.steering_index import steering_figures
from app.web.context import dbs, reads, roles_required, today
from app.web.dashboard.views import number, quarter_name
from app.web.steering.views import bp


@bp.get("/")
@roles_required(Role.COORDINATOR)
def index() -> ResponseReturnValue:
    config = current_app.config
    scope = resolve_scope(dbs(), DashboardFilters(), today=today())
    figures = steering_figures(
        reads(),
        scope,
        1,  # the coordination's own page: exact figures
        today=today(),
        days=int(config["LOST_FROM_VIEW_DAYS"]),
        contact_days=int(config["LOST_FIRST_CONTACT_DAYS"]),
    )
    return render_template(
        "steering/index.html",
        figures=figures,
        number=number,
        days=config["LOST_FROM_VIEW_DAYS"],
        target=config["DELAY_TARGET_DAYS"],
        contract=config["DELAY_CONTRACT_DAYS"],
        report_quarter=last_full_quarter(today()),
        quarter_name=quarter_name,
    )

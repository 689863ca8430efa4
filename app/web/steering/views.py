"""Coordinators' steering page: orientation decisions by pathway type and delays against the
targets, in the exact view by default and the publication view on request
(``?view=publication``), as the dashboard; the CSV exports are in the publication view only,
each audited."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.services.statistics import exports
from app.services.statistics.dashboard import View
from app.services.statistics.decisions import DecisionTables, decisions_by_type
from app.services.statistics.delay_queries import Breakdown
from app.services.statistics.delays import TABLE_NAMES, DelayTargets, delay_targets
from app.services.statistics.scope import Scope
from app.services.statistics.tables import CountTable
from app.web.auth.signing_in import reauth_required
from app.web.context import actor, dbs, reads, roles_required, today
from app.web.dashboard import charts
from app.web.dashboard.filters import filters_form, filters_scope
from app.web.dashboard.views import (
    csv_response,
    days,
    heading,
    number,
    share,
    shown_value,
    table_lines,
)

bp = Blueprint("steering", __name__, url_prefix="/steering")

DECISION_TABLES = frozenset({"decisions-by-type", "decisions-by-quarter", "decision-criteria"})


def _figures(scope: Scope, k: int) -> tuple[DecisionTables, DelayTargets]:
    config = current_app.config
    return decisions_by_type(reads(), scope, k), delay_targets(
        reads(),
        scope,
        k,
        int(config["DELAY_TARGET_DAYS"]),
        int(config["DELAY_CONTRACT_DAYS"]),
        today=today(),
    )


class _Board:
    """What the dashboard's chart macros read of the page: the threshold and the view."""

    def __init__(self, k: int, view: View) -> None:
        self.k, self.view = k, view


@bp.get("/delays")
@roles_required(Role.COORDINATOR)
def delays() -> ResponseReturnValue:
    form = filters_form()
    scope = filters_scope(form)
    view = g.relais_view = (
        View.PUBLICATION if request.args.get("view") == View.PUBLICATION else View.EXACT
    )
    small = int(current_app.config["SMALL_COUNT_THRESHOLD"])
    k = small if view is View.PUBLICATION else 1
    if scope is None:
        page = render_template("steering/delays.html", form=form, figures=None, view=view)
        return page, 400
    decisions, targets = _figures(scope, k)
    form.start.data, form.end.data = scope.start, scope.end
    return render_template(
        "steering/delays.html",
        form=form,
        figures=True,
        view=view,
        board=_Board(k, view),
        decisions=decisions,
        targets=targets,
        decision_chart=charts.stacked_chart(decisions.by_quarter, heading),
        leg_charts={
            leg.leg: charts.stacked_chart(leg.tables[Breakdown.QUARTER], heading)
            for leg in targets.legs
        },
        name=heading,
        number=number,
        value=shown_value,
        days=days,
        share=share,
        export_args=scope.codes(),
        breakdown_names={
            Breakdown.STRUCTURE: _("Structure"),
            Breakdown.COHORT: _("Cohort"),
            Breakdown.QPV: _("Neighbourhood (QPV)"),
            Breakdown.QUARTER: _("Quarter"),
        },
    )


@bp.get("/delays/export/<table>.csv")
@roles_required(Role.COORDINATOR)
@reauth_required()
def export_delays(table: str) -> ResponseReturnValue:
    if table not in TABLE_NAMES | DECISION_TABLES:
        abort(404)
    form = filters_form()
    scope = filters_scope(form)
    if scope is None:
        abort(400)
    # Whatever the page showed, an export leaves the coordination: the publication view only.
    k = int(current_app.config["SMALL_COUNT_THRESHOLD"])
    decisions, targets = _figures(scope, k)
    tables: dict[str, CountTable] = {**decisions.tables(), **targets.tables()}
    exports.record_export(dbs(), actor(), AuditAction.STATISTICS_EXPORT, scope, table)
    lines = list(table_lines(tables[table], k))
    return csv_response(f"{table}-publication-{scope.start}-{scope.end}", lines)

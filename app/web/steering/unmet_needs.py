"""Unmet needs for the coordinators (``/steering/unmet-needs``): by barrier category ×
quarter, × QPV, × source, and by public, with the dashboard's filters.

Exact figures by default, the publication view on request (``?view=publication``); the CSV
exports are in the publication view whatever the page showed, and audited
(``statistics.exports``).
"""

from __future__ import annotations

from flask import abort, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.services.statistics import exports
from app.services.statistics.dashboard import View
from app.services.statistics.unmet_needs import TABLE_NAMES, UnmetNeeds, unmet_needs
from app.web.auth.signing_in import reauth_required
from app.web.context import actor, dbs, reads, roles_required
from app.web.dashboard import charts
from app.web.dashboard.filters import filters_form, filters_scope
from app.web.dashboard.views import csv_response, heading, number, shown_value, table_lines
from app.web.steering.views import bp


def _threshold() -> int:
    return int(current_app.config["SMALL_COUNT_THRESHOLD"])


@bp.get("/unmet-needs")
@roles_required(Role.COORDINATOR)
def unmet_needs_page() -> ResponseReturnValue:
    form = filters_form(
        cohort=_("Public (cohort)"),
        structure=_("Structure (referring, or where the need went unmet)"),
    )
    scope = filters_scope(form)
    view = g.relais_view = (
        View.PUBLICATION if request.args.get("view") == View.PUBLICATION else View.EXACT
    )
    k = _threshold()
    if scope is None:
        page = render_template(
            "steering/unmet_needs.html", form=form, needs=None, view=view, board={"k": k}
        )
        return page, 400
    needs = unmet_needs(reads(), scope, k if view is View.PUBLICATION else 1)
    form.start.data = form.start.data or scope.start
    form.end.data = form.end.data or scope.end
    return render_template(
        "steering/unmet_needs.html",
        form=form,
        needs=needs,
        view=view,
        board={"k": k, "view": view.value},  # what the dashboard's chart macros read
        name=heading,
        value=shown_value,
        number=number,
        source_chart=charts.stacked_chart(needs.by_source, heading),
        quarter_chart=charts.stacked_chart(needs.by_quarter, heading),
        export_args=scope.codes(),
        name_of_table={
            "unmet-needs-quarters": _("By barrier category and quarter"),
            "unmet-needs-qpv": _("By barrier category and neighbourhood (QPV)"),
            "unmet-needs-sources": _("By barrier category and source"),
            "unmet-needs-publics": _("By public"),
        },
    )


@bp.get("/unmet-needs/export/<table>.csv")
@roles_required(Role.COORDINATOR)
@reauth_required()
def unmet_needs_export(table: str) -> ResponseReturnValue:
    if table not in TABLE_NAMES:
        abort(404)
    form = filters_form(
        cohort=_("Public (cohort)"),
        structure=_("Structure (referring, or where the need went unmet)"),
    )
    scope = filters_scope(form)
    if scope is None:
        page = render_template(
            "steering/unmet_needs.html",
            form=form,
            needs=None,
            view=View.PUBLICATION,
            board={"k": _threshold()},
        )
        return page, 400
    # Whatever the page showed, an export leaves the coordination: the publication view only.
    needs: UnmetNeeds = unmet_needs(reads(), scope, _threshold())
    exports.record_export(dbs(), actor(), AuditAction.STATISTICS_EXPORT, scope, table)
    lines = list(table_lines(needs.tables()[table], needs.k))
    return csv_response(f"{table}-publication-{scope.start}-{scope.end}", lines)

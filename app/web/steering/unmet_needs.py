"""Unmet needs for the coordinators (``/steering/unmet-needs``): by barrier category ×
quarter, × QPV, × source, and by public, with the dashboard's filters.

Exact figures by default, the publication view on request (``?view=publication``); the CSV
exports are in the publication view whatever the page showed, and audited
(``statistics.exports``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask import Response, abort, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from wtforms import SelectChoice

from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.models import ReferenceKind
from app.services.errors import ServiceError
from app.services.safe_csv import Cell, csv_chunks
from app.services.statistics import exports
from app.services.statistics.dashboard import View
from app.services.statistics.scope import DashboardFilters, Scope, resolve_scope
from app.services.statistics.unmet_needs import TABLE_NAMES, UnmetNeeds, unmet_needs
from app.services.structures import list_structures, reference_items
from app.web.auth.signing_in import reauth_required
from app.web.context import actor, dbs, label, roles_required, today
from app.web.dashboard import charts
from app.web.dashboard.views import FiltersForm, heading, number, shown_value, table_lines
from app.web.forms_support import attach_error
from app.web.steering.views import bp


def _form() -> FiltersForm:
    session = dbs()
    form = FiltersForm(formdata=request.args)
    form.start.label.text = _("Period from")
    form.end.label.text = _("Period to")
    form.cohort.label.text = _("Public (cohort)")
    form.qpv.label.text = _("Neighbourhood (QPV)")
    form.structure.label.text = _("Structure (referring, or where the need went unmet)")
    everyone = SelectChoice("", _("All"))
    form.cohort.choices = [everyone] + [
        SelectChoice(i.code, label(i)) for i in reference_items(session, ReferenceKind.COHORT)
    ]
    form.qpv.choices = [everyone] + [
        SelectChoice(i.code, label(i)) for i in reference_items(session, ReferenceKind.QPV)
    ]
    form.structure.choices = [everyone] + [
        SelectChoice(s.code, s.name) for s in list_structures(session, include_inactive=True)
    ]
    return form


def _scope(form: FiltersForm) -> Scope | None:
    """The scope the form asks for, or None with the errors attached to the form."""
    if not form.validate():
        return None
    filters = DashboardFilters(
        start=form.start.data,
        end=form.end.data,
        cohort=form.cohort.data or None,
        qpv=form.qpv.data or None,
        structure=form.structure.data or None,
    )
    try:
        return resolve_scope(dbs(), filters, today=today())
    except ServiceError as exc:
        attach_error(form, exc)
        return None


def _threshold() -> int:
    return int(current_app.config["SMALL_COUNT_THRESHOLD"])


@bp.get("/unmet-needs")
@roles_required(Role.COORDINATOR)
def unmet_needs_page() -> ResponseReturnValue:
    form = _form()
    scope = _scope(form)
    view = g.relais_view = (
        View.PUBLICATION if request.args.get("view") == View.PUBLICATION else View.EXACT
    )
    k = _threshold()
    if scope is None:
        page = render_template(
            "steering/unmet_needs.html", form=form, needs=None, view=view, board={"k": k}
        )
        return page, 400
    needs = unmet_needs(dbs(), scope, k if view is View.PUBLICATION else 1)
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
    form = _form()
    scope = _scope(form)
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
    needs: UnmetNeeds = unmet_needs(dbs(), scope, _threshold())
    exports.record_export(dbs(), actor(), AuditAction.STATISTICS_EXPORT, scope, table)
    lines = list(table_lines(needs.tables()[table], needs.k))
    return _csv_response(f"{table}-publication-{scope.start}-{scope.end}", lines)


def _csv_response(name: str, lines: Iterable[Sequence[Cell]]) -> Response:
    """A CSV as French spreadsheets read it (as the dashboard's: BOM, ``;``)."""
    chunks = csv_chunks(lines, delimiter=";", lineterminator="\r\n", prefix="\ufeff")
    response = Response("".join(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="relais-{name}.csv"'
    return response

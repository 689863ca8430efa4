"""A structure's own figures against the network's (``/structures/<code>/figures``), for its
caseworkers - and for the coordinators, who may open any structure's (they read the whole
network on the dashboard already). Always in the publication view: these figures leave the
coordination. Its CSV export is in the same view, and audited.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, abort, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal
from flask_babel import gettext as _
from wtforms import DateField
from wtforms.validators import Optional

from app.domain.roles import Role
from app.models import Structure
from app.services.errors import ServiceError
from app.services.safe_csv import Cell
from app.services.statistics import exports
from app.services.statistics.dashboard import View
from app.services.statistics.partner import PartnerFigures, partner_figures
from app.services.statistics.partner_queries import ANSWER_DAYS
from app.services.statistics.scope import DashboardFilters, Scope, resolve_scope
from app.services.structures import get_structure
from app.web.auth.signing_in import reauth_required
from app.web.context import actor, dbs, label, reads, today
from app.web.dashboard import partner_chart
from app.web.dashboard.views import csv_response, days, share, shown_value
from app.web.form_base import RelaisForm
from app.web.forms_support import attach_error

bp = Blueprint("figures", __name__)


class PeriodForm(RelaisForm):
    """The period of the figures, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    start = DateField("Period from", validators=[Optional()])
    end = DateField("Period to", validators=[Optional()])


def _form() -> PeriodForm:
    form = PeriodForm(formdata=request.args)
    form.start.label.text = _("Period from")
    form.end.label.text = _("Period to")
    return form


def _scope(form: PeriodForm) -> Scope | None:
    if not form.validate():
        return None
    filters = DashboardFilters(start=form.start.data, end=form.end.data)
    try:
        return resolve_scope(dbs(), filters, today=today())
    except ServiceError as exc:
        attach_error(form, exc)
        return None


def _structure(code: str) -> Structure:
    """The structure of ``code``, if the signed-in account may read its figures: one of its
    caseworkers, or a coordinator (404 for anyone else)."""
    structure = get_structure(dbs(), code)
    user = actor()
    if user.role is Role.COORDINATOR:
        return structure
    if user.role is Role.CASEWORKER and user.structure_id == structure.id:
        return structure
    abort(404)


def _figures(structure: Structure, scope: Scope) -> PartnerFigures:
    # The publication view's threshold, always: this page and its export leave the coordination.
    k = int(current_app.config["SMALL_COUNT_THRESHOLD"])
    return partner_figures(reads(), structure, scope, k=k, today=today())


@bp.get("/structures/<code>/figures")
def index(code: str) -> ResponseReturnValue:
    structure = _structure(code)
    g.relais_view = View.PUBLICATION  # what a missing median or share reads: "n < k"
    form = _form()
    scope = _scope(form)
    if scope is None:
        page = render_template(
            "dashboard/partner.html", structure=structure, form=form, figures=None
        )
        return page, 400
    figures = _figures(structure, scope)
    form.start.data, form.end.data = scope.start, scope.end
    return render_template(
        "dashboard/partner.html",
        structure=structure,
        form=form,
        figures=figures,
        rows=indicator_rows(figures),
        chart=partner_chart.share_chart(figures, structure.name, _("Network")),
        value=shown_value,
        days=days,
        share=share,
        answer_days=ANSWER_DAYS,
        export_args=scope.codes(),
    )


@bp.get("/structures/<code>/figures.csv")
@reauth_required()
def export(code: str) -> ResponseReturnValue:
    structure = _structure(code)
    form = _form()
    scope = _scope(form)
    if scope is None:
        page = render_template(
            "dashboard/partner.html", structure=structure, form=form, figures=None
        )
        return page, 400
    figures = _figures(structure, scope)
    exports.record_partner_export(dbs(), actor(), structure, scope)
    name = f"figures-{structure.code}-publication-{scope.start}-{scope.end}"
    return csv_response(name, list(csv_lines(figures)))


# --- the indicators, for the page and the export -----------------------------------------------

COUNT, DAYS, SHARE = "count", "days", "share"

# (code, kind, attribute of ``Figures``): the lines of the comparison, in order.
INDICATORS = (
    ("received", COUNT, "received"),
    ("accepted_share", SHARE, "accepted_share"),
    ("to_answer", DAYS, "to_answer"),
    ("to_first_contact", DAYS, "to_first_contact"),
    ("loop_closure", SHARE, "loop_closure"),
    ("answered_in_time", SHARE, "answered_in_time"),
    ("sent", COUNT, "sent"),
    ("sent_accepted_share", SHARE, "sent_accepted_share"),
    ("sent_declined", COUNT, "sent_declined"),
    ("followed", COUNT, "followed"),
    ("reached_training_or_employment", SHARE, "reached_training_or_employment"),
    ("reached_employment", SHARE, "reached_employment"),
)


def indicator_label(code: str) -> str:
    labels = {
        "received": _("Hand-offs received"),
        "accepted_share": _("Accepted, of the hand-offs answered"),
        "to_answer": _("Median time to answer"),
        "to_first_contact": _("Median time to first contact"),
        "loop_closure": _("Loop closure: outcome recorded, of the hand-offs accepted"),
        "answered_in_time": _(
            "Answered within %(days)d days, of the hand-offs due", days=ANSWER_DAYS
        ),
        "sent": _("Hand-offs sent"),
        "sent_accepted_share": _("Accepted by the partner, of the hand-offs answered"),
        "sent_declined": _("Hand-offs sent and declined"),
        "followed": _("People followed during the period"),
        "reached_training_or_employment": _("Started a training or a job in the period"),
        "reached_employment": _("Started a job in the period"),
    }
    return str(labels[code])


SECTIONS = {"received": "receiver", "sent": "sender", "followed": "people"}


def indicator_rows(figures: PartnerFigures) -> list[dict[str, object]]:
    """One line per indicator: its code, section, label, kind and the two values."""
    rows = []
    section = "receiver"
    for code, kind, attribute in INDICATORS:
        section = SECTIONS.get(code, section)
        rows.append(
            {
                "code": code,
                "section": section,
                "label": indicator_label(code),
                "kind": kind,
                "mine": getattr(figures.mine, attribute),
                "network": getattr(figures.network, attribute),
            }
        )
    return rows


def _csv_value(kind: str, value: float | None) -> Cell:
    """A count as a number; a median (days) or a share (per cent) as the language writes a
    decimal number; a hidden value, or one with too few behind it, as an empty cell."""
    if value is None:
        return None
    if kind == COUNT:
        return int(value)
    if kind == SHARE:
        value = 100 * value
    return str(format_decimal(round(value, 1), format="0.#"))


def csv_lines(figures: PartnerFigures) -> Iterator[list[Cell]]:
    """The page as CSV lines: an indicator per line (code, label, this structure, the
    network), the decline reasons, then the line saying the view."""
    yield ["code", _("Indicator"), figures.structure.name, _("Network")]
    for code, kind, attribute in INDICATORS:
        text = indicator_label(code)
        if kind == SHARE:
            text = f"{text} (%)"
        elif kind == DAYS:
            text = _("%(indicator)s (days)", indicator=text)
        yield [
            code,
            text,
            _csv_value(kind, getattr(figures.mine, attribute)),
            _csv_value(kind, getattr(figures.network, attribute)),
        ]
    for line in figures.reasons:
        yield [
            f"declined:{line.reason.code}",
            _("Declined: %(reason)s", reason=label(line.reason)),
            line.mine,
            line.network,
        ]
    yield [
        "view",
        _(
            "Publication view: counts from 1 to %(last)d are hidden (empty cells), and a "
            "second value wherever a hidden one could be worked out from the totals; medians "
            "and shares with fewer than %(k)d hand-offs or people behind them are left empty.",
            last=figures.k - 1,
            k=figures.k,
        ),
    ]

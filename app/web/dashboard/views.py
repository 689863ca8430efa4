"""Coordinators' dashboard: network indicators, charts and their CSV exports.

The page shows the exact figures by default (the coordination's own reading) and the
publication view on request (``?view=publication``); everything that leaves the coordination -
the CSV exports of the tables, the printed page - is in the publication view only. The pathway
export is pseudonymous, row by row, and audited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import cast

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    render_template,
    request,
    stream_with_context,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from markupsafe import Markup, escape

from app.domain.audit import AuditAction
from app.domain.periods import Quarter
from app.domain.roles import Role
from app.models import ReferenceItem, Structure
from app.services.directory.network_events import EventMark, events_by_quarter
from app.services.safe_csv import Cell, csv_chunks
from app.services.statistics import exports, pathway_export
from app.services.statistics.dashboard import TABLE_NAMES, Dashboard, View, dashboard
from app.services.statistics.headings import Label, Metric
from app.services.statistics.overdue import LIMIT as OVERDUE_LIMIT
from app.services.statistics.tables import CountList, CountTable
from app.services.statistics.trend_queries import TrendSeries
from app.web.auth.signing_in import reauth_required
from app.web.context import actor, dbs, label, reads, roles_required, today
from app.web.dashboard import charts, flow_charts
from app.web.dashboard.filters import filters_form, filters_scope
from app.web.dashboard.network_chart import network_heatmap
from app.web.dashboard.trend_charts import TrendChart, trend_chart
from app.web.labels import enum_label

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


def _threshold() -> int:
    return int(current_app.config["SMALL_COUNT_THRESHOLD"])


def _view() -> View:
    """The view the page asks for: exact unless ``?view=publication``."""
    return View.PUBLICATION if request.args.get("view") == View.PUBLICATION else View.EXACT


def _lost_after() -> int:  # days without an event: lost from view (the setting)
    return int(current_app.config["LOST_FROM_VIEW_DAYS"])


@bp.get("/")
@roles_required(Role.COORDINATOR)
def index() -> ResponseReturnValue:
    form = filters_form()
    scope = filters_scope(form)
    view = g.relais_view = _view()
    if scope is None:
        return render_template("dashboard/index.html", form=form, board=None, view=view), 400
    board = dashboard(
        reads(),
        scope,
        k=_threshold(),
        view=view,
        today=today(),
        now=datetime.now(UTC),
        overdue_days=int(current_app.config["HANDOFF_OVERDUE_DAYS"]),
        lost_after_days=_lost_after(),
    )
    if form.start.data is None:
        form.start.data = scope.start
    if form.end.data is None:
        form.end.data = scope.end
    events = [
        event
        for found in events_by_quarter(reads(), start=scope.start, end=scope.end)
        for event in found.events
    ]
    met = {i for event in events for i in event.structure_ids}
    return render_template(
        "dashboard/index.html",
        form=form,
        board=board,
        view=view,
        name=heading,
        short=short_heading,
        funnel_chart=charts.bar_chart(board.funnel, heading),
        chain_chart=charts.stacked_chart(board.chains, heading),
        barrier_chart=charts.stacked_chart(board.barriers_by_category, heading),
        acting_chart=charts.stacked_chart(board.barriers_by_structure, heading),
        receiver_chart=charts.stacked_chart(board.handoffs_by_receiver, heading),
        quarter_chart=charts.stacked_chart(board.quarters, heading),
        reason_chart=charts.bar_chart(board.decline_reasons, heading),
        network_map=network_heatmap(board.network, met),
        trend_chart_geometry=trends_chart(board, events),
        metric=Metric,
        overdue_limit=OVERDUE_LIMIT,
        days=days,
        share=share,
        number=number,
        value=shown_value,
        export_args=scope.codes(),
        flow_chart=flow_charts.sankey(board.stage_flows, heading),
        outcome_chart=flow_charts.outcome_chart(
            board.cohort_outcomes,
            (_("Entrants who reached training"), _("Entrants who reached employment")),
            heading,
        ),
        lost_after=_lost_after(),
    )


def trends_chart(board: Dashboard, events: list[EventMark]) -> TrendChart:
    titles = {
        "counts": _("People and hand-offs"),
        "delays": _("Median delays (days)"),
        "share": _("Hand-offs answered within 10 days"),
    }
    names = {
        TrendSeries.ENTRIES.value: enum_label(TrendSeries.ENTRIES),
        TrendSeries.TRAINING.value: enum_label(TrendSeries.TRAINING),
        TrendSeries.EMPLOYMENT.value: enum_label(TrendSeries.EMPLOYMENT),
        "handoffs": _("Hand-offs sent"),
        "to_training": enum_label(Metric.TO_TRAINING),
        "to_employment": enum_label(Metric.TO_EMPLOYMENT),
        "to_answer": enum_label(Metric.TO_ANSWER),
        "within": _("Answered within 10 days"),
    }
    return trend_chart(board.trends, board.quarters, events, titles, names)


def quarter_name(quarter: Quarter | None) -> str:
    if quarter is None:
        return str(_("Whole period"))
    return str(_("Q%(number)d %(year)d", number=quarter.number, year=quarter.year))


def heading(item: Label) -> str:
    """What a row or column of a table is called, in the current language."""
    if isinstance(item, Structure):
        return item.name
    if isinstance(item, ReferenceItem):
        return label(item)
    if isinstance(item, Quarter):
        return quarter_name(item)
    if isinstance(item, int):
        return str(_("4 or more")) if item >= 4 else str(item)
    return enum_label(item)


def short_heading(item: Label) -> str:
    return item.code if isinstance(item, Structure) else heading(item)


def number(value: int) -> str:
    """A count with the thousands separator of the current language (6 742, 6,742).

    The page shows hundreds of counts: the separator is looked up once per request rather
    than formatting each count through Babel.
    """
    if "relais_group_symbol" not in g:
        g.relais_group_symbol = str(format_decimal(1000, format="#,##0"))[1:-3]
    separator: str = g.relais_group_symbol
    return f"{value:,}".replace(",", separator)


def shown_value(value: int | None, small: bool = True) -> Markup:
    """A published count, as table cells show it; a hidden one reads "< k" when it is a small
    count (1 to k-1) and "secret" when it is hidden so that no small count can be worked out
    from the totals (it may be large: "< k" would be false)."""
    if value is not None:
        return escape(number(value))
    if "relais_hidden_cells" not in g:
        k = _threshold()
        below = Markup('<span class="hidden-value" title="{}">{}</span>').format(
            _("From 1 to %(last)d: hidden to protect the people counted", last=k - 1),
            _("< %(k)d", k=k),
        )
        secret = Markup('<span class="hidden-value" title="{}">{}</span>').format(
            _("Hidden so that a count below %(k)d cannot be worked out from the totals", k=k),
            _("secret"),
        )
        g.relais_hidden_cells = (below, secret)
    cells: tuple[Markup, Markup] = g.relais_hidden_cells
    return cells[0] if small else cells[1]


def days(value: float | None) -> str:
    """A median, or why there is none: too few people behind it to publish it, or nobody."""
    if value is None:
        return _no_statistic()
    if "relais_days" not in g:  # looked up once per request: the trends show many medians
        pattern = str(_("%(days)s d", days="{}"))
        g.relais_days = (pattern, str(format_decimal(1.5, format="#,##0.#"))[1])
    pattern, point = cast(tuple[str, str], g.relais_days)
    rounded = round(value, 1)
    if rounded == int(rounded):
        return pattern.format(number(int(rounded)))
    whole, tenth = f"{rounded:.1f}".split(".")
    return pattern.format(f"{number(int(whole))}{point}{tenth}")


def share(value: float | None) -> str:
    """A share as a whole percentage in the current language (82 %, 82%). The pattern is
    looked up once per request: the network's heatmap shows hundreds of shares."""
    if value is None:
        return _no_statistic()
    if "relais_percent" not in g:
        g.relais_percent = str(format_percent(0.5, format="#,##0 %")).replace("50", "{}", 1)
    pattern: str = g.relais_percent
    return pattern.format(round(value * 100))


def _no_statistic() -> str:
    """What a median or a share without a value reads: in the publication view, fewer than k
    people or hand-offs are behind it (or none); in the exact view, none at all."""
    if g.get("relais_view") is View.EXACT:
        return "—"
    return str(_("n < %(k)d", k=_threshold()))


# --- CSV exports -----------------------------------------------------------------------------


def csv_response(name: str, lines: Iterable[Sequence[Cell]]) -> Response:
    """A streamed CSV as French spreadsheets read it: UTF-8 with a BOM, ``;`` separators,
    formula-like text neutralised (``app.services.safe_csv``)."""
    chunks = csv_chunks(lines, delimiter=";", lineterminator="\r\n", prefix="\ufeff")
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="relais-{name}.csv"'
    return response


def table_lines(
    table: CountTable | CountList, k: int, not_yet: NotYet | None = None
) -> Iterator[list[Cell]]:
    """The lines of a table's CSV in the publication view: code and label of each row, its
    cells, its total (counts as numbers; a hidden value, ``None``, as an empty cell; a cell
    whose horizon has not elapsed, ``not_yet``, as "not yet"), then a last line saying which
    view it is and the threshold."""
    yield from _table_body(table, not_yet)
    yield [
        "view",
        _(
            "Publication view: counts from 1 to %(last)d are hidden (empty cells), and a "
            "second value wherever a hidden one could be worked out from the totals.",
            last=k - 1,
        ),
    ]


NotYet = Callable[[Label, Label], bool]


def _table_body(table: CountTable | CountList, not_yet: NotYet | None) -> Iterator[list[Cell]]:
    if isinstance(table, CountList):
        yield ["code", _("Label"), _("People")]
        for row, value in zip(table.rows, table.values, strict=True):
            yield [_code(row), heading(row), value]
        return
    yield ["code", _("Label"), *(heading(c) for c in table.columns), _("Total")]
    published = table.published
    for i, row in enumerate(table.rows):
        cells: list[Cell] = list(published.cells[i])
        if not_yet is not None:
            cells = [
                _("not yet") if not_yet(row, c) else v
                for c, v in zip(table.columns, cells, strict=True)
            ]
        yield [_code(row), heading(row), *cells, published.row_totals[i]]
    totals = list(published.column_totals)
    yield ["total", _("Total"), *totals, published.total]


def _code(item: Label) -> str:
    if isinstance(item, Structure | ReferenceItem):
        return item.code
    if isinstance(item, Quarter):
        return str(item)
    if isinstance(item, int):
        return str(item)
    return item.value


@bp.get("/export/<name>.csv")
@roles_required(Role.COORDINATOR)
@reauth_required()
def export_table(name: str) -> ResponseReturnValue:
    if name not in TABLE_NAMES:
        abort(404)
    form = filters_form()
    scope = filters_scope(form)
    if scope is None:
        return render_template("dashboard/index.html", form=form, board=None), 400
    # Whatever the page showed, an export leaves the coordination: the publication view only.
    k, lost_after = _threshold(), _lost_after()
    board = dashboard(
        reads(), scope, k=k, view=View.PUBLICATION, today=today(), lost_after_days=lost_after
    )
    table = board.tables()[name]
    exports.record_export(dbs(), actor(), AuditAction.STATISTICS_EXPORT, scope, name)
    not_yet = board.cohort_outcomes.not_yet if name.startswith("cohort-outcomes") else None
    lines = list(table_lines(table, board.k, not_yet))
    return csv_response(f"{name}-publication-{scope.start}-{scope.end}", lines)


@bp.get("/export/pathways.csv")
@roles_required(Role.COORDINATOR)
@reauth_required()
def export_pathways() -> ResponseReturnValue:
    form = filters_form()
    scope = filters_scope(form)
    if scope is None:
        return render_template("dashboard/index.html", form=form, board=None), 400
    session, user, reading = dbs(), actor(), reads()
    # Audited before the first line leaves: the request commits before the body is streamed.
    pathway_export.record_export(session, user, scope)
    day: date = today()

    def lines() -> Iterator[Sequence[Cell]]:
        yield list(pathway_export.COLUMNS)
        for line in pathway_export.pathway_lines(reading, scope, today=day):
            yield line.as_row()

    return csv_response(f"pathways-{scope.start}-{scope.end}", lines())

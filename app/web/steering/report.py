"""The CDE report (``/steering/report``): one quarter of the territory in the publication view
only, printable on A4 (the page is the print), and its CSV bundle
(``/steering/report/<quarter>.zip``). Each generation (page or bundle) is audited."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version

from flask import Response, abort, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Optional

from app.domain.audit import AuditAction
from app.domain.periods import Quarter
from app.domain.roles import Role
from app.services.errors import N_, InvalidInput, ServiceError
from app.services.safe_csv import Cell, csv_chunks
from app.services.statistics import exports
from app.services.statistics.dashboard import View
from app.services.statistics.delays import DelayLine
from app.services.statistics.report import (
    CdeReport,
    Settings,
    cde_report,
    last_full_quarter,
    parse_quarter,
)
from app.web.auth.signing_in import reauth_required
from app.web.context import actor, dbs, reads, roles_required, today
from app.web.dashboard import charts
from app.web.dashboard.views import (
    days,
    heading,
    number,
    quarter_name,
    share,
    shown_value,
    table_lines,
)
from app.web.form_base import RelaisForm
from app.web.forms_support import attach_error
from app.web.steering.report_text import method_lines, table_titles
from app.web.steering.views import bp

REPORT_TABLE = "cde-report"
BUNDLE_TABLE = "cde-report-bundle"


class QuarterForm(RelaisForm):
    """The quarter of the report, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    quarter = StringField(_l("Quarter"), validators=[Optional()])


def _settings() -> Settings:
    config = current_app.config
    return Settings(
        k=int(config["SMALL_COUNT_THRESHOLD"]),
        target=int(config["DELAY_TARGET_DAYS"]),
        contract=int(config["DELAY_CONTRACT_DAYS"]),
        lost_days=int(config["LOST_FROM_VIEW_DAYS"]),
        contact_days=int(config["LOST_FIRST_CONTACT_DAYS"]),
    )


def _version() -> str:
    try:
        return version("relais")
    except PackageNotFoundError:  # pragma: no cover - run from a checkout not installed
        return "dev"


@bp.get("/report")
@roles_required(Role.COORDINATOR)
def report() -> ResponseReturnValue:
    form = QuarterForm(formdata=request.args)
    g.relais_view = View.PUBLICATION
    quarter = last_full_quarter(today())
    if form.quarter.data:
        try:
            quarter = _reported(parse_quarter(form.quarter.data))
        except ServiceError as exc:
            attach_error(form, exc)
            return render_template("steering/report.html", form=form, report=None), 400
    found = cde_report(reads(), quarter, _settings(), today=today())
    # The page is the print: each generation is an audit event, before anything is shown.
    exports.record_export(dbs(), actor(), AuditAction.STATISTICS_EXPORT, found.scope, REPORT_TABLE)
    form.quarter.data = str(quarter)
    return render_template(
        "steering/report.html",
        form=form,
        report=found,
        quarter_label=quarter_name(quarter),
        board={"k": found.k, "view": View.PUBLICATION.value},
        name=heading,
        value=shown_value,
        number=number,
        days=days,
        share=share,
        titles=table_titles(),
        method=method_lines(found),
        generated=datetime.now(UTC),
        version=_version(),
        previous=_shift(quarter, -1),
        following=_shift(quarter, 1) if quarter.ends_on < today() else None,
        in_progress=quarter.ends_on >= today(),
        today=today(),
        decision_chart=charts.stacked_chart(found.decisions.criteria, heading),
        unmet_chart=charts.stacked_chart(found.unmet.by_source, heading),
        outcome_chart=charts.stacked_chart(found.outcomes, heading),
    )


@bp.get("/report/<quarter>.zip")
@roles_required(Role.COORDINATOR)
@reauth_required()
def report_bundle(quarter: str) -> ResponseReturnValue:
    try:
        asked = _reported(parse_quarter(quarter))
    except ServiceError:
        abort(400)
    found = cde_report(reads(), asked, _settings(), today=today())
    exports.record_export(dbs(), actor(), AuditAction.STATISTICS_EXPORT, found.scope, BUNDLE_TABLE)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, table in found.tables().items():
            bundle.writestr(f"{name}.csv", _csv(table_lines(table, found.k)))
        bundle.writestr("delays-by-structure.csv", _csv(_delay_csv(found)))
        bundle.writestr("network-events.csv", _csv(_event_csv(found)))
        readme = "\r\n".join(line for _title, lines in method_lines(found) for line in lines)
        bundle.writestr("README.txt", "\ufeff" + readme + "\r\n")
    response = Response(buffer.getvalue(), mimetype="application/zip")
    filename = f"relais-cde-report-publication-{asked}.zip"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _reported(quarter: Quarter) -> Quarter:
    """``quarter``, if it has begun: a quarter to come has nothing to report (its report read
    today's people lost from view as its own)."""
    if quarter.starts_on > today():
        raise InvalidInput(
            N_("This quarter has not begun: choose one up to the current quarter."),
            field="quarter",
        )
    return quarter


def _shift(quarter: Quarter, step: int) -> str:
    index = quarter.year * 4 + quarter.number - 1 + step
    return str(Quarter(index // 4, index % 4 + 1))


def _csv(lines: Iterable[Sequence[Cell]]) -> str:
    return "".join(csv_chunks(lines, delimiter=";", lineterminator="\r\n", prefix="\ufeff"))


def _percent(value: float | None) -> Cell:
    return None if value is None else round(value * 100)


def _delay_row(leg: str, structure: str, name: str, line: DelayLine) -> list[Cell]:
    # In the reader's locale, as the structure figures export writes it ("3,5" in French: a
    # "3.5" in a ";" file is a date or a text to a French spreadsheet).
    median = None if line.median is None else str(format_decimal(round(line.median, 1), "0.#"))
    return [
        leg,
        structure,
        name,
        _percent(line.within_target),
        _percent(line.within_contract),
        median,
    ]


def _delay_csv(report: CdeReport) -> Iterable[list[Cell]]:
    settings = report.settings
    yield [
        "leg",
        "structure",
        "label",
        f"within_{settings.target}_days_percent",
        f"within_{settings.contract}_days_percent",
        "median_days",
    ]
    for leg in report.delays:
        for line in leg.lines:
            code = getattr(line.heading, "code", str(line.heading))
            yield _delay_row(leg.leg.value, code, heading(line.heading), line)
        yield _delay_row(leg.leg.value, "all", _("All structures"), leg.overall)
    yield [
        "view",
        _(
            "Publication view: a share or a median is given only when at least %(k)d people "
            "or hand-offs are behind it (empty cells otherwise).",
            k=report.k,
        ),
    ]


def _event_csv(report: CdeReport) -> Iterable[list[Cell]]:
    yield ["date", "theme", "structures_present"]
    for event in report.events:
        yield [event.held_on.isoformat(), event.theme, len(event.structure_ids)]
    yield ["view", _("Publication view: network events name structures, never a person.")]

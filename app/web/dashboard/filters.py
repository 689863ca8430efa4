"""The filters of the coordinators' statistics pages (the dashboard, the steering pages): a
period, a public, a neighbourhood and a structure, read from the query string, checked and
resolved into a ``Scope``."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from wtforms import DateField, SelectChoice, SelectField
from wtforms.validators import Optional

from app.models import ReferenceKind
from app.services.errors import ServiceError
from app.services.statistics.scope import DashboardFilters, Scope, resolve_scope
from app.services.structures import list_structures, reference_items
from app.web.context import dbs, label, today
from app.web.form_base import RelaisForm
from app.web.forms_support import attach_error


class FiltersForm(RelaisForm):
    """The filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])
    cohort = SelectField("Cohort", validators=[Optional()])
    qpv = SelectField("Neighbourhood (QPV)", validators=[Optional()])
    structure = SelectField("Pathways through", validators=[Optional()])


def filters_form(*, cohort: str | None = None, structure: str | None = None) -> FiltersForm:
    """The form with the request's values and every choice; ``cohort`` and ``structure``
    name those filters when a page reads them its own way."""
    session = dbs()
    form = FiltersForm(formdata=request.args)
    form.start.label.text = _("Period from")
    form.end.label.text = _("Period to")
    form.cohort.label.text = cohort or _("Cohort")
    form.qpv.label.text = _("Neighbourhood (QPV)")
    form.structure.label.text = structure or _("Pathways through")
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


def filters_scope(form: FiltersForm) -> Scope | None:
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

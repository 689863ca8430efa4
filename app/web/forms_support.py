"""Glue between forms and services: choices from reference lists, errors onto fields."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from enum import Enum
from functools import wraps
from typing import TYPE_CHECKING, ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import flash, request
from flask_babel import format_date
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import SelectChoice

from app.extensions import csrf
from app.models import ReferenceKind
from app.services.errors import ServiceError
from app.services.people.identity import Identity, identity_problems
from app.services.structures import reference_items
from app.web.context import label
from app.web.labels import enum_label

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


P = ParamSpec("P")
R = TypeVar("R")


def _from_relais() -> bool:
    """The request was sent by a page of Relais: its Origin (or, without one, its Referer) is
    this host. Browsers set Origin on every form POST; another site cannot forge it."""
    sender = request.headers.get("Origin") or request.headers.get("Referer") or ""
    return bool(sender) and urlsplit(sender).netloc == request.host


def keeps_typed_values(view: Callable[P, R]) -> Callable[P, R]:
    """Place right under the route: an expired form comes back with what was typed.

    The view's form checks the CSRF token itself (``validate()`` refuses an expired or missing
    one, and the page shows the form again, nothing saved, with a fresh token). That is only
    for a POST sent by a page of Relais: any other is checked before the view as everywhere
    else, and refused with the error page, so that no other site can fill a form in Relais.
    """

    @wraps(view)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        if request.method == "POST" and not _from_relais():
            csrf.protect()
        return view(*args, **kwargs)

    csrf.exempt(checked)
    return checked


def choices(session: Session, kind: ReferenceKind) -> list[SelectChoice]:
    """(code, label) pairs of a reference list, in its order, for a select or checkboxes."""
    return [SelectChoice(item.code, label(item)) for item in reference_items(session, kind)]


def enum_choices(enum: type[Enum], members: Sequence[Enum] | None = None) -> list[SelectChoice]:
    return [
        SelectChoice(m.value, enum_label(m))
        for m in (members if members is not None else list(enum))
    ]


def service_message(exc: ServiceError) -> str:
    """A service error in the current language, its parameters filled in (dates written the
    way the language does: "2 mars 2026")."""
    params = {k: format_date(v) if isinstance(v, date) else v for k, v in exc.params.items()}
    return str(_(exc.message, **params))


def attach_error(
    form: FlaskForm, exc: ServiceError, aliases: Mapping[str, str] | None = None
) -> None:
    """Show ``exc`` on the form field it is about, or as a message above the form."""
    name = (aliases or {}).get(exc.field or "", exc.field or "")
    field = getattr(form, name, None) if name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, service_message(exc)]
    else:
        flash(service_message(exc), "error")


def identity_from(form: FlaskForm) -> Identity:
    """The identity typed into an identity form (not yet validated by the service)."""
    return Identity(
        last_name=form.last_name.data or "",
        first_name=form.first_name.data or "",
        birth_date=form.birth_date.data,
        phone=form.phone.data,
        email=form.email.data,
        address=form.address.data,
        france_travail_id=form.france_travail_id.data,
        ine=form.ine.data,
        notes=form.notes.data,
    )


def checked_identity_form(form: FlaskForm, today: date) -> bool:
    """Validate a submitted identity form: its own checks, then the service's rules on the
    identity typed (phone, e-mail, plausible birth date...), every field at once.

    True when nothing is wrong; otherwise each field carries its errors (one per field: a
    field the form already refused is not checked again), for the page to show them all.
    """
    valid = form.validate()
    for problem in identity_problems(identity_from(form), today):
        field = getattr(form, problem.field or "", None)
        if field is not None and not field.errors:
            field.errors = [service_message(problem)]
            valid = False
    return bool(valid)

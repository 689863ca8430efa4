"""Glue between forms and services: choices from reference lists, errors onto fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import TYPE_CHECKING

from flask import flash
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import SelectChoice

from app.models import ReferenceKind
from app.services.errors import ServiceError
from app.services.people.identity import Identity
from app.services.structures import reference_items
from app.web.context import label
from app.web.labels import enum_label

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def choices(session: Session, kind: ReferenceKind) -> list[SelectChoice]:
    """(code, label) pairs of a reference list, in its order, for a select or checkboxes."""
    return [SelectChoice(item.code, label(item)) for item in reference_items(session, kind)]


def enum_choices(enum: type[Enum], members: Sequence[Enum] | None = None) -> list[SelectChoice]:
    return [
        SelectChoice(m.value, enum_label(m))
        for m in (members if members is not None else list(enum))
    ]


def service_message(exc: ServiceError) -> str:
    """A service error in the current language, its parameters filled in."""
    return str(_(exc.message, **exc.params))


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

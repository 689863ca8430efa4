"""The forms of the accounts pages (a structure's, and the administrators')."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import AnyOf, DataRequired, EqualTo, InputRequired, Length, Optional

from app.domain.roles import Role
from app.web.form_base import RelaisForm


class InviteForm(RelaisForm):
    """A colleague of the structure."""

    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    name_hint = StringField(
        _l("Name (optional)"),
        validators=[Optional(), Length(max=200)],
        description=_l("Shown on the invitation page; the person may correct it."),
    )
    manager = BooleanField(_l("Also manages the structure's accounts"))


# Accounts with no structure that an administrator invites from the accounts page.
UNATTACHED_ROLES = (Role.COORDINATOR, Role.ADMIN, Role.FIELD_WORKER)


class AdminInviteForm(RelaisForm):
    """A coordinator, an administrator or a field worker."""

    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    name_hint = StringField(
        _l("Name (optional)"),
        validators=[Optional(), Length(max=200)],
        description=_l("Shown on the invitation page; the person may correct it."),
    )
    role = SelectField(
        _l("Role"),
        choices=[
            SelectChoice(Role.COORDINATOR.value, _l("Coordinator")),
            SelectChoice(Role.ADMIN.value, _l("Administrator")),
            SelectChoice(Role.FIELD_WORKER.value, _l("Field worker")),
        ],
        validators=[InputRequired()],
    )


class ConfirmForm(RelaisForm):
    """A destructive action's confirmation page."""

    confirmed = BooleanField(_l("I confirm"), validators=[DataRequired()])


class RowActionForm(RelaisForm):
    """A button of a list's row: the hidden field says the button was used (a POST with the
    CSRF token alone changes nothing)."""

    confirm = HiddenField(validators=[InputRequired(), AnyOf(["y"])])


class ManagerForm(RelaisForm):
    allowed = HiddenField(validators=[InputRequired(), AnyOf(["y", "n"])])


class AcceptForm(RelaisForm):
    """The invitation page: the person's name and password."""

    display_name = StringField(
        _l("Your name"), validators=[DataRequired(), Length(max=200)], id="display_name"
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=1024)],
        description=_l("At least 12 characters. A sentence of several words is easy to remember."),
    )
    confirm = PasswordField(
        _l("Password, again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


def invitation_lifetime() -> timedelta:
    return timedelta(days=int(current_app.config["INVITATION_DAYS"]))


def base_url() -> str:
    return str(current_app.config["PUBLIC_BASE_URL"] or "")

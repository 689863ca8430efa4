"""The one-time token of the forms that create something (``app/services/submissions.py``).

A form gets ``submission = SubmissionField()`` and its template renders it
(``{{ submission_token(form) }}`` from ``_submission.html``). The view creates the record in
one savepoint with the token::

    try:
        with attempt():
            claimed = claim(form, "register")
            person = register_person(...)
            submissions.fulfil(dbs(), claimed, url_for("people.detail", ...))
    except AlreadySubmitted as exc:
        return already_recorded(exc, fallback=...)

A form shown again (an error, a confirmation step) keeps the token it was sent with; a form
sent without a token Relais made is refused, and shown again with a fresh one.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import ValidationError

from app.models import SubmissionToken
from app.services import submissions
from app.services.submissions import AlreadySubmitted
from app.web.context import actor, dbs


class SubmissionField(HiddenField):  # type: ignore[misc]
    """A hidden field holding the form's one-time token: a fresh one until a form is sent."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        super().__init__(label or _l("Form"), validators, default=submissions.new_token, **kwargs)
        self.received = False

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and submissions.well_formed(valuelist[0]):
            self.data = valuelist[0]
            self.received = True
        # Otherwise the field keeps the fresh token of its default: the form shown again with
        # the error can be sent.

    def pre_validate(self, form: FlaskForm) -> None:
        if not self.received:
            raise ValidationError(_("This form is out of date: check it and send it again."))


def claim(form: FlaskForm, name: str) -> SubmissionToken:
    """Take the token of ``form`` (named ``name``) for the record the view creates next."""
    return submissions.claim(dbs(), actor(), form.submission.data, form=name)


def ensure_unused(form: FlaskForm) -> None:
    """``AlreadySubmitted`` if the form's token created a record already (before a
    confirmation step, so that a second submission shows the record, not the step)."""
    submissions.ensure_unused(dbs(), actor(), form.submission.data)


def already_recorded(exc: AlreadySubmitted, fallback: str) -> ResponseReturnValue:
    """Show what the first submission of the form recorded, saying it was recorded once."""
    flash(_("This form had already been sent: it was recorded once, here it is."), "info")
    target = exc.target or ""
    local = target.startswith("/") and not target.startswith("//")
    return redirect(target if local else fallback)


def shown_once(target: str) -> ResponseReturnValue:
    """Show the record that what was sent is already (``AlreadyRecorded``: another tab sent the
    same a moment ago, or the same change twice), saying it is kept once."""
    flash(
        _(
            "This was already recorded (from another tab or a second sending): it is kept once, here it is."
        ),
        "info",
    )
    return redirect(target)

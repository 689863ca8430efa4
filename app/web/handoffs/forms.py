"""Forms of the hand-off pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.web.mentions import KeepTextField
from app.web.submissions import SubmissionField


class SendForm(FlaskForm):  # type: ignore[misc]
    to_structure = SelectField(_l("Partner structure"), validators=[DataRequired()])
    purpose = RadioField(_l("Purpose of the hand-off"), validators=[DataRequired()])
    note = TextAreaField(
        _l("Note for the partner"),
        validators=[Optional(), Length(max=2000)],
        description=_l(
            "What the partner needs to know to receive the person well. The partner reads it before accepting, without the person's identity."
        ),
    )
    consent_confirmed = BooleanField(
        _l("The person agrees to be handed off to this partner"),
        validators=[DataRequired(message=_l("Confirm that the person agrees to this hand-off."))],
    )
    keep_text = KeepTextField()
    send_anyway = BooleanField(
        _l("Send anyway: this hand-off does not repeat the one already open")
    )
    submission = SubmissionField()


class ActionForm(FlaskForm):  # type: ignore[misc]
    """One form for every answer; the page shows the fields the action needs."""

    reason = SelectField(_l("Reason"), validators=[Optional()], validate_choice=False)
    outcome = SelectField(_l("Outcome"), validators=[Optional()], validate_choice=False)
    redirect_to = SelectField(_l("Redirect to"), validators=[Optional()], validate_choice=False)
    on = DateField(_l("Date of the first contact"), validators=[Optional()])
    message = TextAreaField(
        _l("Message to the other structure"), validators=[Optional(), Length(max=2000)]
    )
    keep_text = KeepTextField()

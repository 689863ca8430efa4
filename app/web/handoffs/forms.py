"""Forms of the hand-off pages."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.domain.employment import ContractType, Employment
from app.services.errors import N_, InvalidInput
from app.web.form_base import RelaisForm
from app.web.mentions import KeepTextField
from app.web.submissions import SubmissionField


class SendForm(RelaisForm):
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
    send_to_full = BooleanField(_l("Send anyway: I know this partner says it is full"))
    submission = SubmissionField()


class ActionForm(RelaisForm):
    """One form for every answer; the page shows the fields the action needs."""

    reason = SelectField(_l("Reason"), validators=[Optional()], validate_choice=False)
    outcome = SelectField(_l("Outcome"), validators=[Optional()], validate_choice=False)
    redirect_to = SelectField(_l("Redirect to"), validators=[Optional()], validate_choice=False)
    # The day an acceptance, a first contact or an outcome happened (``dates.prepare_date``).
    on = DateField(_l("Date"), validators=[Optional()])
    message = TextAreaField(
        _l("Message to the other structure"), validators=[Optional(), Length(max=2000)]
    )
    keep_text = KeepTextField()
    # The job, when the outcome is "job signed" (see ``employment_from``).
    contract_type = SelectField(_l("Contract"), validators=[Optional()])
    job_started_on = DateField(
        _l("First day of work"),
        validators=[Optional()],
        description=_l("The day of the outcome if left empty."),
    )
    employer = StringField(
        _l("Employer"),
        validators=[Optional(), Length(max=200)],
        description=_l("Encrypted; never shown to coordinators."),
    )


JOB_SIGNED = "job_signed"


def employment_from(form: ActionForm, outcome_day: date) -> Employment | None:
    """The job described by a "job signed" outcome (``InvalidInput`` without its contract);
    ``None`` for any other outcome, whose contract fields are left aside."""
    if form.outcome.data != JOB_SIGNED:
        return None
    if not form.contract_type.data:
        raise InvalidInput(N_("Say which contract."), field="contract_type")
    return Employment(
        contract_type=ContractType(form.contract_type.data),
        started_on=form.job_started_on.data or outcome_day,
        employer=form.employer.data,
    )


class NoSolutionForm(RelaisForm):
    """ "No solution found": no partner could be found for a need of the person. Codes only,
    no free text (the record is a statistics input)."""

    # "barrier:<id>" (one of the person's open barriers) or "category:<code>"; the service
    # checks that the barrier is the person's.
    need = SelectField(_l("Need"), validators=[DataRequired()], validate_choice=False)
    precision = SelectField(_l("Why (optional)"), validators=[Optional()], validate_choice=False)
    submission = SubmissionField()

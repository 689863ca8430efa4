"""Forms of the caseworker's pages: a person's identity, situation, consent and pathway.

Forms check the shape of the input; the services enforce the rules (plausible birth date,
E.164 phone, reference codes, barrier transitions...) and their errors are shown on the field
they name.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.domain.employment import ContractType
from app.domain.pathway import BarrierLevel, ConsentMethod
from app.web.form_base import RelaisForm
from app.web.forms_support import enum_choices
from app.web.mentions import KeepTextField
from app.web.submissions import SubmissionField


class MultiCheckboxField(SelectMultipleField):  # type: ignore[misc]
    """Several choices as a list of checkboxes (usable without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class IdentityForm(RelaisForm):
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    phone = TelField(
        _l("Phone"),
        validators=[Optional(), Length(max=32)],
        description=_l("French or international number, e.g. 06 12 34 56 78 or +41 44 668 18 00."),
    )
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    address = StringField(_l("Postal address"), validators=[Optional(), Length(max=300)])
    france_travail_id = StringField(
        _l("France Travail identifier"), validators=[Optional(), Length(max=32)]
    )
    ine = StringField(_l("INE (national student number)"), validators=[Optional(), Length(max=32)])
    notes = TextAreaField(
        _l("Notes"),
        validators=[Optional(), Length(max=4000)],
        description=_l(
            "Only what the follow-up needs. Notes are encrypted and never shared with coordinators."
        ),
    )


class RegisterForm(IdentityForm):
    sex = SelectField(_l("Sex"), validators=[Optional()])
    qpv = SelectField(_l("Neighbourhood (QPV)"), validators=[Optional()])
    education_level = SelectField(_l("Education level"), validators=[Optional()])
    cohorts = MultiCheckboxField(_l("Cohorts"), validators=[DataRequired()])
    consent_method = RadioField(
        _l("Consent to share the pathway with the network's partners"),
        choices=[
            SelectChoice("", _l("Not recorded yet")),
            SelectChoice(ConsentMethod.ORAL.value, _l("Given orally")),
            SelectChoice(ConsentMethod.SIGNED.value, _l("Signed")),
        ],
        default="",
        validators=[Optional()],
    )
    consent_on = DateField(_l("Date of consent"), validators=[Optional()])
    register_anyway = BooleanField(_l("This is another person: register anyway"))
    submission = SubmissionField()


class ConsentForm(RelaisForm):
    method = RadioField(
        _l("How the person agreed"),
        choices=[
            SelectChoice(ConsentMethod.ORAL.value, _l("Orally")),
            SelectChoice(ConsentMethod.SIGNED.value, _l("Signed")),
        ],
        validators=[InputRequired()],
    )
    given_on = DateField(_l("Date of consent"), validators=[DataRequired()])
    submission = SubmissionField()


def level_choices() -> list[SelectChoice]:
    """The barrier levels, after a blank "not assessed" (nothing is assessed in advance)."""
    return [SelectChoice("", _l("Not assessed")), *enum_choices(BarrierLevel)]


def contract_choices() -> list[SelectChoice]:
    return [SelectChoice("", _l("Not a job")), *enum_choices(ContractType)]


def contract_type_field() -> SelectField:
    return SelectField(
        _l("Contract (for a job)"),
        validators=[Optional()],
        description=_l(
            "Required for the stage “employment”; its start date is the first day of work."
        ),
    )


def employer_field() -> StringField:
    return StringField(
        _l("Employer (for a job)"),
        validators=[Optional(), Length(max=200)],
        description=_l("Encrypted; never shown to coordinators."),
    )


def level_field() -> SelectField:
    return SelectField(
        _l("Impact on the job search"),
        validators=[Optional()],
        description=_l("The scale of the national common orientation criteria."),
    )


def detail_field() -> StringField:
    return StringField(
        _l("Detail"),
        validators=[Optional(), Length(max=300)],
        description=_l("For example: no driving licence. Encrypted; never shown to coordinators."),
    )


class StepForm(RelaisForm):
    stage = SelectField(_l("Stage"), validators=[DataRequired()])
    started_on = DateField(_l("Start date"), validators=[DataRequired()])
    ended_on = DateField(_l("End date"), validators=[Optional()])
    action = StringField(
        _l("Action"),
        validators=[Optional(), Length(max=300)],
        description=_l("For example: entry into a CACES training, signed a work-study contract."),
    )
    keep_text = KeepTextField()
    contract_type = contract_type_field()
    employer = employer_field()
    submission = SubmissionField()


class BarrierForm(RelaisForm):
    category = SelectField(_l("Barrier"), validators=[DataRequired()])
    level = level_field()
    detail = detail_field()
    keep_text = KeepTextField()
    identified_on = DateField(_l("Identified on"), validators=[DataRequired()])
    acting_structure = SelectField(_l("Structure acting on it"), validators=[Optional()])
    submission = SubmissionField()


class BarrierAssessmentForm(RelaisForm):
    """The level and detail of a barrier already recorded."""

    level = level_field()
    detail = detail_field()
    keep_text = KeepTextField()


class FactsForm(RelaisForm):
    """The registration facts kept for the statistics, corrected later."""

    qpv = SelectField(_l("Neighbourhood (QPV)"), validators=[Optional()])
    cohorts = MultiCheckboxField(_l("Cohorts"), validators=[DataRequired()])
    education_level = SelectField(_l("Education level"), validators=[Optional()])
    sex = SelectField(_l("Sex"), validators=[Optional()])


class BarrierStatusForm(RelaisForm):
    status = SelectField(_l("New status"), validators=[DataRequired()])
    on = DateField(_l("Date"), validators=[DataRequired()])


class EndFollowUpForm(RelaisForm):
    reason = SelectField(_l("Reason"), validators=[DataRequired()])
    ended_on = DateField(_l("End date"), validators=[DataRequired()])


class DecisionForm(RelaisForm):
    """The pathway type a structure decides (common orientation criteria)."""

    pathway_type = SelectField(_l("Pathway type"), validators=[DataRequired()])
    decided_on = DateField(_l("Decided on"), validators=[DataRequired()])
    reason = SelectField(_l("Reason"), validators=[Optional()])
    submission = SubmissionField()

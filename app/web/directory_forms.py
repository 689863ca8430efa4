"""Forms of the directory pages and of the network events."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.web.people_forms import MultiCheckboxField


class ServiceForm(Form):  # type: ignore[misc]
    """One service of a card; leave its name empty to remove it."""

    name = StringField(_l("Service name"), validators=[Optional(), Length(max=150)])
    summary = TextAreaField(
        _l("What it offers, in a sentence"), validators=[Optional(), Length(max=280)]
    )
    types = MultiCheckboxField(_l("Kind of service"), validators=[Optional()])
    fees = MultiCheckboxField(_l("Cost for the person"), validators=[Optional()])
    fees_detail = StringField(_l("Cost details"), validators=[Optional(), Length(max=200)])


class CardForm(FlaskForm):  # type: ignore[misc]
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    type = SelectField(_l("Type"), validators=[DataRequired()])
    missions = TextAreaField(
        _l("Missions"),
        validators=[Optional(), Length(max=4000)],
        description=_l(
            "What the structure does, in plain words, for a colleague of another partner."
        ),
    )
    services = FieldList(FormField(ServiceForm), min_entries=1, max_entries=20)
    cohorts = MultiCheckboxField(_l("Publics"), validators=[Optional()])
    age_min = IntegerField(_l("Minimum age"), validators=[Optional(), NumberRange(0, 120)])
    age_max = IntegerField(_l("Maximum age"), validators=[Optional(), NumberRange(0, 120)])
    public_notes = TextAreaField(
        _l("Who they take in"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Conditions of status, residence or situation, in a few words."),
    )
    barrier_categories = MultiCheckboxField(_l("Barriers they act on"), validators=[Optional()])
    stages = MultiCheckboxField(_l("Pathway stages"), validators=[Optional()])
    territory = StringField(
        _l("Territory"),
        validators=[Optional(), Length(max=200)],
        description=_l("For example: Grand Belfort, Offemont, Territoire de Belfort."),
    )
    zone_type = SelectField(_l("Kind of territory"), validators=[Optional()])
    zone_code = StringField(
        _l("Territory code"),
        validators=[Optional(), Length(max=9)],
        description=_l(
            "Official code: INSEE code of the town, SIREN of the EPCI, or département number."
        ),
    )
    covers_all_qpvs = BooleanField(_l("Covers every priority neighbourhood (QPV)"))
    qpvs = MultiCheckboxField(_l("Priority neighbourhoods covered"), validators=[Optional()])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    address_extra = StringField(_l("Address (more)"), validators=[Optional(), Length(max=200)])
    postcode = StringField(_l("Postcode"), validators=[Optional(), Length(max=10)])
    city = StringField(_l("Town"), validators=[Optional(), Length(max=100)])
    insee_code = StringField(_l("INSEE code of the town"), validators=[Optional(), Length(max=10)])
    opening_hours = StringField(
        _l("Opening hours"),
        validators=[Optional(), Length(max=300)],
        description=_l(
            "In the OpenStreetMap format used by data·inclusion, for example: Mo-Fr 09:00-12:00,13:30-17:00; Sa 09:00-12:00; PH off"
        ),
    )
    referral_conditions = TextAreaField(
        _l("Conditions"),
        validators=[Optional(), Length(max=4000)],
        description=_l("One condition a line."),
    )
    referral_documents = TextAreaField(
        _l("Documents to bring"),
        validators=[Optional(), Length(max=4000)],
        description=_l("One document a line."),
    )
    referral_delay_days = IntegerField(
        _l("Usual delay before a first appointment (days)"),
        validators=[Optional(), NumberRange(0, 365)],
    )
    referral_modes = MultiCheckboxField(_l("How to refer someone"), validators=[Optional()])
    reception_modes = MultiCheckboxField(_l("How people are received"), validators=[Optional()])
    contact = StringField(
        _l("Contact channel"),
        validators=[Optional(), Length(max=300)],
        description=_l("How a partner reaches the right person, in a sentence."),
    )
    phone = TelField(_l("Phone"), validators=[Optional(), Length(max=40)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    website = URLField(_l("Website"), validators=[Optional(), Length(max=300)])
    siret = StringField(_l("SIRET number"), validators=[Optional(), Length(max=20)])
    capacity = IntegerField(
        _l("Free places"),
        validators=[Optional(), NumberRange(0, 100_000)],
        description=_l("Leave empty when the structure does not count places."),
    )


class CapacityForm(FlaskForm):  # type: ignore[misc]
    capacity = IntegerField(
        _l("Free places today"), validators=[Optional(), NumberRange(0, 100_000)]
    )


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A button: the card was read again and is still right."""


class EditorForm(FlaskForm):  # type: ignore[misc]
    allowed = BooleanField(_l("May edit the card"))


class EventForm(FlaskForm):  # type: ignore[misc]
    theme = StringField(_l("Theme"), validators=[DataRequired(), Length(max=200)])
    held_on = DateField(_l("Date"), validators=[DataRequired()])
    participants = IntegerField(
        _l("Number of participants"), validators=[InputRequired(), NumberRange(0, 100_000)]
    )
    structures = MultiCheckboxField(_l("Structures that took part"), validators=[DataRequired()])
    follow_ups = TextAreaField(
        _l("Follow-ups decided"),
        validators=[Optional(), Length(max=4000)],
        description=_l("One follow-up a line: what, who, when."),
    )

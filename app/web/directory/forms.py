"""Forms of the directory pages and of the network events, and what they say as service
input (``CardInput``, ``EventInput``)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    FormField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.domain.capacity import MAX_FREE_PLACES
from app.domain.directory import Fee, ReceptionMode, ReferralMode, ServiceType, ZoneType
from app.domain.numbers import read_id
from app.models import NetworkEvent, ReferenceKind
from app.services.directory.card_input import ITEM_FIELDS, CardInput, ServiceInput
from app.services.directory.cards import card_snapshot
from app.services.directory.network_events import EventInput
from app.services.directory.search import DirectoryEntry
from app.services.structures import list_structures
from app.web.context import dbs, today
from app.web.directory.labels import choices_of
from app.web.form_base import RelaisForm, RelaisSubform, WholeNumberField
from app.web.forms_support import choices
from app.web.people.forms import MultiCheckboxField
from app.web.submissions import SubmissionField


class ServiceForm(RelaisSubform):
    """One service of a card; leave its name empty to remove it."""

    name = StringField(_l("Service name"), validators=[Optional(), Length(max=150)])
    summary = TextAreaField(
        _l("What it offers, in a sentence"), validators=[Optional(), Length(max=280)]
    )
    types = MultiCheckboxField(_l("Kind of service"), validators=[Optional()])
    fees = MultiCheckboxField(_l("Cost for the person"), validators=[Optional()])
    fees_detail = StringField(_l("Cost details"), validators=[Optional(), Length(max=200)])


class CardForm(RelaisForm):
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
    age_min = WholeNumberField(_l("Minimum age"), validators=[Optional(), NumberRange(0, 120)])
    age_max = WholeNumberField(_l("Maximum age"), validators=[Optional(), NumberRange(0, 120)])
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
    referral_delay_days = WholeNumberField(
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
    capacity = WholeNumberField(
        _l("Free places"),
        validators=[Optional(), NumberRange(0, MAX_FREE_PLACES)],
        description=_l("Leave empty when the structure does not count places."),
    )


class CapacityForm(RelaisForm):
    capacity = WholeNumberField(
        _l("Free places today"), validators=[Optional(), NumberRange(0, MAX_FREE_PLACES)]
    )


class ConfirmForm(RelaisForm):
    """A button: the card was read again and is still right."""


class EditorForm(RelaisForm):
    allowed = BooleanField(_l("May edit the card"))


class EventForm(RelaisForm):
    theme = StringField(_l("Theme"), validators=[DataRequired(), Length(max=200)])
    held_on = DateField(_l("Date"), validators=[DataRequired()])
    participants = WholeNumberField(
        _l("Number of participants"), validators=[InputRequired(), NumberRange(0, 100_000)]
    )
    structures = MultiCheckboxField(_l("Structures that took part"), validators=[DataRequired()])
    follow_ups = TextAreaField(
        _l("Follow-ups decided"),
        validators=[Optional(), Length(max=4000)],
        description=_l("One follow-up a line: what, who, when."),
    )


class NewEventForm(EventForm):
    """The form of a new event, sent once (``app/web/submissions.py``)."""

    submission = SubmissionField()


# -- the card form ---------------------------------------------------------------------------

# Fields of the card form by the kind of value they hold (name, type, zone type, the QPV flag
# and the services are read apart).
CARD_TEXTS = (
    "missions", "contact", "city", "siret", "address", "address_extra", "postcode",
    "insee_code", "phone", "email", "website", "opening_hours", "public_notes",
    "territory", "zone_code", "referral_conditions", "referral_documents",
)  # fmt: skip
CARD_CHOICES = (
    "cohorts", "barrier_categories", "stages", "qpvs", "referral_modes", "reception_modes",
)  # fmt: skip
CARD_NUMBERS = ("capacity", "age_min", "age_max", "referral_delay_days")


def card_form_data(entry: DirectoryEntry) -> dict[str, Any]:
    """What the card says, to fill its form: an empty line to add a service after the others."""
    values = card_snapshot(entry.structure, entry.card)
    values["zone_type"] = values["zone_type"] or ""
    values["services"] = [*values["services"], {}]
    return values


def set_card_choices(form: CardForm, *, admin: bool) -> None:
    """The choices of the card form; only administrators see the name and the type."""
    session = dbs()
    if admin:
        form.type.choices = choices(session, ReferenceKind.STRUCTURE_TYPE)
    else:
        del form.name
        del form.type
    for name, kind in ITEM_FIELDS.items():
        getattr(form, name).choices = choices(session, kind)
    form.zone_type.choices = [("", _("Not given")), *choices_of(ZoneType)]
    form.referral_modes.choices = choices_of(ReferralMode)
    form.reception_modes.choices = choices_of(ReceptionMode)
    for entry in form.services:
        entry.form.types.choices = choices_of(ServiceType)
        entry.form.fees.choices = choices_of(Fee)


def _service_inputs(form: CardForm) -> list[ServiceInput]:
    """The services named on the form: a service whose name is left empty is removed."""
    return [
        ServiceInput(
            name=name,
            summary=entry.form.summary.data or "",
            types=entry.form.types.data or [],
            fees=entry.form.fees.data or [],
            fees_detail=entry.form.fees_detail.data or "",
        )
        for entry in form.services
        if (name := (entry.form.name.data or "").strip())
    ]


def card_input(form: CardForm, *, admin: bool) -> CardInput:
    """What the card form says. The name and type are None (unchanged) for non-administrators,
    whose form does not have them."""
    values: dict[str, Any] = {name: getattr(form, name).data or "" for name in CARD_TEXTS}
    values |= {name: getattr(form, name).data or [] for name in CARD_CHOICES}
    values |= {name: getattr(form, name).data for name in CARD_NUMBERS}
    return CardInput(
        **values,
        name=form.name.data if admin else None,
        type_code=form.type.data if admin else None,
        zone_type=form.zone_type.data or None,
        covers_all_qpvs=bool(form.covers_all_qpvs.data),
        services=_service_inputs(form),
    )


# -- the event form --------------------------------------------------------------------------


def event_form(event: NetworkEvent | None = None) -> EventForm:
    """The form of a new event (dated today), or of ``event``, with the structures to choose."""
    form = EventForm(obj=event) if event is not None else NewEventForm(held_on=today())
    form.structures.choices = [
        (str(s.id), s.name) for s in list_structures(dbs(), include_inactive=False)
    ]
    if event is not None and not form.is_submitted():
        form.structures.data = [str(s.id) for s in event.structures]
    return form


def event_input(form: EventForm) -> EventInput:
    return EventInput(
        theme=form.theme.data or "",
        held_on=form.held_on.data,
        participants=form.participants.data,
        structure_ids=[
            found for value in form.structures.data or [] if (found := read_id(value)) is not None
        ],
        follow_ups=form.follow_ups.data or "",
    )

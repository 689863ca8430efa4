"""Forms of the webhooks page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectChoice, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.domain.webhooks import SUBSCRIBABLE, WebhookEvent
from app.web.form_base import RelaisForm
from app.web.people.forms import MultiCheckboxField

EVENT_LABELS = {
    WebhookEvent.RECEIVED: _l("A hand-off is received (sent to the structure)"),
    WebhookEvent.ANSWERED: _l("A hand-off is answered (accepted, declined or redirected)"),
    WebhookEvent.EXPIRED: _l("A hand-off expires without an answer"),
    WebhookEvent.CLOSED: _l("A hand-off is closed (completed, not completed or withdrawn)"),
    WebhookEvent.PING: _l("Test event"),
}


class EndpointForm(RelaisForm):
    url = StringField(
        _l("Address (https://)"),
        validators=[DataRequired(), Length(max=500)],
        description=_l(
            "Where your software receives the events, such as https://partner.example.org/relais."
        ),
    )
    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)])
    events = MultiCheckboxField(
        _l("Events"),
        choices=[SelectChoice(event.value, EVENT_LABELS[event]) for event in SUBSCRIBABLE],
        default=[event.value for event in SUBSCRIBABLE],
        validators=[DataRequired()],
    )


class ActiveForm(RelaisForm):
    active = BooleanField(_l("Send events to this address"))


class DeleteForm(RelaisForm):
    confirm = BooleanField(
        _l("Delete this webhook and its deliveries"), validators=[DataRequired()]
    )


class ButtonForm(RelaisForm):
    """A button: send a test event, or a new secret."""

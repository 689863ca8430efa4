"""Following a hand-off through: "Remind" a partner of a pending hand-off, "Reorient" a
declined, expired or redirected one (the send form, pre-filled), and the question put to the
receiving structure once a hand-off for a barrier completes: does its follow-up end?
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from app.domain.roles import Role
from app.models import Beneficiary, Handoff
from app.services.errors import ServiceError
from app.services.handoffs import follow_through
from app.services.handoffs import lists as handoff_lists
from app.services.handoffs.follow_through import ReminderTooSoon, Reorientation
from app.services.people.access import IDENTITY_GRACE_DAYS
from app.services.repeats import AlreadyRecorded
from app.unit_of_work import attempt
from app.web.confirmations import PERSON, flash_naming
from app.web.context import actor, dbs, named, roles_required, today, vault
from app.web.form_base import RelaisForm
from app.web.forms_support import service_message
from app.web.handoffs.blueprint import bp
from app.web.mentions import KeepTextField, names_the_person
from app.web.submissions import shown_once


class RemindForm(RelaisForm):
    message = TextAreaField(
        _l("Message to the partner (optional)"),
        validators=[Optional(), Length(max=2000)],
        description=_l(
            "The partner reads it on the hand-off page; the mail only says that you remind them."
        ),
    )
    keep_text = KeepTextField()


class FollowUpAnswerForm(RelaisForm):
    """The answer to "does your follow-up end?" is the button pressed: "end" or "keep"."""


def _now() -> datetime:
    return datetime.now(UTC)


def _reminder_days() -> int:
    days: int = current_app.config["HANDOFF_REMINDER_DAYS"]
    return days


def detail_context(handoff: Handoff) -> dict[str, object]:
    """What the hand-off page shows of the follow-through to the signed-in caseworker."""
    session, user = dbs(), actor()
    remind_at = (
        follow_through.next_reminder(session, handoff, _reminder_days())
        if follow_through.may_remind(user, handoff)
        else None
    )
    asks = follow_through.asks_about_follow_up(session, user, handoff)
    return {
        "remind_at": remind_at,
        "remind_now": remind_at is not None and _now() >= remind_at,
        # A reminder held back because its message names the person comes back as typed.
        "remind_form": (g.get("remind_form") or RemindForm(prefix="remind", formdata=None))
        if remind_at
        else None,
        "reminder_days": _reminder_days(),
        "ask_follow_up": asks,
        "follow_up_form": FollowUpAnswerForm(prefix="follow", formdata=None) if asks else None,
        "reorient": follow_through.may_reorient(session, user, handoff),
    }


def reorientation(person: Beneficiary) -> Reorientation | None:
    """The hand-off the send form reorients (``?reorient=<id>``), if the actor may."""
    raw = request.args.get("reorient", "")
    if not raw:
        return None
    return follow_through.reorientation(dbs(), vault(), actor(), person, raw[:64])


def _back(handoff: Handoff, anchor: str = "") -> ResponseReturnValue:
    return redirect(url_for("handoffs.detail", handoff_id=handoff.id.hex) + anchor)


@bp.post("/<handoff_id>/remind")
@roles_required(Role.CASEWORKER)
def remind(handoff_id: str) -> ResponseReturnValue:
    session, user = dbs(), actor()
    handoff = handoff_lists.handoff_for_party(session, user, handoff_id)
    form = RemindForm(prefix="remind")
    if not form.validate_on_submit():
        flash(_("The form had expired; try again."), "error")
        return _back(handoff, "#remind")
    if names_the_person(form, handoff.beneficiary, form.message):
        from app.web.handoffs.views import detail  # the hand-off page, this form as typed

        g.remind_form = form
        return detail(handoff.id.hex)
    try:
        with attempt():
            follow_through.remind(
                session,
                vault(),
                user,
                handoff,
                now=_now(),
                days=_reminder_days(),
                message=form.message.data,
            )
    except AlreadyRecorded:  # the same reminder sent twice (a double click, a resend)
        return shown_once(url_for("handoffs.detail", handoff_id=handoff.id.hex))
    except ReminderTooSoon as exc:
        flash(_too_soon(exc), "error")
        return _back(handoff, "#remind")
    except ServiceError as exc:
        flash(service_message(exc), "error")
        return _back(handoff)
    flash_naming(
        handoff.beneficiary,
        _(
            "Reminder about %(person)s sent to %(to_structure)s.",
            person=PERSON,
            to_structure=named(handoff.to_structure).to,
        ),
    )
    return _back(handoff)


def _too_soon(exc: ReminderTooSoon) -> str:
    return str(
        _(
            "A reminder was sent less than %(days)d days ago: the next one is possible from "
            "%(date)s.",
            days=_reminder_days(),
            date=format_date(exc.due, "long"),
        )
    )


@bp.post("/<handoff_id>/follow-up")
@roles_required(Role.CASEWORKER)
def answer_follow_up(handoff_id: str) -> ResponseReturnValue:
    session, user = dbs(), actor()
    handoff = handoff_lists.handoff_for_party(session, user, handoff_id)
    form = FollowUpAnswerForm(prefix="follow")
    answer = request.form.get("answer")
    if not form.validate_on_submit() or answer not in ("end", "keep"):
        flash(_("The form had expired; try again."), "error")
        return _back(handoff, "#follow-up")
    try:
        with attempt():
            follow_through.answer_follow_up(
                session,
                vault(),
                user,
                handoff,
                end=answer == "end",
                now=_now(),
                today=today(),
            )
    except AlreadyRecorded:  # the same answer sent twice
        return shown_once(url_for("handoffs.detail", handoff_id=handoff.id.hex))
    except ServiceError as exc:
        flash(service_message(exc), "error")
        return _back(handoff)
    if answer == "end":
        message = _(
            "Your structure's follow-up of this person has ended: their name is no longer "
            "shown to your structure after %(days)d days. The hand-off and the pathway stay.",
            days=IDENTITY_GRACE_DAYS,
        )
        flash(message, "success")
    else:
        flash(_("Your structure keeps following this person."), "success")
    return _back(handoff)

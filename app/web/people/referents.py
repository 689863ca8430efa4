"""Referents: who in the structure is in charge of a person, a change of referent, a caseload
handed over to a colleague, and the referents shown on a hand-off page."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_number, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField
from wtforms.validators import InputRequired

from app.domain.roles import Role
from app.models import Beneficiary, Handoff, User
from app.services.errors import ServiceError
from app.services.people import access, referents
from app.unit_of_work import attempt
from app.web.context import actor, dbs, roles_required, today
from app.web.form_base import RelaisForm, id_choice
from app.web.forms_support import attach_error, service_message
from app.web.people.blueprint import bp


class ReferentForm(RelaisForm):
    referent = SelectField(_l("Referent"), coerce=id_choice, validators=[InputRequired()])


class HandOverForm(RelaisForm):
    from_user = SelectField(
        _l("The people followed by"), coerce=id_choice, validators=[InputRequired()]
    )
    to_user = SelectField(_l("Go to"), coerce=id_choice, validators=[InputRequired()])
    confirmed = BooleanField(_l("I confirm the hand-over"))


def _names(users: list[User]) -> list[tuple[int, str]]:
    return [
        (u.id, u.display_name if u.active else _("%(name)s (account closed)", name=u.display_name))
        for u in users
    ]


def _referent_form(person: Beneficiary) -> ReferentForm | None:
    session, user = dbs(), actor()
    follow_up = access.open_follow_up(session, person.id, user.structure_id or 0)
    if follow_up is None:
        return None
    form = ReferentForm(referent=follow_up.referent_id)
    form.referent.choices = _names(referents.colleagues(session, user))
    return form


@bp.app_context_processor  # the person page and the hand-off page (another blueprint)
def _panels() -> dict[str, Any]:
    return {"referent_panel": referent_panel, "handoff_referents": handoff_referents}


def referent_panel(person: Beneficiary) -> dict[str, Any]:
    """What the person page shows of the structure's referent, and the form to change it."""
    user = actor()
    found = referents.referents_of(dbs(), person.id, [user.structure_id or 0])
    return {"referent": found.get(user.structure_id or 0), "form": _referent_form(person)}


def handoff_referents(handoff: Handoff) -> dict[int, referents.Referent]:
    """The referent of each side of a hand-off that follows the person, by structure."""
    return referents.referents_of(
        dbs(), handoff.beneficiary_id, [handoff.from_structure_id, handoff.to_structure_id]
    )


@bp.post("/<pseudonym>/referent")
@roles_required(Role.CASEWORKER)
def change_referent(pseudonym: str) -> ResponseReturnValue:
    session, user = dbs(), actor()
    person = access.followed_person(session, user, pseudonym, today())
    form = _referent_form(person)
    back = url_for("people.detail", pseudonym=pseudonym) + "#referent"
    if form is None or not form.validate_on_submit():
        flash(_("Choose a colleague of your structure."), "error")
        return redirect(back)
    try:
        with attempt():
            referents.change_referent(session, user, person, form.referent.data)
    except ServiceError as exc:
        flash(service_message(exc), "error")
        return redirect(back)
    flash(_("The referent is recorded."), "success")
    return redirect(back)


@bp.route("/hand-over", methods=["GET", "POST"])
@roles_required(Role.CASEWORKER)
def hand_over() -> ResponseReturnValue:
    """Give the people a colleague is referent of to another colleague (someone leaves)."""
    session, user = dbs(), actor()
    form = HandOverForm()
    everyone = referents.colleagues(session, user, active_only=False)
    form.from_user.choices = _names(everyone)
    form.to_user.choices = _names([u for u in everyone if u.active])
    if request.method == "GET":  # from me to someone else, the usual case
        form.from_user.data = user.id
        others = [u.id for u in everyone if u.active and u.id != user.id]
        form.to_user.data = others[0] if others else None
    count = None
    if form.validate_on_submit():
        try:
            with attempt():
                count = referents.hand_over_size(
                    session, user, form.from_user.data, form.to_user.data
                )
                if form.confirmed.data:
                    moved = referents.hand_over_caseload(
                        session, user, form.from_user.data, form.to_user.data
                    )
                    flash(
                        ngettext(
                            "%(people)s person handed over.",
                            "%(people)s people handed over.",
                            moved,
                            people=format_number(moved),
                        )
                        if moved
                        else _("Nobody to hand over."),
                        "success",
                    )
                    return redirect(url_for("people.index"))
        except ServiceError as exc:
            attach_error(form, exc)
            count = None
    return render_template("people/hand_over.html", form=form, count=count)

"""The rights of the person, exercised through a structure that follows them.

- the subject-access export: a confirmation page (opening it records nothing), then, by a
  POST, a printable page or a JSON download of the whole file, with the record of who
  consulted or changed it (each export audited);
- a withdrawal of consent: a form, then every pending hand-off is withdrawn;
- erasure: a confirmation page (type the pseudonym), then crypto-shredding.

Every action is a caseworker's, for a person their structure follows (404 otherwise); the
withdrawal and the erasure need an open follow-up (``access.person_to_change``: 404 during the
reading grace period after it ended, when the export is still allowed); state changes are POSTs
with a CSRF token.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import Response, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, RadioField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from app.domain.rights import CHOSEN_SOURCES, ErasureCause, WithdrawalSource
from app.domain.roles import Role
from app.models import Beneficiary, Handoff
from app.services.errors import ServiceError
from app.services.handoffs import pending_for_person
from app.services.pathways import other_open_follow_ups
from app.services.people import access
from app.services.rights.consents import active_consents, withdraw_consent
from app.services.rights.erasure import RegisterFileError, erase_person, register_file_for
from app.services.rights.subject_access import report_as_json, subject_access_report
from app.unit_of_work import attempt
from app.web.auth.signing_in import reauth_required
from app.web.context import actor, dbs, roles_required, today, vault
from app.web.form_base import RelaisForm
from app.web.forms_support import attach_error, enum_choices, keeps_typed_values
from app.web.labels import audit_label, purpose_label
from app.web.people.blueprint import bp


class WithdrawConsentForm(RelaisForm):
    withdrawn_on = DateField(_l("Date of the withdrawal"), validators=[DataRequired()])
    source = RadioField(_l("How the withdrawal reached you"), validators=[InputRequired()])


class EraseForm(RelaisForm):
    confirm = StringField(
        _l("Type the person's pseudonym to confirm"),
        validators=[DataRequired(), Length(max=20)],
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _person(pseudonym: str) -> Beneficiary:
    return access.followed_person(dbs(), actor(), pseudonym, today())


def _person_to_change(pseudonym: str) -> Beneficiary:
    """The person, if the actor's structure follows them now: the reading grace period after
    a follow-up ended does not allow a withdrawal or an erasure (404, as for any other)."""
    return access.person_to_change(dbs(), actor(), pseudonym, today())


# -- subject access --------------------------------------------------------------------------


@bp.get("/<pseudonym>/access-report")
@roles_required(Role.CASEWORKER)
@reauth_required()
def access_report(pseudonym: str) -> ResponseReturnValue:
    """The confirmation step: says what the export holds; opening it reveals and records nothing."""
    return render_template("people/access_confirm.html", person=_person(pseudonym))


@bp.post("/<pseudonym>/access-report")
@roles_required(Role.CASEWORKER)
@reauth_required("people.access_report")
def access_report_export(pseudonym: str) -> ResponseReturnValue:
    """The confirmed export, as a printable page (recorded in the person's access record)."""
    session = dbs()
    person = _person(pseudonym)
    report = subject_access_report(
        session, vault(), actor(), person, output="page", today=today(), now=_now()
    )
    return render_template(
        "people/access_report.html",
        report=report,
        person=person,
        who=report.identity,
        audit_label=audit_label,
        purpose_label=purpose_label,
    )


@bp.post("/<pseudonym>/access-report.json")
@roles_required(Role.CASEWORKER)
@reauth_required("people.access_report")
def access_report_json(pseudonym: str) -> ResponseReturnValue:
    """The confirmed export, as a JSON download (recorded in the person's access record)."""
    session = dbs()
    person = _person(pseudonym)
    report = subject_access_report(
        session, vault(), actor(), person, output="json", today=today(), now=_now()
    )
    body = json.dumps(report_as_json(report), ensure_ascii=False, indent=2)
    name = f"relais-{person.pseudonym}-{today().isoformat()}.json"
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# -- withdrawal of consent -------------------------------------------------------------------


def _pending(person: Beneficiary) -> list[Handoff]:
    return pending_for_person(dbs(), person.id)


@bp.route("/<pseudonym>/consent/withdraw", methods=["GET", "POST"])
@keeps_typed_values
@roles_required(Role.CASEWORKER)
def consent_withdrawal(pseudonym: str) -> ResponseReturnValue:
    session = dbs()
    person = _person_to_change(pseudonym)
    consents = active_consents(session, person.id)
    form = WithdrawConsentForm()
    form.source.choices = enum_choices(WithdrawalSource, CHOSEN_SOURCES)
    if not form.is_submitted():
        form.withdrawn_on.data = today()
    if consents and form.validate_on_submit():
        try:
            with attempt():
                withdrawn = withdraw_consent(
                    session,
                    vault(),
                    actor(),
                    person,
                    on=form.withdrawn_on.data,
                    source=WithdrawalSource(form.source.data),
                    today=today(),
                    now=_now(),
                )
        except ServiceError as exc:
            attach_error(form, exc, {"consent": "source"})
        else:
            flash(_("The withdrawal of consent is recorded."), "success")
            if withdrawn:
                flash(
                    _(
                        "Hand-offs withdrawn because of it: %(count)d.",
                        count=len(withdrawn),
                    ),
                    "info",
                )
            return redirect(url_for("people.detail", pseudonym=person.pseudonym) + "#consent")
    return render_template(
        "people/withdraw_consent.html",
        person=person,
        consents=consents,
        pending=_pending(person),
        form=form,
    )


# -- erasure ---------------------------------------------------------------------------------


@bp.route("/<pseudonym>/erase", methods=["GET", "POST"])
@roles_required(Role.CASEWORKER)
@reauth_required()
def erase(pseudonym: str) -> ResponseReturnValue:
    session, user = dbs(), actor()
    person = _person_to_change(pseudonym)
    form = EraseForm()
    if form.validate_on_submit():
        if form.confirm.data.strip().upper() != person.pseudonym:
            form.confirm.errors = [_("This is not the person's pseudonym.")]
        else:
            register = register_file_for(current_app.config, current_app.instance_path)
            try:
                with attempt():
                    erase_person(
                        session,
                        vault(),
                        user,
                        person,
                        cause=ErasureCause.REQUEST,
                        register=register,
                        today=today(),
                        now=_now(),
                    )
            except ServiceError as exc:
                attach_error(form, exc, {})
            except RegisterFileError:
                current_app.logger.error("erasure refused: the register file cannot be written")
                flash(
                    _(
                        "Nothing was erased: the erasure register cannot be written. "
                        "Tell your administrator."
                    ),
                    "error",
                )
            else:
                flash(
                    _(
                        "The person's data is erased. Their pathway stays in the statistics, "
                        "without identity."
                    ),
                    "success",
                )
                return redirect(url_for("people.index"))
    others = other_open_follow_ups(session, person, user)
    return render_template(
        "people/erase.html",
        person=person,
        form=form,
        others=others,
        pending=_pending(person),
    )

"""Caseworkers: the people their structure follows - register, read, record the pathway."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from wtforms import SelectChoice

from app.domain.pathway import ConsentMethod
from app.domain.people import EducationLevel, Sex
from app.domain.roles import Role
from app.models import ReferenceKind
from app.services.errors import InvalidInput, ServiceError
from app.services.people import access, identity, overview, search
from app.services.people.duplicates import find_possible_duplicates
from app.services.people.overview import Filters, Situation, Sort
from app.services.people.registration import (
    ConsentInput,
    NewPerson,
    register_person,
)
from app.services.statistics.lost import lost_reasons
from app.services.structures import reference_items
from app.services.submissions import AlreadySubmitted, fulfil
from app.unit_of_work import attempt
from app.web import submissions
from app.web.confirmations import PERSON, flash_naming
from app.web.context import actor, dbs, roles_required, today, vault
from app.web.forms_support import (
    attach_error,
    checked_identity_form,
    choices,
    enum_choices,
    identity_from,
    keeps_typed_values,
    service_message,
)
from app.web.listing import (
    CURSOR_FIELDS,
    filters_from_request,
    page_from_request,
    refuse_bad_cursor,
    sort_from_request,
    window_from_request,
)
from app.web.people import records, search_box
from app.web.people.blueprint import bp
from app.web.people.forms import RegisterForm


def _caseload_page(sort: Sort, filters: Filters) -> tuple[overview.Page[Any], Sort, bool]:
    """The caseload's page in ``sort``, the order it is really in, and whether the order by
    name was refused: past ``NAME_ORDER_LIMIT`` people (after the filters) the list is shown
    newest first, and the page says why and how to narrow it (never sorted in part)."""
    session, user = dbs(), actor()
    if sort is Sort.NAME:
        by_name = search.caseload_by_name(
            session, vault(), user, today=today(), filters=filters,
            limit=current_app.config["NAME_ORDER_LIMIT"], page=page_from_request(),
        )  # fmt: skip
        if by_name is not None:
            return by_name.page, sort, False
    page = overview.caseload(
        session, user, today=today(), filters=filters, window=window_from_request(),
        sort=Sort.RECENT if sort is Sort.NAME else sort,
    )  # fmt: skip
    return page, (Sort.RECENT if sort is Sort.NAME else sort), sort is Sort.NAME


@bp.get("/")
@roles_required(Role.CASEWORKER)
def index() -> ResponseReturnValue:
    session, user = dbs(), actor()
    filters, sort, text = filters_from_request(), sort_from_request(), search_box.recalled()
    search_error, decrypted, name_order_refused = None, None, False
    try:
        if text:
            result = search.search_caseload(
                session, vault(), user, text, today=today(), filters=filters,
                page=page_from_request(),
            )  # fmt: skip
            page, decrypted = result.page, result.decrypted
        else:
            page, sort, name_order_refused = _caseload_page(sort, filters)
    except InvalidInput as exc:
        refuse_bad_cursor(exc)
        search_error = service_message(exc)
        page = overview.Page(items=[], page=1, per_page=overview.PER_PAGE, total=0)
    people = [row.person for row in page.items]
    # The caseload filtered to the people lost from view says why each one is.
    reasons = (
        lost_reasons(
            session,
            people,
            today=today(),
            days=filters.lost_days,
            contact_days=filters.lost_contact_days,
        )
        if filters.situation is Situation.LOST
        else {}
    )
    identities = identity.reveal_identities(
        vault(), session, user, people, "caseload", identity.SUMMARY_FIELDS
    )
    return render_template(
        "people/index.html",
        page=page,
        identities=identities,
        filters=filters,
        sort=sort,
        search_text=text,
        search_error=search_error,
        candidates=decrypted,
        lost_reasons=reasons,
        name_order_refused=name_order_refused,
        name_limit=current_app.config["NAME_ORDER_LIMIT"],
        cohorts=reference_items(session, ReferenceKind.COHORT),
        stages=reference_items(session, ReferenceKind.STAGE),
    )


@bp.post("/")
@roles_required(Role.CASEWORKER)
def search_people() -> ResponseReturnValue:
    """Keep the search typed (sealed, in the session) and show its results by a GET."""
    args: dict[str, Any] = {
        name: value
        for name, value in request.args.items()
        if name not in ("page", "sort", *CURSOR_FIELDS)
    }
    text = request.form.get("q", "").strip()[: search.QUERY_LIMIT]
    if not text:
        search_box.forget()
        args.pop(search_box.MARKER, None)
        return redirect(url_for("people.index", **args), 303)
    search_box.remember(text)
    args[search_box.MARKER] = "1"
    return redirect(url_for("people.index", **args), 303)


def _register_form() -> RegisterForm:
    session = dbs()
    form = RegisterForm()
    form.cohorts.choices = choices(session, ReferenceKind.COHORT)
    form.qpv.choices = [
        SelectChoice("", _("Not in a QPV / unknown")),
        *choices(session, ReferenceKind.QPV),
    ]
    form.sex.choices = [SelectChoice("", _("Not given")), *enum_choices(Sex)]
    form.education_level.choices = [SelectChoice("", _("Unknown")), *enum_choices(EducationLevel)]
    if not form.is_submitted():
        form.consent_on.data = today()
    return form


def _new_person(form: RegisterForm) -> NewPerson:
    consent = None
    if form.consent_method.data:
        consent = ConsentInput(
            method=ConsentMethod(form.consent_method.data),
            given_on=form.consent_on.data or today(),
        )
    return NewPerson(
        identity=identity_from(form),
        cohort_codes=list(form.cohorts.data or []),
        qpv_code=form.qpv.data or None,
        sex=Sex(form.sex.data) if form.sex.data else None,
        education_level=EducationLevel(form.education_level.data)
        if form.education_level.data
        else None,
        consent=consent,
    )


def _register_checked(form: RegisterForm) -> bool:
    """Every error of the registration form at once: the form's, the identity's, the consent
    date's (the rules of ``register_person``, which checks them again)."""
    valid = checked_identity_form(form, today())
    if form.consent_method.data and form.consent_on.data and form.consent_on.data > today():
        form.consent_on.errors = [
            *form.consent_on.errors,
            _("Consent cannot be dated in the future."),
        ]
        valid = False
    return valid


@bp.route("/new", methods=["GET", "POST"])
@keeps_typed_values
@roles_required(Role.CASEWORKER)
def register() -> ResponseReturnValue:
    session, user = dbs(), actor()
    form = _register_form()
    duplicates = None
    if form.is_submitted() and _register_checked(form):
        new = _new_person(form)
        try:
            with attempt():
                # A second submission of the form shows the person, not the duplicate step.
                submissions.ensure_unused(form)
                cleaned = identity.clean_identity(new.identity, today())
                duplicates = find_possible_duplicates(
                    session, vault(), user, cleaned, today=today()
                )
                if duplicates.found and not form.register_anyway.data:
                    # The lookup may have waited for a twin submission: check again.
                    submissions.ensure_unused(form)
                    return render_template("people/register.html", form=form, duplicates=duplicates)
                claimed = submissions.claim(form, "register")
                person = register_person(session, vault(), user, new, today=today())
                fulfil(session, claimed, url_for("people.detail", pseudonym=person.pseudonym))
        except AlreadySubmitted as exc:
            return submissions.already_recorded(exc, url_for("people.index"))
        except ServiceError as exc:
            attach_error(form, exc, {"cohort": "cohorts", "qpv": "qpv", "consent_on": "consent_on"})
        else:
            registered = _(
                "%(name)s is registered (%(pseudonym)s).", name=PERSON, pseudonym=person.pseudonym
            )
            flash_naming(person, registered)
            if person and not new.consent:
                flash(
                    _("Record the person's consent before handing them off to a partner."), "info"
                )
            return redirect(url_for("people.detail", pseudonym=person.pseudonym))
    return render_template("people/register.html", form=form, duplicates=duplicates)


@bp.get("/<pseudonym>")
@roles_required(Role.CASEWORKER)
def detail(pseudonym: str) -> ResponseReturnValue:
    return records.person_page(access.followed_person(dbs(), actor(), pseudonym, today()))

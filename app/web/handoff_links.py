"""Answering a hand-off from a mailed link, without an account (``app.services.handoffs.links``;
docs/security.md, "Hand-off links").

The token is the only credential: the pages are public in the authorisation matrix, every POST
carries a CSRF token and is rate-limited per client address like the sign-in page, and the
responses are never cached nor sent as a referrer. A wrong link (unknown, or bound to another
structure) is a 404, a dead one (used, revoked, expired, its hand-off moved on) a 410: the
same page, with nothing of the hand-off, and nothing changed. No page ever shows the person's
identity: what the receiver of a pending hand-off sees, before and after accepting.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from wtforms import SelectChoice

from app.domain.employment import ContractType
from app.domain.handoffs import BACKDATED_EVENTS, HandoffEvent, outcome_fits
from app.models import LinkScope, ReferenceKind
from app.services.errors import N_, InvalidInput, ServiceError
from app.services.handoffs import link_offers, links
from app.services.handoffs import lists as handoff_lists
from app.services.handoffs.links import LinkCheck, LinkNotValid, LinkState
from app.services.repeats import AlreadyRecorded
from app.services.security import invitations
from app.services.structures import list_structures, structure_by_id
from app.unit_of_work import attempt
from app.web.auth.throttle import limit_anonymous_posts
from app.web.context import dbs, today, vault
from app.web.forms_support import attach_error, choices, enum_choices, service_message
from app.web.handoffs.dates import prepare_date
from app.web.handoffs.forms import ActionForm, employment_from
from app.web.labels import enum_label
from app.web.manage.forms import RowActionForm, base_url, invitation_lifetime

bp = Blueprint("handoff_links", __name__, url_prefix="/answer")


@bp.after_request
def _private(response: Response) -> Response:
    """The token is in the address: never sent on as a referrer, never cached."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _now() -> datetime:
    return datetime.now(UTC)


def _refusal(state: LinkState, *, used: bool = False) -> ResponseReturnValue:
    """One page for every link that cannot act: 404 for a wrong one, 410 for a dead one. A link
    its holder has used (the back button after answering) says so: its answer is recorded."""
    status = 410 if state is LinkState.GONE else 404
    page = render_template("handoff_links/invalid.html", gone=state is LinkState.GONE, used=used)
    return page, status


def _live_link(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """Check the link first: a view runs only for a live one (given as ``check``)."""

    @wraps(view)
    def checked(token: str, **kwargs: Any) -> ResponseReturnValue:
        check = links.check_link(dbs(), token, now=_now())
        if check.state is not LinkState.LIVE:
            used = check.link is not None and check.link.used_at is not None
            return _refusal(check.state, used=used)
        return view(token, check=check, **kwargs)

    return checked


def _redirect_choices(check: LinkCheck) -> list[SelectChoice]:
    handoff = check.handoff
    excluded = {handoff.to_structure_id, handoff.from_structure_id}
    return [SelectChoice("", _("Choose a partner"))] + [
        SelectChoice(str(s.id), s.name)
        for s in list_structures(dbs(), include_inactive=False)
        if s.id not in excluded
    ]


def _action_form(check: LinkCheck, event: HandoffEvent, **options: object) -> ActionForm:
    """The form of one action, prefixed so that several forms on a page keep unique ids."""
    session = dbs()
    form = ActionForm(prefix=event.value, on=today(), **options)
    choose = SelectChoice("", _("Choose…"))
    form.reason.choices = [choose, *choices(session, ReferenceKind.DECLINE_REASON)]
    form.outcome.choices = [
        choose,
        *[c for c in choices(session, ReferenceKind.OUTCOME) if outcome_fits(event, str(c.value))],
    ]
    form.redirect_to.choices = _redirect_choices(check)
    form.contract_type.choices = [choose, *enum_choices(ContractType)]
    prepare_date(form, check.handoff, event)
    return form


def _page(
    token: str, check: LinkCheck, failed: dict[HandoffEvent, ActionForm] | None = None
) -> str:
    handoff = check.handoff
    events = links.link_events(check)
    forms = {event: _action_form(check, event, formdata=None) for event in events}
    forms.update({event: form for event, form in (failed or {}).items() if event in forms})
    # The note of the sender only (what the receiver reads before accepting); no identity.
    note = handoff_lists.handoff_texts(dbs(), vault(), handoff).get(handoff.id)
    return render_template(
        "handoff_links/page.html",
        token=token,
        handoff=handoff,
        person=handoff.beneficiary,
        scope=check.link.scope.value if check.link else "",
        note=note,
        barriers=handoff_lists.person_barriers(dbs(), handoff.beneficiary_id),
        events=events,
        forms=forms,
        backdated=BACKDATED_EVENTS,
        HandoffEvent=HandoffEvent,
        today=today(),
        account_form=RowActionForm(formdata=None, confirm="y"),
        account_address=link_offers.card_address(dbs(), handoff.to_structure_id),
        has_accounts=invitations.has_active_account(dbs(), handoff.to_structure_id),
    )


@bp.get("/done")
def done() -> ResponseReturnValue:
    """Where an answer that spent its link lands: the message says what was recorded."""
    return render_template("handoff_links/done.html")


@bp.get("/<token>")
@_live_link
def page(token: str, *, check: LinkCheck) -> ResponseReturnValue:
    return _page(token, check)


def _arguments(check: LinkCheck, event: HandoffEvent, form: ActionForm) -> dict[str, Any]:
    """What the service needs for ``event``, read from the form (``InvalidInput`` if missing)."""
    arguments: dict[str, Any] = {"message": form.message.data}
    if event is HandoffEvent.DECLINE:
        arguments["reason_code"] = form.reason.data or None
    elif event in (HandoffEvent.COMPLETE, HandoffEvent.NOT_COMPLETE):
        arguments["reason_code"] = form.outcome.data or None
    elif event is HandoffEvent.REDIRECT:
        target = structure_by_id(dbs(), form.redirect_to.data)
        if target is None:
            raise InvalidInput(N_("Choose the partner to redirect to."), field="redirect_to")
        arguments["redirect_to"] = target
    if event in BACKDATED_EVENTS:
        arguments["on"] = form.on.data or today()
    if event is HandoffEvent.COMPLETE:
        arguments["employment"] = employment_from(form, form.on.data or today())
    return arguments


@bp.post("/<token>/<event_name>")
@limit_anonymous_posts
@_live_link
def act(token: str, event_name: str, *, check: LinkCheck) -> ResponseReturnValue:
    if event_name not in {event.value for event in links.link_events(check)}:
        return redirect(url_for("handoff_links.page", token=token))
    event = HandoffEvent(event_name)
    form = _action_form(check, event)
    if not form.validate_on_submit():
        return _page(token, check, {event: form}), 400
    try:
        with attempt():
            answer = links.act_by_link(
                dbs(), vault(), token, event, now=_now(), **_arguments(check, event, form)
            )
    except LinkNotValid as exc:
        return _refusal(exc.state)
    except AlreadyRecorded:
        return redirect(url_for("handoff_links.page", token=token))
    except ServiceError as exc:
        field = "reason" if event is HandoffEvent.DECLINE else "outcome"
        attach_error(form, exc, {"reason": field})
        return _page(token, check, {event: form}), 400
    flash(_("Done: %(what)s.", what=enum_label(event).lower()), "success")
    if answer.follow_through_token is not None:
        # Accepted: the follow-through link's page (also mailed) says what comes next.
        return redirect(url_for("handoff_links.page", token=answer.follow_through_token))
    if event is HandoffEvent.FIRST_CONTACT:
        return redirect(url_for("handoff_links.page", token=token))
    return redirect(url_for("handoff_links.done"))


@bp.post("/<token>/account")
@limit_anonymous_posts
@_live_link
def request_account(token: str, *, check: LinkCheck) -> ResponseReturnValue:
    """One click: the structure's contact address is invited to create its first account
    (offered on the follow-through link's page only, as an action not offered is by ``act``)."""
    form = RowActionForm()
    if check.link is None or check.link.scope is not LinkScope.FOLLOW_THROUGH:
        return redirect(url_for("handoff_links.page", token=token))
    if not form.validate_on_submit():
        return redirect(url_for("handoff_links.page", token=token))
    try:
        with attempt():
            address = links.request_account(
                dbs(), token, now=_now(), base_url=base_url(), lifetime=invitation_lifetime()
            )
    except LinkNotValid as exc:
        return _refusal(exc.state)
    except ServiceError as exc:
        flash(service_message(exc), "error")
        return redirect(url_for("handoff_links.page", token=token))
    flash(
        _("An invitation to create an account was sent to %(address)s.", address=address), "success"
    )
    return redirect(url_for("handoff_links.page", token=token))

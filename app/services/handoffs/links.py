"""Answering a hand-off without an account, from a link mailed to the structure's contact
address (docs/security.md, "Hand-off links").

*Offer* (``link_offers``). When a hand-off is sent (or its sender reminds the partner) to a structure that has no
active caseworker account but a contact e-mail in the directory, ``offer_answer_link`` stores a
new ``answer`` link (256-bit token, SHA-256 kept) bound to that hand-off and structure, expiring
with the hand-off's own deadline, and queues a mail holding it (text written at once: the token
is in that mail and nowhere else).

*Use.* ``check_link`` tells a live link from a wrong one (unknown, or bound to a structure that
is not the hand-off's receiver: the same answer) and a dead one (used, revoked, expired, or a
hand-off no longer in a state the link may act on). ``act_by_link`` applies the answer through
the same use case as a signed-in receiver (``apply_event``: same checks, state machine, history,
audit and mails to the sender) with the actor ``StructureByLink`` - no user, the structure, the
channel ``email_link``. An ``answer`` link is spent by its one action; after an acceptance a
``follow_through`` link is given (on the page and by mail) to report the first contact, then
the outcome, which spends it. Every transition revokes what it makes useless
(``link_tokens.revoke_after_transition``).

Nothing here ever reads the person's identity: the link pages show what the receiver of a
pending hand-off sees, before and after accepting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain.actors import StructureByLink
from app.domain.employment import Employment
from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.domain.roles import Role
from app.models import Handoff, HandoffLink, LinkScope, Structure
from app.services.errors import N_, Conflict, InvalidInput
from app.services.handoffs.link_offers import card_address, offer_follow_through
from app.services.handoffs.link_tokens import token_digest
from app.services.handoffs.transitions import apply_event
from app.services.security import invitations
from app.services.security.vault import Vault

# What each scope of link may do.
EVENTS_OF_SCOPE: dict[LinkScope, tuple[HandoffEvent, ...]] = {
    LinkScope.ANSWER: (HandoffEvent.ACCEPT, HandoffEvent.DECLINE, HandoffEvent.REDIRECT),
    LinkScope.FOLLOW_THROUGH: (
        HandoffEvent.FIRST_CONTACT,
        HandoffEvent.COMPLETE,
        HandoffEvent.NOT_COMPLETE,
    ),
}
# The statuses in which a link of each scope still has something to do.
LIVE_STATUSES: dict[LinkScope, frozenset[HandoffStatus]] = {
    LinkScope.ANSWER: frozenset({HandoffStatus.SENT}),
    LinkScope.FOLLOW_THROUGH: frozenset({HandoffStatus.ACCEPTED, HandoffStatus.IN_PROGRESS}),
}
# Events that spend their link (the others leave it for the next step).
SPENDING = frozenset(
    {
        HandoffEvent.ACCEPT,
        HandoffEvent.DECLINE,
        HandoffEvent.REDIRECT,
        HandoffEvent.COMPLETE,
        HandoffEvent.NOT_COMPLETE,
    }
)
MAX_TOKEN_LENGTH = 128

# -- checking a link -------------------------------------------------------------------------


class LinkState(StrEnum):
    LIVE = "live"
    WRONG = "wrong"  # unknown, malformed, or bound to a structure that is not the receiver
    GONE = "gone"  # used, revoked, expired, or its hand-off moved on


@dataclass(frozen=True, slots=True)
class LinkCheck:
    state: LinkState
    link: HandoffLink | None = None

    @property
    def handoff(self) -> Handoff:
        assert self.link is not None
        return self.link.handoff


class LinkNotValid(Exception):
    """The link cannot act (``state``: wrong or gone); nothing was changed."""

    def __init__(self, state: LinkState) -> None:
        super().__init__(state.value)
        self.state = state


def check_link(session: Session, token: str, *, now: datetime) -> LinkCheck:
    """What ``token`` is now: a live link (with its hand-off), a wrong one or a dead one."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return LinkCheck(LinkState.WRONG)
    link = session.scalar(select(HandoffLink).where(HandoffLink.token_hash == token_digest(token)))
    if link is None or link.structure_id != link.handoff.to_structure_id:
        return LinkCheck(LinkState.WRONG)
    handoff = link.handoff
    if (
        link.used_at is not None
        or link.revoked_at is not None
        or link.expires_at <= now
        or handoff.beneficiary.erased_at is not None
        or handoff.status not in LIVE_STATUSES[link.scope]
    ):
        return LinkCheck(LinkState.GONE, link)
    return LinkCheck(LinkState.LIVE, link)


def link_events(check: LinkCheck) -> list[HandoffEvent]:
    """What the page of a live link offers now."""
    if check.state is not LinkState.LIVE or check.link is None:
        return []
    status = check.handoff.status
    if check.link.scope is LinkScope.ANSWER:
        return list(EVENTS_OF_SCOPE[LinkScope.ANSWER])
    if status is HandoffStatus.ACCEPTED:
        return [HandoffEvent.FIRST_CONTACT, HandoffEvent.NOT_COMPLETE]
    return [HandoffEvent.COMPLETE, HandoffEvent.NOT_COMPLETE]


# -- acting through a link -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LinkAnswer:
    handoff: Handoff  # the hand-off answered (a redirect's new one is ``redirected``)
    event: HandoffEvent
    follow_through_token: str | None = None  # given after an acceptance
    redirected: Handoff | None = None


def act_by_link(
    session: Session,
    vault: Vault,
    token: str,
    event: HandoffEvent,
    *,
    now: datetime,
    on: date | None = None,
    reason_code: str | None = None,
    message: str | None = None,
    redirect_to: Structure | None = None,
    employment: Employment | None = None,
) -> LinkAnswer:
    """Apply ``event`` to the hand-off of the link ``token`` as its structure, by e-mail link.

    Raises ``LinkNotValid`` (wrong or dead link, or used meanwhile by another request),
    ``InvalidInput`` for an action the link does not offer now, and whatever ``apply_event``
    raises (a missing reason, a day out of bounds, ``Conflict``...), before any change that
    the caller's savepoint would keep.
    """
    check = check_link(session, token, now=now)
    if check.state is not LinkState.LIVE or check.link is None:
        raise LinkNotValid(check.state)
    link, handoff = check.link, check.handoff
    if event not in link_events(check):
        raise InvalidInput(N_("This action is not possible on this hand-off now."))
    if redirect_to is not None and redirect_to.id in (
        handoff.to_structure_id,
        handoff.from_structure_id,
    ):
        raise InvalidInput(N_("Choose the partner to redirect to."), field="redirect_to")
    if event in SPENDING:
        _spend(session, link, now)
    actor = StructureByLink(link.structure_id)
    result = apply_event(
        session,
        vault,
        actor,
        handoff,
        event,
        now=now,
        on=on,
        reason_code=reason_code,
        message=message,
        redirect_to=redirect_to,
        employment=employment,
    )
    follow_through = None
    if event is HandoffEvent.ACCEPT:
        follow_through = offer_follow_through(session, handoff, link.structure_id, now=now)
    redirected = result if result is not handoff else None
    return LinkAnswer(handoff, event, follow_through, redirected)


def _spend(session: Session, link: HandoffLink, now: datetime) -> None:
    """Mark ``link`` used, once only even for two requests at once (``LinkNotValid``)."""
    spent = session.execute(
        update(HandoffLink)
        .where(
            HandoffLink.id == link.id,
            HandoffLink.used_at.is_(None),
            HandoffLink.revoked_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise LinkNotValid(LinkState.GONE)
    session.expire(link, ["used_at"])


# -- an account for a structure that answers by link ----------------------------------------


def request_account(
    session: Session,
    token: str,
    *,
    now: datetime,
    base_url: str,
    lifetime: timedelta,
) -> str:
    """Invite the contact address of a structure that accepted a hand-off by link to create
    its first account (which then manages the structure and invites its colleagues). Only from
    a live follow-through link, only while the structure has no account. Returns the address
    invited; ``LinkNotValid``, ``InvalidInput`` or ``Conflict`` before any change."""
    check = check_link(session, token, now=now)
    if check.state is not LinkState.LIVE or check.link is None:
        raise LinkNotValid(check.state)
    if check.link.scope is not LinkScope.FOLLOW_THROUGH:
        raise LinkNotValid(LinkState.WRONG)
    structure = check.handoff.to_structure
    address = card_address(session, structure.id)
    if address is None:
        raise InvalidInput(
            N_("Your structure's directory card has no contact e-mail to send an invitation to."),
            field="account",
        )
    if invitations.has_active_account(session, structure.id):
        raise Conflict(
            N_("Your structure has accounts already: ask its manager to invite you."),
            field="account",
        )
    invitations.invite(
        session,
        None,
        email=address,
        role=Role.CASEWORKER,
        structure=structure,
        manager=True,
        now=now,
        base_url=base_url,
        lifetime=lifetime,
        channel=invitations.CHANNEL_HANDOFF_LINK,
    )
    return address

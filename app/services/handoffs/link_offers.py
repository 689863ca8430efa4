"""Offering hand-off links: the ``answer`` link mailed to a structure without an account when
a hand-off is sent to it (or its sender reminds it), and the ``follow_through`` link given
after an acceptance by link. Each is stored hashed (``link_tokens``) and mailed with its text
written at once, like a password-reset link: the token is in the mail and nowhere else.
The use of the links is ``app.services.handoffs.links``.
"""

from __future__ import annotations

import gettext
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.effective_dates import FIELD_ZONE
from app.domain.french import phrases
from app.domain.handoffs import HandoffStatus
from app.domain.roles import Role
from app.models import (
    Beneficiary,
    Handoff,
    LinkScope,
    MailKind,
    MailMessage,
    StructureCard,
    User,
)
from app.services.errors import N_
from app.services.handoffs.link_tokens import new_link, revoke_links
from app.services.mail.composing import TRANSLATIONS
from app.services.mail.texts import DEFAULT_LOCALE, EVENT_LINES, GREETING, SUBJECT_LENGTH
from app.services.security import audit
from app.services.structures import structure_article

ANSWER_SUBJECT = N_("[Relais] New hand-off from %(sender)s: %(pseudonym)s")
ANSWER_BODY = N_(
    "%(receiver)s has no account in Relais: answer from this link (accept, decline or "
    "redirect). It works once, for this hand-off only, until %(deadline)s:"
)
FOLLOW_THROUGH_SUBJECT = N_("[Relais] Hand-off accepted, what follows: %(pseudonym)s")
FOLLOW_THROUGH_BODY = N_(
    "%(receiver)s has accepted the hand-off of %(pseudonym)s from %(sender)s. %(sender)s "
    "gives the person your contact details. When you have met the person, then when the "
    "hand-off ends, say so from this link (until %(deadline)s):"
)
# The link dies at the moment of the day it was sent, not at the day's end: the time is said.
DEADLINE = N_("%(day)s at %(time)s")
LINK_PRIVACY = N_(
    "The link shows what you need to answer (pseudonym, cohort, age band, neighbourhood, "
    "purpose, the sender's note), never the person's identity. Do not forward this mail: "
    "whoever holds the link may answer for your structure."
)
LINK_WHY = N_(
    "You receive this message at the contact address of %(of_structure)s in the Relais "
    "directory. It is sent automatically: please do not reply."
)


@dataclass(frozen=True, slots=True)
class LinkPolicy:
    base_url: str  # RELAIS_PUBLIC_BASE_URL: the address of Relais in mailed links
    expiry_days: int  # RELAIS_HANDOFF_EXPIRY_DAYS: an answer link dies with its hand-off
    follow_through_days: int  # RELAIS_HANDOFF_FOLLOW_THROUGH_LINK_DAYS


# Set by ``create_app`` (one application per process), as the audit key: the hand-off services
# queue links from everywhere (sending, reminders) without the application's configuration.
_policy: list[LinkPolicy] = []


def configure(policy: LinkPolicy) -> None:
    _policy[:] = [policy]


def link_policy() -> LinkPolicy:
    if not _policy:
        raise RuntimeError("hand-off links are not configured (create_app configures them)")
    return _policy[0]


def link_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/answer/{token}"


# -- offering a link -------------------------------------------------------------------------


def card_address(session: Session, structure_id: int) -> str | None:
    """The contact e-mail of the structure's directory card, if any."""
    address = session.scalar(
        select(StructureCard.email).where(StructureCard.structure_id == structure_id)
    )
    return address.strip() if address and "@" in address else None


def link_address(session: Session, structure_id: int) -> str | None:
    """Where a structure gets answer links: its directory contact e-mail, when it has no
    active caseworker account (the accounts get the ordinary mail and answer signed in)."""
    has_accounts = session.scalar(
        select(
            exists().where(
                User.structure_id == structure_id,
                User.role == Role.CASEWORKER,
                User.active.is_(True),
                User.api_client.is_(False),  # a structure with only API tokens answers by link
            )
        )
    )
    return None if has_accounts else card_address(session, structure_id)


def offer_answer_link(session: Session, handoff: Handoff, *, now: datetime) -> str | None:
    """Mail the receiving structure a link to answer ``handoff``, if it answers by link (see
    ``link_address``); an older answer link of the hand-off is revoked (a reminder replaces
    it). Returns the token (for tests; the mail holds it), or ``None`` when none is sent."""
    address = link_address(session, handoff.to_structure_id)
    if address is None or handoff.status is not HandoffStatus.SENT:
        return None
    policy = link_policy()
    expires_at = handoff.sent_at + timedelta(days=policy.expiry_days)
    if expires_at <= now:
        return None
    revoke_links(session, handoff.id, LinkScope.ANSWER, now=now)
    token = new_link(
        session,
        handoff,
        handoff.to_structure_id,
        LinkScope.ANSWER,
        now=now,
        expires_at=expires_at,
    )
    _queue_link_mail(session, handoff, LinkScope.ANSWER, address, token, expires_at)
    _audit_issue(session, handoff, LinkScope.ANSWER)
    return token


def offer_follow_through(
    session: Session, handoff: Handoff, structure_id: int, *, now: datetime
) -> str:
    expires_at = now + timedelta(days=link_policy().follow_through_days)
    token = new_link(
        session, handoff, structure_id, LinkScope.FOLLOW_THROUGH, now=now, expires_at=expires_at
    )
    address = card_address(session, structure_id)
    if address is not None:
        _queue_link_mail(session, handoff, LinkScope.FOLLOW_THROUGH, address, token, expires_at)
    _audit_issue(session, handoff, LinkScope.FOLLOW_THROUGH)
    return token


def _audit_issue(session: Session, handoff: Handoff, scope: LinkScope) -> None:
    audit.record(
        session,
        None,
        AuditAction.HANDOFF_LINK_ISSUE,
        handoff,
        beneficiary_id=handoff.beneficiary_id,
        structure=handoff.to_structure_id,
        scope=scope.value,
    )


@lru_cache(maxsize=4)
def _translations(locale: str) -> gettext.NullTranslations:
    return gettext.translation(
        "messages", localedir=str(TRANSLATIONS), languages=[locale], fallback=True
    )


def _queue_link_mail(
    session: Session,
    handoff: Handoff,
    scope: LinkScope,
    address: str,
    token: str,
    expires_at: datetime,
) -> None:
    """Queue the mail holding ``token``, its text written now in the default language (a
    contact address has no language of its own)."""
    locale = DEFAULT_LOCALE
    t = _translations(locale).gettext
    sender = phrases(handoff.from_structure.name, structure_article(handoff.from_structure), locale)
    receiver = phrases(handoff.to_structure.name, structure_article(handoff.to_structure), locale)
    pseudonym = session.scalar(
        select(Beneficiary.pseudonym).where(Beneficiary.id == handoff.beneficiary_id)
    )
    deadline = expires_at.astimezone(FIELD_ZONE)
    values = {
        "pseudonym": pseudonym or "",
        "sender": sender.the,
        "receiver": receiver.the,
        "of_structure": receiver.of,
        "deadline": t(DEADLINE) % {"day": f"{deadline:%d/%m/%Y}", "time": f"{deadline:%H:%M}"},
    }
    if scope is LinkScope.ANSWER:
        kind, subject = MailKind.HANDOFF_ANSWER_LINK, ANSWER_SUBJECT
        lines = [_capital(t(EVENT_LINES[MailKind.HANDOFF_RECEIVED]) % values), t(ANSWER_BODY)]
    else:
        kind, subject = MailKind.HANDOFF_FOLLOW_THROUGH_LINK, FOLLOW_THROUGH_SUBJECT
        lines = [t(FOLLOW_THROUGH_BODY)]
    paragraphs = [
        t(GREETING),
        *(_capital(line % values) for line in lines),
        link_url(link_policy().base_url, token),
        f"{t(LINK_PRIVACY)}\n{t(LINK_WHY) % values}",
    ]
    session.add(
        MailMessage(
            id=uuid.uuid4(),
            kind=kind,
            handoff_id=handoff.id,
            to_address=address,
            locale=locale,
            subject=" ".join((t(subject) % values).split())[:SUBJECT_LENGTH],
            body_text="\n\n".join(paragraphs) + "\n",
            attempts=0,
        )
    )


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]

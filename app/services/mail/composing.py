"""What a mail about a hand-off may say (``MailFacts``: pseudonym, structure names, a link and
nothing else), and its text in the recipient's language."""

from __future__ import annotations

import gettext
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.domain.french import Article, phrases
from app.models import Beneficiary, Handoff, MailKind, MailMessage, Structure
from app.services.mail.texts import (
    DEFAULT_LOCALE,
    EVENT_LINES,
    GREETING,
    LINK_LINE,
    LOCALES,
    PRIVACY_LINE,
    REDIRECTED_ELSEWHERE,
    SUBJECT_LENGTH,
    SUBJECTS,
    TO_RECEIVER,
    WHY_LINE,
)
from app.services.mail.transport import MailError
from app.services.structures import structure_article

TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"


@dataclass(frozen=True, slots=True)
class MailFacts:
    """Everything a hand-off mail may say. Nothing else is given to ``render``."""

    pseudonym: str
    sender: str  # the sending structure's name
    receiver: str  # the receiving structure's name
    link: str
    redirected_to: str | None = None  # the structure a redirect sent the person on to
    # The articles of those names in French ("la Mission Locale"); None: derived from the name.
    sender_article: Article | None = None
    receiver_article: Article | None = None
    redirected_article: Article | None = None


@dataclass(frozen=True, slots=True)
class RenderedMail:
    subject: str
    body_text: str


@lru_cache(maxsize=8)
def _translations(locale: str) -> gettext.NullTranslations:
    """The application's catalog for ``locale`` (English msgids: no catalog needed)."""
    return gettext.translation(
        "messages", localedir=str(TRANSLATIONS), languages=[locale], fallback=True
    )


def handoff_link(base_url: str, handoff_id: uuid.UUID) -> str:
    return f"{base_url.rstrip('/')}/handoffs/{handoff_id}"


def render(kind: MailKind, facts: MailFacts, locale: str) -> RenderedMail:
    """The subject and plain-text body of a ``kind`` mail, in ``locale``."""
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    t = _translations(locale).gettext
    sender = phrases(facts.sender, facts.sender_article, locale)
    receiver = phrases(facts.receiver, facts.receiver_article, locale)
    other = phrases(facts.redirected_to or "", facts.redirected_article, locale)
    # The recipients of a received hand-off or a reminder work for the receiver; all others
    # for the sender.
    own = receiver if kind in TO_RECEIVER else sender
    values = {
        "pseudonym": facts.pseudonym,
        "sender": sender.the,
        "receiver": receiver.the,
        "other": other.the,
        "structure": own.the,
        "of_structure": own.of,
        "link": facts.link,
    }
    event_line = EVENT_LINES[kind]
    if kind is MailKind.HANDOFF_REDIRECTED and not facts.redirected_to:
        event_line = REDIRECTED_ELSEWHERE
    subject = " ".join((t(SUBJECTS[kind]) % values).split())[:SUBJECT_LENGTH]
    paragraphs = (
        t(GREETING),
        _sentence(t(event_line) % values),
        t(LINK_LINE) % values,
        f"{t(PRIVACY_LINE)}\n{t(WHY_LINE) % values}",
    )
    return RenderedMail(subject=subject, body_text="\n\n".join(paragraphs) + "\n")


def _sentence(text: str) -> str:
    """A sentence that starts with a structure's name ("la Mission Locale a accepté…") starts
    with a capital."""
    return text[:1].upper() + text[1:]


def handoff_facts(session: Session, handoff_id: uuid.UUID, *, base_url: str) -> MailFacts | None:
    """What a mail about this hand-off may say now (``None`` when it no longer exists)."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        return None
    pseudonym = session.scalar(
        select(Beneficiary.pseudonym).where(Beneficiary.id == handoff.beneficiary_id)
    )
    redirected_to = session.scalar(
        select(Structure)
        .join(Handoff, Handoff.to_structure_id == Structure.id)
        .where(Handoff.parent_id == handoff.id)
        .order_by(Handoff.sent_at)
        .limit(1)
    )
    return _facts(handoff, pseudonym or "", redirected_to, base_url)


def _facts(
    handoff: Handoff, pseudonym: str, redirected_to: Structure | None, base_url: str
) -> MailFacts:
    return MailFacts(
        pseudonym=pseudonym,
        sender=handoff.from_structure.name,
        receiver=handoff.to_structure.name,
        link=handoff_link(base_url, handoff.id),
        redirected_to=redirected_to.name if redirected_to is not None else None,
        sender_article=structure_article(handoff.from_structure),
        receiver_article=structure_article(handoff.to_structure),
        redirected_article=structure_article(redirected_to) if redirected_to else None,
    )


def render_message(session: Session, message: MailMessage, *, base_url: str) -> RenderedMail:
    """The stored text of ``message``, or its text rendered now if it was never sent."""
    if message.subject is not None and message.body_text is not None:
        return RenderedMail(message.subject, message.body_text)
    facts = (
        handoff_facts(session, message.handoff_id, base_url=base_url)
        if message.handoff_id is not None
        else None
    )
    if facts is None:
        raise MailError("handoff-missing", permanent=True)
    return render(message.kind, facts, message.locale)


# -- senders ---------------------------------------------------------------------------------


def preview_messages(
    session: Session, messages: Sequence[MailMessage], *, base_url: str
) -> list[RenderedMail | None]:
    """The text of each message as ``render_message`` gives it (``None`` where it cannot be
    rendered), for a whole page in three queries whatever its length."""
    ids = {m.handoff_id for m in messages if m.body_text is None and m.handoff_id is not None}
    handoffs = {
        h.id: h
        for h in session.scalars(
            select(Handoff)
            .where(Handoff.id.in_(ids))
            .options(
                joinedload(Handoff.from_structure),
                joinedload(Handoff.to_structure),
                joinedload(Handoff.beneficiary),
            )
        ).unique()
    }
    redirected: dict[uuid.UUID, Structure] = {}
    for parent_id, structure in session.execute(
        select(Handoff.parent_id, Structure)
        .join(Structure, Handoff.to_structure_id == Structure.id)
        .where(Handoff.parent_id.in_(ids))
        .order_by(Handoff.sent_at.desc())
    ):
        if parent_id is not None:
            redirected[parent_id] = structure  # the earliest redirect wins, as in ``handoff_facts``
    previews: list[RenderedMail | None] = []
    for message in messages:
        if message.subject is not None and message.body_text is not None:
            previews.append(RenderedMail(message.subject, message.body_text))
            continue
        handoff = handoffs.get(message.handoff_id) if message.handoff_id else None
        if handoff is None:
            previews.append(None)
            continue
        facts = _facts(handoff, handoff.beneficiary.pseudonym, redirected.get(handoff.id), base_url)
        previews.append(render(message.kind, facts, message.locale))
    return previews

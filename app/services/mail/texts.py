"""What each kind of hand-off mail says: English msgids marked with ``N_``, translated at
delivery into the recipient's language."""

from __future__ import annotations

from app.domain.handoffs import HandoffEvent
from app.models import MailKind
from app.services.errors import N_

DEFAULT_LOCALE = "fr"
LOCALES = frozenset({"fr", "en"})
SUBJECT_LENGTH = 300

KIND_OF_EVENT: dict[HandoffEvent, MailKind] = {
    HandoffEvent.SEND: MailKind.HANDOFF_RECEIVED,
    HandoffEvent.ACCEPT: MailKind.HANDOFF_ACCEPTED,
    HandoffEvent.DECLINE: MailKind.HANDOFF_DECLINED,
    HandoffEvent.REDIRECT: MailKind.HANDOFF_REDIRECTED,
    HandoffEvent.EXPIRE: MailKind.HANDOFF_EXPIRED,
    HandoffEvent.COMPLETE: MailKind.HANDOFF_COMPLETED,
    HandoffEvent.NOT_COMPLETE: MailKind.HANDOFF_NOT_COMPLETED,
    HandoffEvent.REMIND: MailKind.HANDOFF_REMINDER,
}

# Kinds written to the receiving structure; the others go to the sender.
TO_RECEIVER = frozenset({MailKind.HANDOFF_RECEIVED, MailKind.HANDOFF_REMINDER})

# -- the texts -------------------------------------------------------------------------------
# Placeholders: %(pseudonym)s, %(sender)s and %(receiver)s (structure names), %(other)s (the
# structure a hand-off was redirected to), %(structure)s (the recipient's), %(link)s. In French
# a structure's name comes with its article ("la Mission Locale", ``app/domain/french.py``);
# %(of_structure)s is the recipient's after "de" ("du CCAS"), the English name alone. A line
# that starts with a name is given its capital when the mail is composed.

SUBJECTS: dict[MailKind, str] = {
    MailKind.HANDOFF_RECEIVED: N_("[Relais] New hand-off from %(sender)s: %(pseudonym)s"),
    MailKind.HANDOFF_ACCEPTED: N_("[Relais] Hand-off accepted by %(receiver)s: %(pseudonym)s"),
    MailKind.HANDOFF_DECLINED: N_("[Relais] Hand-off declined by %(receiver)s: %(pseudonym)s"),
    MailKind.HANDOFF_REDIRECTED: N_("[Relais] Hand-off redirected by %(receiver)s: %(pseudonym)s"),
    MailKind.HANDOFF_EXPIRED: N_("[Relais] Hand-off expired without answer: %(pseudonym)s"),
    MailKind.HANDOFF_COMPLETED: N_("[Relais] Hand-off completed: %(pseudonym)s"),
    MailKind.HANDOFF_NOT_COMPLETED: N_(
        "[Relais] Hand-off closed without completion: %(pseudonym)s"
    ),
    MailKind.HANDOFF_REMINDER: N_(
        "[Relais] Reminder: hand-off from %(sender)s waiting for your answer: %(pseudonym)s"
    ),
}

EVENT_LINES: dict[MailKind, str] = {
    MailKind.HANDOFF_RECEIVED: N_(
        "%(sender)s has handed off the person %(pseudonym)s to %(receiver)s."
    ),
    MailKind.HANDOFF_ACCEPTED: N_("%(receiver)s has accepted the hand-off of %(pseudonym)s."),
    MailKind.HANDOFF_DECLINED: N_("%(receiver)s has declined the hand-off of %(pseudonym)s."),
    MailKind.HANDOFF_REDIRECTED: N_(
        "%(receiver)s has redirected the hand-off of %(pseudonym)s to %(other)s."
    ),
    MailKind.HANDOFF_EXPIRED: N_(
        "The hand-off of %(pseudonym)s to %(receiver)s has expired without an answer."
    ),
    MailKind.HANDOFF_COMPLETED: N_(
        "%(receiver)s has closed the hand-off of %(pseudonym)s: it was completed."
    ),
    MailKind.HANDOFF_NOT_COMPLETED: N_(
        "%(receiver)s has closed the hand-off of %(pseudonym)s without completion."
    ),
    MailKind.HANDOFF_REMINDER: N_(
        "%(sender)s reminds %(receiver)s of the hand-off of the person %(pseudonym)s, still "
        "waiting for an answer: accept it, decline it or redirect it."
    ),
}
REDIRECTED_ELSEWHERE = N_(
    "%(receiver)s has redirected the hand-off of %(pseudonym)s to another partner."
)
GREETING = N_("Hello,")
LINK_LINE = N_("See the hand-off in Relais: %(link)s")
PRIVACY_LINE = N_(
    "To protect the people followed, this message holds no personal data: sign in to "
    "Relais to read more."
)
WHY_LINE = N_(
    "You receive this message as a caseworker of %(of_structure)s. It is sent automatically: "
    "please do not reply."
)

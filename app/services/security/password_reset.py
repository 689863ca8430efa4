"""Password reset by e-mail ("Forgotten password?").

*Request.* ``request_reset`` gives no answer: the page says the same thing whether an account
uses the address or not. For an active account it revokes the account's open links, stores a
new one as the SHA-256 of a 256-bit random token, and queues a mail holding the link in the
outbox (``app.services.mail``), with its text written now (the token is in that mail and
nowhere else). An account gets at most one mail every ``interval``; an unknown address or a
closed account gets no mail, and the same hashing work is done so that the answer takes about
the same time.

*Use.* ``find_link`` tells whether a token is a live link (unknown, used, revoked or expired
are all "no"). ``complete_reset`` checks the new password against the policy, the code of the
second factor when the account has one, marks the link used (once only, even with two
requests at once), sets the password - which ends every session of the account - and audits.
Nobody is signed in by a reset.
"""

from __future__ import annotations

import gettext
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.crypto import KeyRing
from app.domain.audit import AuditAction
from app.models import MailKind, MailMessage, PasswordResetToken, User
from app.services.errors import N_, InvalidInput
from app.services.mail.composing import TRANSLATIONS
from app.services.mail.texts import DEFAULT_LOCALE, LOCALES
from app.services.security import accounts, audit, second_factor
from app.services.security.passwords import check_password_policy

TOKEN_BYTES = 32  # 256 bits

SUBJECT = N_("Relais: choose a new password")
BODY = N_(
    "Hello,\n\n"
    "Someone asked to choose a new password for the Relais account of this address. To "
    "choose one, open this link within %(delay)s (it works once):\n\n"
    "%(link)s\n\n"
    "If you did not ask for it, ignore this mail: your password does not change."
)


@dataclass(frozen=True, slots=True)
class ResetPolicy:
    lifetime: timedelta  # how long a link works
    interval: timedelta  # at most one mail per account in this time


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def reset_link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/password/reset/{token}"


@lru_cache(maxsize=4)
def _translations(locale: str) -> gettext.NullTranslations:
    return gettext.translation(
        "messages", localedir=str(TRANSLATIONS), languages=[locale], fallback=True
    )


def request_reset(
    session: Session, email: str, *, base_url: str, policy: ResetPolicy, now: datetime
) -> bool:
    """Queue a reset mail for the active account of ``email``; whether one was queued (for
    tests and the audit only: the page never says)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    digest = token_digest(token)  # computed in every case: about the same time
    try:
        login = accounts.normalise_login(email)
    except InvalidInput:
        return False
    user = accounts.find_user(session, login)
    if user is None or not user.active or user.api_client:
        return False
    latest = session.scalar(
        select(PasswordResetToken.created_at)
        .where(PasswordResetToken.user_id == user.id)
        .order_by(PasswordResetToken.created_at.desc())
        .limit(1)
    )
    if latest is not None and now - latest < policy.interval:
        return False
    session.execute(
        update(PasswordResetToken)
        .where(
            PasswordResetToken.user_id == user.id,
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    session.add(
        PasswordResetToken(
            user_id=user.id, token_hash=digest, created_at=now, expires_at=now + policy.lifetime
        )
    )
    locale = user.locale if user.locale in LOCALES else DEFAULT_LOCALE
    catalog = _translations(locale)
    t = catalog.gettext
    minutes = int(policy.lifetime.total_seconds() // 60)
    delay = catalog.ngettext("%(num)d minute", "%(num)d minutes", minutes) % {"num": minutes}
    body = t(BODY) % {"delay": delay, "link": reset_link(base_url, token)}
    session.add(
        MailMessage(
            id=uuid.uuid4(),
            kind=MailKind.PASSWORD_RESET,
            handoff_id=None,
            to_address=user.email,
            locale=locale,
            subject=t(SUBJECT),
            body_text=body + "\n",
            attempts=0,
        )
    )
    session.flush()
    audit.record(session, None, AuditAction.PASSWORD_RESET_REQUEST, user)
    return True


def find_link(session: Session, token: str, *, now: datetime) -> PasswordResetToken | None:
    """The live link of ``token`` (not used, not revoked, not expired, account active)."""
    if not token or len(token) > 128:
        return None
    link = session.scalar(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == token_digest(token))
    )
    if link is None or link.used_at is not None or link.revoked_at is not None:
        return None
    if link.expires_at <= now:
        return None
    user = session.get(User, link.user_id)
    if user is None or not user.active:
        return None
    return link


class LinkNotValid(Exception):
    """The link is unknown, used, revoked or expired (or was used meanwhile)."""


class WrongCode(InvalidInput):
    pass


def complete_reset(
    session: Session,
    keys: KeyRing,
    token: str,
    password: str,
    code: str,
    *,
    min_length: int,
    now: datetime,
) -> User:
    """Set the new password through the link ``token``. Raises ``LinkNotValid``,
    ``InvalidInput`` (password policy, field ``password``) or ``WrongCode`` (field ``code``)
    before any change."""
    link = find_link(session, token, now=now)
    if link is None:
        raise LinkNotValid
    user = session.get(User, link.user_id)
    assert user is not None  # find_link checked it
    check_password_policy(password, min_length, email=user.email, names=[user.display_name])
    if user.has_second_factor and not second_factor.check_code(session, keys, user, code, now=now):
        raise WrongCode(N_("This code is not valid or was already used."), field="code")
    spent = session.execute(
        update(PasswordResetToken)
        .where(
            PasswordResetToken.id == link.id,
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.revoked_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise LinkNotValid
    accounts.set_password(session, user, user, password, min_length=min_length)
    audit.record(session, user, AuditAction.PASSWORD_RESET_USE, user)
    return user

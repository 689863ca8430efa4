"""Sign-in with ProConnect, on the database side (docs/security.md, "ProConnect").

* ``begin`` keeps one pending sign-in (hashed state, nonce, PKCE verifier) for ten minutes;
* ``claim`` takes it back at the callback, once only: a replayed callback (same state, even
  with the old cookie) finds it used;
* ``link`` finds the account: by the provider's (issuer, subject) when already linked, else by
  the e-mail the provider gives, case-insensitively, of an existing active account, and then
  links it. No account is ever created. Refusals are audited (``user:oidc_refused``) and
  raised as ``SignInRefused`` with a reason.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.models import OidcSignIn, User, UserIdentity
from app.services.errors import N_, ServiceError
from app.services.security import audit
from app.services.security.accounts import find_user
from app.services.security.oidc import Authentication, AuthorisationRequest

ATTEMPT_LIFETIME = timedelta(minutes=10)
FORGET_AFTER = timedelta(days=1)


class SignInRefused(ServiceError):
    """The provider answered, but Relais does not let this person in. ``reason``:
    ``no_account`` (no account uses the e-mail), ``inactive`` (the account is closed),
    ``email_not_verified``, ``no_email``, ``other_subject`` (the account is linked to another
    identity at this provider), ``expired`` (the pending sign-in is unknown, used or too old)."""

    code = "sign_in_refused"

    def __init__(self, reason: str) -> None:
        super().__init__(N_("Relais cannot sign you in with ProConnect."))
        self.reason = reason


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def begin(
    session: Session, request: AuthorisationRequest, next_path: str, *, now: datetime
) -> None:
    """Keep a new pending sign-in; forget those of more than a day ago."""
    session.execute(delete(OidcSignIn).where(OidcSignIn.created_at < now - FORGET_AFTER))
    session.add(
        OidcSignIn(
            state_hash=_digest(request.state),
            nonce=request.nonce,
            code_verifier=request.code_verifier,
            next_path=next_path[:500],
            created_at=now,
        )
    )
    session.flush()


def claim(session: Session, state: str, *, now: datetime) -> OidcSignIn:
    """The pending sign-in of ``state``, marked used in one atomic update: a second callback
    with the same state (a replay) is refused, as is one older than ten minutes."""
    claimed = session.execute(
        update(OidcSignIn)
        .where(
            OidcSignIn.state_hash == _digest(state),
            OidcSignIn.used_at.is_(None),
            OidcSignIn.created_at > now - ATTEMPT_LIFETIME,
        )
        .values(used_at=now)
        .returning(OidcSignIn.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if claimed is None:
        raise SignInRefused("expired")
    found = session.get(OidcSignIn, claimed, populate_existing=True)
    assert found is not None  # noqa: S101 - just updated in this transaction
    return found


def pending(session: Session, attempt_id: str) -> OidcSignIn | None:
    """A used sign-in waiting for its second step (the TOTP code), by its id."""
    try:
        key = uuid.UUID(hex=attempt_id)
    except ValueError:
        return None
    found = session.get(OidcSignIn, key)
    return found if found is not None and found.user_id is not None else None


def link(
    session: Session,
    attempt: OidcSignIn,
    auth: Authentication,
    *,
    require_email_verified: bool,
    now: datetime,
) -> User:
    """The account the provider's answer signs in to, linked to the provider's identity.

    Raises ``SignInRefused`` (audited) when no active account matches."""
    identity = session.scalar(
        select(UserIdentity).where(
            UserIdentity.issuer == auth.issuer, UserIdentity.subject == auth.subject
        )
    )
    if identity is not None:
        user = session.get(User, identity.user_id)
        assert user is not None  # noqa: S101 - a foreign key
        _refuse_closed(session, attempt, user)
        identity.last_used_at = now
    else:
        user = _account_of_email(session, attempt, auth, require_email_verified)
        _refuse_closed(session, attempt, user)
        _link(session, user, auth, now)
    attempt.user_id = user.id
    attempt.acr = auth.acr
    attempt.amr = " ".join(auth.amr)[:200] or None
    attempt.id_token = auth.id_token
    return user


def spend(attempt: OidcSignIn) -> None:
    """The sign-in is complete: the ID token now lives on the session only, and the attempt
    can no longer complete a second step."""
    attempt.user_id = None
    attempt.id_token = None


def record_refusal(session: Session, attempt: OidcSignIn, reason: str) -> None:
    """Audit a sign-in the provider's answer did not let through (``reason``: a code of
    ``oidc.OidcRefused``: ``token``, ``id_token``, ``userinfo``...)."""
    audit.record(session, None, AuditAction.OIDC_REFUSED, attempt, reason=reason[:40])


def _refuse(session: Session, attempt: OidcSignIn, reason: str, user: User | None = None) -> None:
    audit.record(session, None, AuditAction.OIDC_REFUSED, user or attempt, reason=reason)
    session.flush()
    raise SignInRefused(reason)


def _refuse_closed(session: Session, attempt: OidcSignIn, user: User) -> None:
    if not user.active:
        _refuse(session, attempt, "inactive", user)


def _account_of_email(
    session: Session, attempt: OidcSignIn, auth: Authentication, require_verified: bool
) -> User:
    if not auth.email:
        _refuse(session, attempt, "no_email")
    # ProConnect sends no ``email_verified`` (its e-mails are checked by the federation): an
    # absent claim is accepted unless RELAIS_OIDC_REQUIRE_EMAIL_VERIFIED; a false one never.
    if auth.email_verified is False or (require_verified and auth.email_verified is not True):
        _refuse(session, attempt, "email_not_verified")
    user = find_user(session, auth.email or "")
    if user is None:
        _refuse(session, attempt, "no_account")
    assert user is not None  # noqa: S101 - _refuse raised
    return user


def _link(session: Session, user: User, auth: Authentication, now: datetime) -> None:
    other = session.scalar(
        select(UserIdentity).where(
            UserIdentity.user_id == user.id, UserIdentity.issuer == auth.issuer
        )
    )
    if other is not None:
        # The account already has another identity at this provider: an e-mail moved from
        # one person to another at the provider must not open the first person's account.
        audit.record(session, None, AuditAction.OIDC_REFUSED, user, reason="other_subject")
        session.flush()
        raise SignInRefused("other_subject")
    session.add(
        UserIdentity(
            user_id=user.id,
            issuer=auth.issuer,
            subject=auth.subject[:255],
            created_at=now,
            last_used_at=now,
        )
    )
    audit.record(session, None, AuditAction.IDENTITY_LINK, user, issuer=auth.issuer[:200])
    session.flush()


def unlink(session: Session, actor: User | None, user: User) -> int:
    """Forget the account's identities at OpenID providers (a new ProConnect identity for the
    same person: the next sign-in links again by e-mail). Returns how many were removed."""
    removed = session.execute(
        delete(UserIdentity)
        .where(UserIdentity.user_id == user.id)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if removed:
        audit.record(session, actor, AuditAction.IDENTITY_UNLINK, user, count=int(removed))
    return int(removed)

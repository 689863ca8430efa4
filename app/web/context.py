"""Request helpers shared by the blueprints: the acting user, the vault, dates, decorators."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

import phonenumbers
from flask import abort, current_app, g, session
from flask_babel import format_date, format_datetime, get_locale
from flask_login import current_user

from app.domain.french import StructurePhrases
from app.domain.numbers import read_id, read_int
from app.domain.people import age_band
from app.domain.roles import Role
from app.extensions import db
from app.models import ReferenceItem, ReferenceKind, Structure, User, UserSession
from app.services.handoffs.lists import pending_inbox_count
from app.services.security import sessions
from app.services.security.vault import Vault
from app.services.structures import reference_items, structure_phrases
from app.web.form_errors import form_problems
from app.web.labels import action_label, enum_label
from app.web.pathways.timeline_chart import Chart, build_chart

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.services.pathways import Timeline

P = ParamSpec("P")
R = TypeVar("R")
PARIS = ZoneInfo("Europe/Paris")


# The key of the server-side session token in the signed cookie (app/services/security/sessions).
SESSION_TOKEN = "sid"  # noqa: S105 - a key name, not a secret
# The language chosen with the switch (``select_locale``); kept when the session is emptied.
LANGUAGE = "lang"


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: ``"<id>:<version>"`` and the session's token. A stale version, or a
    session ended, idle for longer than RELAIS_SESSION_IDLE_MINUTES or older than
    PERMANENT_SESSION_LIFETIME, is signed out. The open session is kept in ``g.user_session``."""
    user_id, _, version = session_id.partition(":")
    token = session.get(SESSION_TOKEN)
    found_id, found_version = read_id(user_id), read_int(version, minimum=0)
    if found_id is None or found_version is None or not isinstance(token, str):
        return None
    found = sessions.signed_in(
        db.session(),
        found_id,
        found_version,
        token,
        limits=session_limits(),
        now=datetime.now(UTC),
    )
    if found is None or found[0].api_client:
        return None  # an API token's service account never has a web session
    user, g.user_session = found
    return user


def this_session() -> UserSession:
    """The signed-in request's open session (kept by ``load_session_user``)."""
    found = g.get("user_session")
    if not isinstance(found, UserSession):
        abort(401)
    return found


def session_limits() -> sessions.SessionLimits:
    return sessions.SessionLimits(
        idle=timedelta(minutes=int(current_app.config["SESSION_IDLE_MINUTES"])),
        lifetime=current_app.permanent_session_lifetime,
    )


def actor() -> User:
    """The signed-in user (routes are closed to visitors before this is reached)."""
    user = current_user._get_current_object()
    if not isinstance(user, User):
        abort(401)
    return user


def dbs() -> Session:
    return db.session()


def reads() -> Session:
    """The session the statistics pages and exports read through: the read replica's
    (``RELAIS_READ_DATABASE_URL``, read-only transactions) or, without one, ``dbs()``.
    Their audit events are written through ``dbs()``."""
    return db.reading()


def replica() -> Session | None:
    """The read replica's session when ``RELAIS_READ_DATABASE_URL`` is set, else None."""
    return db.reading() if db.read_engine is not None else None


def vault() -> Vault:
    found: Vault = current_app.extensions["relais_vault"]
    return found


def today() -> date:
    """Today in France: the date caseworkers write on forms."""
    return datetime.now(PARIS).date()


def locale() -> str:
    found = get_locale()
    return found.language if found is not None else "fr"  # "en" for en_GB (select_locale)


def roles_required(*roles: Role) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Let only these roles in; anyone else gets 404, as if the page did not exist."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            if actor().role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def label(item: ReferenceItem | None) -> str:
    """A reference item's label in the current language (an em dash when missing)."""
    return item.label(locale()) if item is not None else "—"


def named(structure: Structure | None) -> StructurePhrases:
    """A structure's name as the current language's sentences need it: ``named(s).the``
    ("la Mission Locale"), ``.to`` ("au CCAS"), ``.of`` ("des Petits Pas"), ``.The`` (at the
    start of a sentence); the name itself in English. See ``app/domain/french.py``."""
    if structure is None:
        return StructurePhrases("—", "—", "—")
    return structure_phrases(structure, locale())


def phone(e164: str | None) -> str:
    """A stored E.164 number as people write it: national for France, international otherwise."""
    if not e164:
        return "—"
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 33
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return str(phonenumbers.format_number(number, style))


def pending_handoffs() -> int:
    """The navigation badge: hand-offs waiting for the signed-in caseworker's structure."""
    user = current_user._get_current_object()
    if not isinstance(user, User) or user.role is not Role.CASEWORKER:
        return 0
    return pending_inbox_count(db.session(), user)


def pathway_chart(tl: Timeline) -> Chart:
    """The chart of a pathway, its legend listing every active stage."""
    stages = reference_items(db.session(), ReferenceKind.STAGE)
    return build_chart(tl, today(), label, stages)


def keep_alive_seconds() -> int:
    """How often a page where someone types tells Relais they are there
    (``app/static/keepalive.js``): every five minutes, or a third of the idle limit when it is
    shorter, so that a session never ends under someone's hands."""
    return int(min(300, session_limits().idle.total_seconds() // 3))


def template_helpers() -> dict[str, Any]:
    return {
        "keep_alive_seconds": keep_alive_seconds,
        "pending_handoffs": pending_handoffs,
        "label": label,
        "enum_label": enum_label,
        "action_label": action_label,
        "age_band": age_band,
        "Role": Role,
        "current_locale": locale,
        "format_date": format_date,
        "format_datetime": format_datetime,
        "phone": phone,
        "named": named,
        "timeline_chart": pathway_chart,
        "form_problems": form_problems,
    }

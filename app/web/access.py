"""The authorisation matrix: who may open each route, as data (``MATRIX``).

Every endpoint of the application is classified here, in one line:

- ``public()``: anyone, signed in or not (sign-in page, language switch, static files,
  ``/health``);
- ``signed_in()``: any signed-in account, whatever its role (the account's own pages);
- ``roles(...)``: only these roles; anyone else gets a 404, as if the page did not exist;
- ``person(...)``, ``handoff()``, ``own(...)``: caseworkers only, and only for an object
  their structure stands in one of the given ``Relation``\\ s to (the person they follow, the
  hand-off their structure is a party to...); any other caseworker gets a 404 (``Refusal``).

The application reads the matrix in ``app.web`` before every view: a visitor reaches only the
public routes (and the directory's reading pages when ``RELAIS_PUBLIC_DIRECTORY`` is on); a
signed-in account reaches only the routes whose roles include its role; an endpoint missing
from the matrix is closed to everyone (404, or the sign-in page for a visitor). The relation
to the object is decided by the view's own service (``access.followed_person``,
``handoff_for_party``...), which needs the object: the matrix says what it must decide, and
``tests/web/test_access_matrix.py`` checks it for every route, role and relation. A route
missing from the matrix, or a classified endpoint that no longer exists, fails that test.

See "Authorisation matrix" in ``docs/security.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from app.domain.api import Scope
from app.domain.roles import Role


class Relation(StrEnum):
    """How a caseworker's structure stands to the object a route names.

    For a person: ``OWN`` follows them now (an open follow-up); ``ENDED`` followed them and
    the follow-up ended less than ``IDENTITY_GRACE_DAYS`` ago (the reading grace period);
    ``PENDING_RECEIVER`` was sent a hand-off of them and does not follow them (yet);
    ``OTHER`` has nothing to do with them. For a hand-off: ``OWN`` sent it,
    ``PENDING_RECEIVER`` is the structure it is addressed to. For a directory card or an
    import: ``OWN`` is the structure's own (a card edited by a caseworker given the right to
    edit it).
    """

    OWN = "own"
    ENDED = "ended"
    PENDING_RECEIVER = "pending_receiver"
    OTHER = "other"


class Visitors(StrEnum):
    """Whether someone who is not signed in may open the route."""

    NEVER = "never"
    ALWAYS = "always"
    PUBLIC_DIRECTORY = "public_directory"  # when RELAIS_PUBLIC_DIRECTORY is on


class Refusal(StrEnum):
    """What a signed-in account refused by the route gets."""

    NOT_FOUND = "not_found"  # 404, the same page as for an object that does not exist
    REDIRECT = "redirect"  # back to the route's form (an import of another structure)


@dataclass(frozen=True)
class Rule:
    """Who may open one endpoint.

    ``relations`` is None when the route names no object (or any object, for these roles);
    else a caseworker needs one of them to the object, while the other roles of ``roles``
    (which belong to no structure) are let in whatever the object.
    """

    roles: frozenset[Role]
    visitors: Visitors = Visitors.NEVER
    relations: frozenset[Relation] | None = None
    refusal: Refusal = Refusal.NOT_FOUND
    # The object belongs to an account (a session of one's own): the relation applies to
    # every role, not to caseworkers only.
    account_object: bool = False
    # An endpoint of the JSON API (/api/v1): reached with an API token having this scope,
    # never with a session (no role, no visitor: ``app.web.api`` checks the token).
    scope: Scope | None = None

    def lets_in(
        self, role: Role | None, relation: Relation | None = None, *, public_directory: bool = False
    ) -> bool:
        """Whether ``role`` (None: a visitor) standing in ``relation`` to the route's object
        may open it (``public_directory``: whether the public directory is on)."""
        if role is None:
            return self.visitors is Visitors.ALWAYS or (
                public_directory and self.visitors is Visitors.PUBLIC_DIRECTORY
            )
        if role not in self.roles:
            return False
        if self.relations is None or (role is not Role.CASEWORKER and not self.account_object):
            return True
        return relation in self.relations


EVERY_ROLE = frozenset(Role)

# A person's record: read while the structure follows them or during the reading grace period.
FOLLOWING = frozenset({Relation.OWN, Relation.ENDED})
# Identity edits, consent withdrawal and erasure need an open follow-up (issue 12, item 10):
# the reading grace period is read-only.
FOLLOWING_NOW = frozenset({Relation.OWN})
# A hand-off: its sender and its receiver.
PARTIES = frozenset({Relation.OWN, Relation.PENDING_RECEIVER})


def api(scope: Scope) -> Rule:
    """An endpoint of the JSON API: an API token with ``scope``, never a session (a signed-in
    account gets the API's 401 like anyone without a token). The token's service account is a
    caseworker of its structure: the views' services decide the relation to the object as for
    any caseworker."""
    return Rule(frozenset(), scope=scope)


def public() -> Rule:
    return Rule(EVERY_ROLE, Visitors.ALWAYS)


def signed_in() -> Rule:
    return Rule(EVERY_ROLE)


def own_account() -> Rule:
    """An object of the signed-in account itself (one of its sessions): its owner only,
    whatever the role."""
    return Rule(EVERY_ROLE, relations=frozenset({Relation.OWN}), account_object=True)


def roles(*allowed: Role) -> Rule:
    return Rule(frozenset(allowed))


def person(relations: frozenset[Relation] = FOLLOWING) -> Rule:
    """A caseworker's page about a person (the pseudonym in the URL)."""
    return Rule(frozenset({Role.CASEWORKER}), relations=relations)


def handoff() -> Rule:
    """A caseworker's page about a hand-off: its two parties."""
    return Rule(frozenset({Role.CASEWORKER}), relations=PARTIES)


def own(*others: Role, refusal: Refusal = Refusal.NOT_FOUND) -> Rule:
    """The caseworker's structure's own object; ``others`` roles reach every object."""
    return Rule(
        frozenset({Role.CASEWORKER, *others}),
        relations=frozenset({Relation.OWN}),
        refusal=refusal,
    )


CASEWORKER = Role.CASEWORKER
COORDINATOR = Role.COORDINATOR
ADMIN = Role.ADMIN

MATRIX: Mapping[str, Rule] = {
    # -- anyone ----------------------------------------------------------------------------
    "static": public(),
    "home.health": public(),
    "auth.login": public(),
    "auth.set_language": public(),
    "auth.forgotten_password": public(),
    "auth.reset_password": public(),
    # An invitation link (the token is the proof): whoever holds it creates the account.
    "accounts.invitation": public(),
    # A hand-off answered from a mailed link, without an account: the token is the credential
    # (app/web/handoff_links.py); a wrong or dead link gets one page and nothing else.
    "handoff_links.page": public(),
    "handoff_links.act": public(),
    "handoff_links.done": public(),
    "handoff_links.request_account": public(),
    # Sign in with ProConnect: the button's POST and the provider's redirect back (both send
    # back to the sign-in page while RELAIS_OIDC_ISSUER is unset).
    "auth.proconnect_start": public(),
    "auth.proconnect_callback": public(),
    # The code after the right password: nobody is signed in yet.
    "auth.second_step": public(),
    # -- every account -----------------------------------------------------------------------
    "home.index": signed_in(),
    "auth.logout": signed_in(),
    "auth.change_password": signed_in(),
    "auth.contact": signed_in(),
    "auth.active_sessions": signed_in(),
    "auth.keep_alive": signed_in(),
    "auth.end_other_sessions": signed_in(),
    "auth.end_session": own_account(),
    "auth.reauthenticate": signed_in(),
    "auth.two_factor": signed_in(),
    "auth.start_two_factor": signed_in(),
    "auth.recovery_codes": signed_in(),
    "auth.reset_two_factor": signed_in(),
    # -- the partner directory: everyone signed in reads; visitors too when it is public -----
    "directory.index": Rule(EVERY_ROLE, Visitors.PUBLIC_DIRECTORY),
    "directory.card": Rule(EVERY_ROLE, Visitors.PUBLIC_DIRECTORY),
    "directory.edit": own(ADMIN),
    "directory.capacity": own(ADMIN),
    "directory.capacity_status": own(ADMIN),
    "directory.capacity_confirm": own(ADMIN),
    "directory.check": own(ADMIN),
    "directory.set_editor": roles(ADMIN),
    # -- a structure's management: its managers (``own``) and the administrators -------------
    "webhooks.index": own(ADMIN),
    "webhooks.register": own(ADMIN),
    "webhooks.ping": own(ADMIN),
    "webhooks.set_active": own(ADMIN),
    "webhooks.new_secret": own(ADMIN),
    "webhooks.delete": own(ADMIN),
    "network_events.index": roles(CASEWORKER, COORDINATOR, ADMIN),
    "network_events.detail": roles(CASEWORKER, COORDINATOR, ADMIN),
    "network_events.new": roles(COORDINATOR, ADMIN),
    "network_events.edit": roles(COORDINATOR, ADMIN),
    # -- caseworkers: their structure's people -----------------------------------------------
    "work.index": roles(CASEWORKER),
    "people.index": roles(CASEWORKER),
    "people.search_people": roles(CASEWORKER),
    "people.register": roles(CASEWORKER),
    "people.hand_over": roles(CASEWORKER),
    "people.detail": person(),
    "people.edit_facts": person(FOLLOWING_NOW),
    "people.add_consent": person(),
    "people.add_step": person(),
    "people.add_barrier": person(),
    "people.change_barrier": person(),
    "people.assess_barrier": person(),
    "people.change_referent": person(),
    "people.end_follow_up": person(),
    "people.decide_pathway": person(),
    "people.access_report": person(),
    "people.access_report_export": person(),
    "people.access_report_json": person(),
    "people.edit_identity": person(FOLLOWING_NOW),
    "people.consent_withdrawal": person(FOLLOWING_NOW),
    "people.erase": person(FOLLOWING_NOW),
    "imports.upload": roles(CASEWORKER),
    "imports.done": roles(CASEWORKER),
    "imports.past": own(refusal=Refusal.REDIRECT),
    # -- hand-offs -------------------------------------------------------------------------
    "handoffs.index": roles(CASEWORKER),
    "handoffs.new": person(),
    "handoffs.no_solution": person(FOLLOWING_NOW),
    "handoffs.detail": handoff(),
    "handoffs.act": handoff(),
    "handoffs.remind": handoff(),
    "handoffs.answer_follow_up": handoff(),
    # -- coordinators: pseudonymous pathways and statistics ----------------------------------
    "pathways.index": roles(COORDINATOR),
    "pathways.detail": roles(COORDINATOR),
    "steering.lost": roles(COORDINATOR),
    "steering.lost_export": roles(COORDINATOR),
    "steering.index": roles(COORDINATOR),
    "dashboard.index": roles(COORDINATOR),
    "dashboard.export_table": roles(COORDINATOR),
    "dashboard.export_pathways": roles(COORDINATOR),
    "steering.delays": roles(COORDINATOR),
    "steering.export_delays": roles(COORDINATOR),
    "steering.unmet_needs_page": roles(COORDINATOR),
    "steering.unmet_needs_export": roles(COORDINATOR),
    "steering.report": roles(COORDINATOR),
    "steering.report_bundle": roles(COORDINATOR),
    # A structure's own figures beside the network's (publication view only): every
    # caseworker of the structure, and the coordinators for any structure (they read the whole
    # network on the dashboard). Administrators run the service, they read no statistics.
    "figures.index": own(COORDINATOR),
    "figures.export": own(COORDINATOR),
    # -- administrators ----------------------------------------------------------------------
    "admin.structures": roles(ADMIN),
    "admin.structure_article": roles(ADMIN),
    "admin.users": roles(ADMIN),
    "admin.reset_second_factor": roles(ADMIN),
    "admin.reference": roles(ADMIN),
    "admin.invite": roles(ADMIN),
    "admin.deactivate_user": roles(ADMIN),
    "admin.reactivate_user": roles(ADMIN),
    "admin.revoke_invitation": roles(ADMIN),
    "admin.resend_invitation": roles(ADMIN),
    # -- a structure's accounts: its managers (Relation.OWN) and the administrators ----------
    "accounts.index": own(ADMIN),
    "accounts.invite": own(ADMIN),
    "accounts.deactivate": own(ADMIN),
    "accounts.reactivate": own(ADMIN),
    "accounts.set_manager": own(ADMIN),
    "accounts.hand_over": own(ADMIN),
    "accounts.revoke_invitation": own(ADMIN),
    "accounts.resend_invitation": own(ADMIN),
    "outbox.index": roles(ADMIN),  # and only with the development outbox (MAIL_BACKEND)
    # -- structure managers: their structure's API tokens (``code``: the structure) ----------
    "api_tokens.index": own(ADMIN),
    "api_tokens.create": own(ADMIN),
    "api_tokens.revoke": own(ADMIN),
    # -- the JSON API for partner systems (token, not session; docs/api.md) ------------------
    "api.openapi": public(),
    "api.docs": public(),
    "api.register_person_": api(Scope.PEOPLE_WRITE),
    "api.list_people": api(Scope.PEOPLE_READ),
    "api.get_person": api(Scope.PEOPLE_READ),
    "api.send_handoff_": api(Scope.HANDOFFS_WRITE),
    "api.list_handoffs": api(Scope.HANDOFFS_READ),
    "api.get_handoff": api(Scope.HANDOFFS_READ),
    "api.accept": api(Scope.HANDOFFS_WRITE),
    "api.decline": api(Scope.HANDOFFS_WRITE),
    "api.redirect_": api(Scope.HANDOFFS_WRITE),
    "api.first_contact": api(Scope.HANDOFFS_WRITE),
    "api.outcome": api(Scope.HANDOFFS_WRITE),
    "api.directory": api(Scope.DIRECTORY_READ),
}


def rule_of(endpoint: str | None) -> Rule | None:
    """The endpoint's rule; None for an endpoint nobody classified (closed to everyone)."""
    return MATRIX.get(endpoint or "")


def is_api(endpoint: str | None) -> bool:
    """Whether ``endpoint`` is one of the JSON API's token-authenticated endpoints."""
    rule = rule_of(endpoint)
    return rule is not None and rule.scope is not None


def is_public(endpoint: str | None) -> bool:
    """Whether a visitor may open ``endpoint`` whatever the settings."""
    rule = rule_of(endpoint)
    return rule is not None and rule.visitors is Visitors.ALWAYS


def opens_to_visitors(endpoint: str | None, public_directory: bool) -> bool:
    """Whether a visitor may open ``endpoint`` with these settings."""
    rule = rule_of(endpoint)
    return rule is not None and rule.lets_in(None, public_directory=public_directory)


def role_may_open(endpoint: str | None, role: Role) -> bool:
    """Whether an account of ``role`` may open ``endpoint`` at all (its relation to the
    object, if the route names one, is checked by the view's service)."""
    rule = rule_of(endpoint)
    return rule is not None and role in rule.roles


def endpoints_of(visitors: Visitors) -> frozenset[str]:
    """The endpoints open to visitors in that way (``PUBLIC_ENDPOINTS``...)."""
    return frozenset(name for name, rule in MATRIX.items() if rule.visitors is visitors)

"""The request-rate limit of the forms open to visitors, and the back-off settings.

Two layers (docs/security.md, "Sign-in throttling"): Flask-Limiter counts requests per client
address (``ANONYMOUS_POST_LIMIT``, storage ``RATELIMIT_STORAGE_URI``) and answers 429 before the
view runs; the sign-in back-off (``app.services.security.throttling``) counts failures per login
and per address in the database.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from app.extensions import limiter
from app.services.security.throttling import ThrottlePolicy


def _anonymous_post_limit() -> str:
    return str(current_app.config["ANONYMOUS_POST_LIMIT"])


def _no_limit() -> bool:
    return not current_app.config["ANONYMOUS_POST_LIMIT"]


# Each decorated endpoint counts its own POSTs per client address.
limit_anonymous_posts = limiter.limit(
    _anonymous_post_limit, methods=["POST"], exempt_when=_no_limit
)


def throttle_policy() -> ThrottlePolicy:
    config = current_app.config
    return ThrottlePolicy(
        account_free=int(config["LOGIN_MAX_FAILURES"]),
        client_free=int(config["LOGIN_CLIENT_MAX_FAILURES"]),
        longest_delay=timedelta(minutes=int(config["LOGIN_LOCK_MINUTES"])),
        fresh_client_delay=timedelta(seconds=int(config["LOGIN_FRESH_CLIENT_DELAY_SECONDS"])),
    )

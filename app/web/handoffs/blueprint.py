"""The hand-offs blueprint, routed by ``views`` (sending, lists, answers) and
``follow_through`` (reminders, the end-of-follow-up question, reorienting)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("handoffs", __name__, url_prefix="/handoffs")

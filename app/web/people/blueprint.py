"""The people blueprint, shared by the modules of ``app.web.people`` that route on it."""

from flask import Blueprint

bp = Blueprint("people", __name__, url_prefix="/people")

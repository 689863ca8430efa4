"""Signing in and out, the language switch and the change of one's own password.

May import ``app.services.security`` and the shared web helpers; never SQLAlchemy.
"""

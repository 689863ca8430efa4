"""Administrators' pages: structures, accounts and reference lists (``views``), and the
development mail outbox (``outbox``, its own blueprint at ``/dev``, only when mails are kept
in the outbox).

May import ``app.services.structures``, ``security`` and ``mail`` and the shared web helpers;
never SQLAlchemy.
"""

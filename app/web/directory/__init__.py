"""The partner directory's pages: search and cards (``views``, with ``forms`` and ``labels``),
and the network's events (``events``, a blueprint of its own at ``/network-events``).

May import the directory services (``app.services.directory``), ``app.unit_of_work`` and the
shared web helpers; never SQLAlchemy.
"""

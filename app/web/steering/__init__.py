"""Steering the territory, for coordinators: orientation decisions and delays against the
targets (``views``: ``/steering/delays``), unmet needs (``unmet_needs``:
``/steering/unmet-needs``), with their SVG charts and CSV exports (publication view only), and
the people lost from view (``lost``: ``/steering/lost``, pseudonymous).

May import ``app.services.statistics`` and the shared web helpers; never SQLAlchemy.
"""

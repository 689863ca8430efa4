"""Steering the territory, for coordinators: orientation decisions and delays against the
targets (``views``: ``/steering/delays``) and unmet needs (``unmet_needs``:
``/steering/unmet-needs``), with their SVG charts and CSV exports (publication view only).

May import ``app.services.statistics`` and the shared web helpers; never SQLAlchemy.
"""

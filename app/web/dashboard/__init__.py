"""The coordinators' dashboard: indicators, their SVG charts (``charts``) and CSV exports.

May import ``app.services.statistics`` and the shared web helpers; never SQLAlchemy.
"""

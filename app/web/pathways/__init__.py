"""Coordinators' pathway pages: the pseudonymous list with its filters and one person's pathway
(``views``), drawn as inline SVG (``timeline_chart`` builds the geometry; caseworkers' person
pages use it too).

May import ``app.services.people`` (overview, access), ``pathways`` and the shared web helpers;
never SQLAlchemy.
"""

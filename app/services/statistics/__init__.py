"""Network statistics for coordinators: the dashboard's indicators and its exports.

Every figure comes from a grouped SQL query and goes through the small-count protection of
``app/domain/disclosure.py`` before it leaves this package: callers (the dashboard page, its
CSV exports, the benchmark) never see a raw count. The pathway export is pseudonymous, one
line per coded event, and audited.

*Modules.* ``scope`` (what a coordinator asks for: the period and population, checked, and
the SQL conditions that keep its events), ``sql`` (date constructs that SQLite and PostgreSQL
spell differently), ``queries`` (the grouped queries, which the benchmark also runs),
``headings`` (what the rows and columns of the tables are), ``tables`` (raw counts turned
into protected tables, lists and medians), one builder per section of the dashboard
(``funnel``, ``barriers``, ``handoffs``, ``chains``, ``network``), ``dashboard`` (the sections
assembled), ``partner`` and ``partner_queries`` (a structure's own figures beside the
network's, publication view only), ``exports`` (the audit of an export) and ``pathway_export`` (the pseudonymous
pathways, streamed); ``publication`` (a territory's mergeable tables, signed, for the
national layer) and ``national`` (territories' files checked and added up, the protection
re-checked: docs/scaling.md).

May import the domain, the models and the other services (``audit``, ``errors``); never
Flask. Nothing here commits.
"""

"""The pages of the people a structure follows, for its caseworkers: the caseload, registration
and the person's page (``views``), recording their pathway (``records``: identity, consent,
steps, barriers, end of follow-up) and their rights (``rights``: subject access, withdrawal of
consent, erasure), with the forms of ``forms``. One blueprint (``blueprint``), routed with
decorators in each module.

May import ``app.services.people``, ``pathways``, ``rights`` and ``handoffs``,
``app.unit_of_work`` and the shared web helpers; never SQLAlchemy.
"""

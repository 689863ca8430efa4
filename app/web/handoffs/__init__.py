"""Hand-off pages: send a person to a partner (with suggested partners), a structure's inbox and
sent list, one hand-off with the actions the transition table allows (``views``, with the forms
of ``forms``).

May import ``app.services.handoffs``, ``people``, ``pathways``, ``directory``, ``structures``,
``app.unit_of_work`` and the shared web helpers; never SQLAlchemy.
"""

"""The partner directory: who does what, for whom, where, and with how many free places.

*Modules.* ``search`` (the active structures with their cards, searched and flagged when not
checked for months), ``suggestions`` (partners ranked for a hand-off), ``editors`` (who may
edit a card, and the right given to caseworkers), ``card_input`` (what a card says, checked
and normalised), ``cards`` (reading a card and saving it), ``history`` (every change of a
card, kept field by field), ``network_events`` (the meetings of the network) and ``interop``
(the directory in the data·inclusion schema, exported and imported).

May import the domain, the models and the other services (``audit``, ``errors``,
``structures``, ``identity``); never Flask. Nothing here commits.
"""

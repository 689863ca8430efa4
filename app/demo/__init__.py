"""Fictional data for demonstrations, load tests and benchmarks.

``loading`` plays a small Belfort-like network and its people through the services (what
``flask demo load`` runs); ``synthetic`` adds thousands of people written in bulk (``flask demo
generate``); ``data`` holds the tables both draw from. Everything here is invented and must
never reach a database that holds real people.

Imported by the CLI, the tests and the benchmarks only: ``app.services``, ``app.web`` and
``app.models`` never import it (``tests/test_demo_isolation.py`` checks). It may import the
services, the models, the domain and the crypto layer.
"""

"""The synthetic caseload generator behind ``flask demo generate``: thousands of fictional people
on the demo network, played in memory and written in bulk, for dashboards and benchmarks.

``caseload`` runs it (``prepare_caseload``, ``SyntheticCaseload.write_batch``, ``generate``);
``shape`` and ``draws`` say what is drawn; ``pathway``, ``stages``, ``barriers``, ``handoffs``
and ``endings`` play one person's pathway; ``identities`` and ``writing`` write it. May import
the demo data, the services, the models, the domain and the crypto layer.
"""

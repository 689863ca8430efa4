"""The caseload import page: a caseworker uploads a spreadsheet of the people their structure
follows, sees every problem by line and column, and confirms possible duplicates.

May import ``app.services.imports``, ``app.unit_of_work`` and the shared web helpers.
"""

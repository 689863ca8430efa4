"""A structure's webhooks page (``/structures/<code>/webhooks``), for its managers and the
administrators."""

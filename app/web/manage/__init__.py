"""A structure's management pages, under ``/structures/<code>/...``: its accounts (here), its
API tokens and webhooks (their own modules). Its managers and the administrators only."""

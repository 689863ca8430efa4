"""The JSON API for partner systems, /api/v1 (docs/api.md)."""

"""Use cases: one function each. They take the session and the acting user, flush, never commit."""

"""Pure rules of the domain: no Flask, no SQLAlchemy, testable without an application."""

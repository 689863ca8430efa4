"""Steering the territory: the coordinators' pages beside the dashboard (unmet needs)."""

"""The coordinators' steering pages (issue 15): the people lost from view."""

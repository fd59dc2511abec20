"""Rosters: the people who must complete, per class or department, imported from files."""

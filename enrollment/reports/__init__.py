"""Completion figures against rosters (monthly snapshots and exports arrive with their issue)."""

"""Assignments: required courses per unit subtree and audience, with start and due dates."""

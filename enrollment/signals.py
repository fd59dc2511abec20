"""Signals enrollment sends; certificates (downstream) subscribe."""

from blinker import Namespace

_signals = Namespace()

course_completed = _signals.signal("course-completed")
"""Sent once, inside the transaction, when an enrolment is first completed (a passing quiz
attempt, or every lesson read for a course without a quiz): sender=app, enrollment=..."""

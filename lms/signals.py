"""Signals lms sends for downstream packages (they subscribe in their init_app)."""

from blinker import Namespace

_signals = Namespace()

demo_loaded = _signals.signal("demo-loaded")
"""Sent after `flask demo load` created the demo province, inside its transaction, with
province (Unit), learners (list of (User, Unit)) and staff (list of (User, Role, Unit)).
Downstream packages add their own demo data (rosters, enrolments, progress)."""

"""Signals lms sends for downstream packages (they subscribe in their init_app)."""

from blinker import Namespace

_signals = Namespace()

demo_loaded = _signals.signal("demo-loaded")
"""Sent after `flask demo load` created the demo province, inside its transaction, with
province (Unit), learners (list of (User, Unit)) and staff (list of (User, Role, Unit)).
Downstream packages add their own demo data (rosters, enrolments, progress)."""

user_signed_in = _signals.signal("user-signed-in")
"""Sent inside the sign-in transaction with user and personal_id_hash (the keyed hash of the
ID in the token, or None): downstream links rosters to the person."""

demo_generated = _signals.signal("demo-generated")
"""Sent by `flask demo generate` inside its transaction, after its units and learners are
written, with province (Unit) and prefix (str): the classes it made have codes starting
"<prefix>-S", the agencies' departments "<prefix>-A", and each learner (student or public
servant) one learner grant on their class or department. Receivers add their own data
in bulk and return a dict of {what: rows added}, which the command prints."""

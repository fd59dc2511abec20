"""Locust learners for `make load` (bench/load.py starts locust with this file): each signs in
through the development identity provider, opens their assignments, reads every lesson of an
assigned course for the lesson's real minimum time, starts the quiz and submits it. Requests
alternate between the cluster's nodes. Every acknowledged write, every clean 503 and every
error is appended as one JSON line to LOAD_ACKS for the database check afterwards.

Environment: LOAD_NODES (comma-separated base URLs), LOAD_PLAN (JSON written by bench/load.py:
learners and their courses, ids of correct options), LOAD_ACKS (output file), LOAD_WAIT
("min,max" seconds between a learner's actions)."""

from __future__ import annotations

import itertools
import json
import os
import secrets
import time
from pathlib import Path

from locust import HttpUser, between, events, task

from bench.load_journey import JourneyError, csrf_token, sign_in

NODES = [u.rstrip("/") for u in os.environ.get("LOAD_NODES", "").split(",") if u]
PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text(encoding="utf-8")) \
    if os.environ.get("LOAD_PLAN") else {"learners": [], "correct": []}
CORRECT = set(PLAN["correct"])
_next_learner = itertools.count()
_acks = open(os.environ.get("LOAD_ACKS", os.devnull), "a", encoding="utf-8")  # noqa: SIM115
_wait = [float(x) for x in os.environ.get("LOAD_WAIT", "2,5").split(",")]
RETRIES = 120  # clean 503s are retried for up to about a minute (idempotent requests only)


def ack(kind: str, **fields) -> None:
    _acks.write(json.dumps({"kind": kind, "t": time.time(), **fields}) + "\n")
    _acks.flush()


@events.quitting.add_listener
def _close(**_kwargs) -> None:
    _acks.flush()


def clean_503(response) -> bool:
    """The app's own answer to an outage: our JSON error shape or our HTML error page, with
    Retry-After (not a proxy's or a crashed worker's page)."""
    if response.status_code != 503 or "Retry-After" not in response.headers:
        return False
    if response.headers.get("Content-Type", "").startswith("application/json"):
        try:
            return response.json().get("code") == "service_unavailable"
        except ValueError:
            return False
    return "<html" in response.text.lower()


def _reset(error) -> bool:
    text = repr(error)
    return "RemoteDisconnected" in text or "ConnectionResetError" in text


class Learner(HttpUser):
    wait_time = between(*_wait)
    host = NODES[0] if NODES else "http://127.0.0.1:8000"

    def on_start(self) -> None:
        self.turn = 0
        self.user_id = None
        self.done = False
        index = next(_next_learner)
        if index >= len(PLAN["learners"]):
            ack("error", what="more users than planned learners")
            self.done = True
            return
        self.plan = PLAN["learners"][index]
        self.subject = self.plan["subject"]
        self.course = None
        self.pending: dict[str, float] = {}  # lesson slug → when it may be marked read
        self.attempt = None  # the running attempt: id and questions
        self.finished = False
        self._sign_in()

    # -- plumbing ------------------------------------------------------------------------

    def node(self) -> str:
        """The next node in turn: a learner's requests alternate between the nodes."""
        self.turn += 1
        return NODES[self.turn % len(NODES)]

    def call(self, method: str, path: str, name: str, ok=(200,), expected=(), **kwargs):
        """One request, retried on a clean 503 (every request here is idempotent: reads,
        lesson reads, the running attempt, submit by key). Returns the response when its
        status is in ok or expected, else None after recording an error."""
        headers = {**kwargs.pop("headers", {})}
        if method != "GET":
            headers["X-CSRFToken"] = self.token
        for _ in range(RETRIES):
            with self.client.request(method, self.node() + path, name=name, headers=headers,
                                     allow_redirects=False, catch_response=True, timeout=30,
                                     **kwargs) as response:
                if response.status_code in ok or response.status_code in expected:
                    response.success()
                    return response
                if clean_503(response):
                    response.failure("clean 503 (outage), retried")
                    ack("outage", path=name)
                    time.sleep(0.5)
                    continue
                if response.status_code == 0 and _reset(response.error):
                    # A keep-alive connection the server closed as we reused it: a browser
                    # retries the request on a new connection, so do we (and count it).
                    response.failure("connection reset on reuse, retried")
                    ack("reset", path=name, body=str(response.error)[:300])
                    continue
                response.failure(f"{response.status_code}")
                ack("error", path=name, status=response.status_code,
                    body=str(response.error or "")[:300] if response.status_code == 0
                    else (response.text or "")[:300])
                if response.status_code == 0:  # no answer at all: try again
                    time.sleep(0.5)
                    continue
                return None
        ack("error", path=name, status=503, body="still 503 after retries")
        return None

    def _sign_in(self) -> None:
        for _ in range(RETRIES):
            try:
                sign_in(self.client, self.node(), self.subject, named=True)
                self.token = csrf_token(self.client, self.node(), name="/api/v1/csrf-token")
                me = self.client.get(self.node() + "/api/v1/me", name="/api/v1/me")
                if me.status_code == 200:
                    self.user_id = me.json()["id"]
                    return
                raise JourneyError(f"GET /api/v1/me: {me.status_code}")
            except JourneyError as exc:
                if "503" in str(exc) or ": 0, expected" in str(exc):  # an outage, a reset
                    ack("outage" if "503" in str(exc) else "reset", path="sign-in",
                        body=str(exc)[:300])
                    time.sleep(0.5)
                    self.client.cookies.clear()
                    continue
                ack("error", path="sign-in", body=str(exc)[:300])
                self.done = True
                return
        self.done = True

    # -- the journey ---------------------------------------------------------------------

    @task
    def step(self) -> None:
        if self.done:
            return
        if self.course is None:
            self.choose_course()
        elif self.finished:
            self.browse()
        elif self.pending:
            self.read_lessons()
        elif self.attempt is None:
            self.start_quiz()
        else:
            self.submit_quiz()

    def choose_course(self) -> None:
        """The assignments page, then the first assigned course not yet completed."""
        self.call("GET", "/learn/assignments", "/learn/assignments")
        self.call("GET", "/learn/", "/learn/")
        for course in self.plan["courses"]:
            code = course["code"]
            response = self.call("POST", f"/api/v1/courses/{code}/enrollment",
                                 "/api/v1/courses/[code]/enrollment")
            if response is None:
                return
            progress = response.json()
            if progress["completed_at"] is None:
                break
        else:  # everything completed already: a returning learner who browses
            self.course, self.finished = self.plan["courses"][0]["code"], True
            return
        self.course = code
        running = [a for a in progress["attempts"] if a["state"] == "in_progress"]
        for lesson in progress["lessons"]:
            if lesson["read"]:
                continue
            opened = self.call("GET", f"/api/v1/courses/{code}/lessons/{lesson['slug']}",
                               "/api/v1/courses/[code]/lessons/[slug]")
            if opened is None:
                return
            self.pending[lesson["slug"]] = time.time() + opened.json()["seconds_left"] + 1
        if running:
            self.attempt = {"id": running[0]["id"], "key": secrets.token_urlsafe(18)}

    def read_lessons(self) -> None:
        """Read a lesson page; mark read every lesson whose minimum time has passed."""
        slug = min(self.pending, key=self.pending.get)
        self.call("GET", f"/learn/{self.course}/lessons/{slug}", "/learn/[code]/lessons/[slug]")
        for slug, ready_at in sorted(self.pending.items(), key=lambda item: item[1]):
            if ready_at > time.time():
                break
            response = self.call("POST", f"/api/v1/courses/{self.course}/lessons/{slug}/read",
                                 "/api/v1/courses/[code]/lessons/[slug]/read", expected=(409,))
            if response is None:
                return
            if response.status_code == 409:  # too early by the server's clock: later
                seconds = response.json().get("errors", {}).get("seconds_left", ["5"])[0]
                self.pending[slug] = time.time() + int(seconds) + 1
                continue
            if response.json().get("read"):
                ack("read", user=self.user_id, code=self.course, slug=slug)
                del self.pending[slug]

    def start_quiz(self) -> None:
        self.call("GET", f"/learn/{self.course}", "/learn/[code]")
        response = self.call("POST", f"/api/v1/courses/{self.course}/attempts",
                             "/api/v1/courses/[code]/attempts", ok=(200, 201), expected=(409,))
        if response is None:
            return
        if response.status_code == 409:  # no attempt left: a returning learner who browses
            self.finished = True
            return
        attempt = response.json()
        ack("attempt", user=self.user_id, code=self.course, attempt=attempt["id"],
            number=attempt["number"])
        self.attempt = {"id": attempt["id"], "key": secrets.token_urlsafe(18)}

    def submit_quiz(self) -> None:
        attempt_id = self.attempt["id"]
        shown = self.call("GET", f"/api/v1/attempts/{attempt_id}", "/api/v1/attempts/[id]")
        if shown is None:
            return
        answers = {str(q["position"]): [o["id"] for o in q["options"] if o["id"] in CORRECT]
                   for q in shown.json()["questions"]}
        response = self.call("POST", f"/api/v1/attempts/{attempt_id}/submit",
                             "/api/v1/attempts/[id]/submit",
                             json={"idempotency_key": self.attempt["key"], "answers": answers})
        if response is None:
            return
        result = response.json()
        ack("submit", user=self.user_id, code=self.course, attempt=attempt_id,
            state=result["state"], passed=bool(result["passed"]))
        self.finished = True

    def browse(self) -> None:
        """After the quiz: the course page and the assignments, as a learner checking in."""
        self.call("GET", f"/learn/{self.course}", "/learn/[code]")
        self.call("GET", "/learn/assignments", "/learn/assignments")

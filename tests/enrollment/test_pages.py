"""The learner pages under /learn mirror the API: the catalogue, starting a course, lessons
with the server's reading clock, the quiz without right answers until it closes, the result."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from courses.models import Option
from enrollment.models import Attempt, AttemptQuestion, AttemptState, LessonProgress
from lms.db import utcnow
from lms.people.models import Role
from tests.support.factories import login

SECRETS = ("Vì thế", "Luôn đội", "correct-option", "✓")


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def form_value(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]+)"', html).group(1)


def post(client, url, page_url, data=None):
    token = csrf(client.get(page_url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **(data or {})})


def start(client):
    return post(client, "/learn/TEST-ATGT/start", "/learn/")


def read_everything(client, db):
    start(client)
    for slug in ("bien-bao", "mu-bao-hiem"):
        assert client.get(f"/learn/TEST-ATGT/lessons/{slug}").status_code == 200
    for progress in db.execute(select(LessonProgress)).scalars():
        progress.first_opened_at = utcnow() - timedelta(minutes=5)
    db.flush()
    for slug in ("bien-bao", "mu-bao-hiem"):
        done = post(client, f"/learn/TEST-ATGT/lessons/{slug}/read",
                    f"/learn/TEST-ATGT/lessons/{slug}")
        assert done.status_code == 303


def take_quiz(client) -> tuple[int, str]:
    started = post(client, "/learn/TEST-ATGT/quiz", "/learn/TEST-ATGT")
    assert started.status_code == 303
    attempt_id = int(started.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    return attempt_id, client.get(f"/learn/attempts/{attempt_id}").get_data(as_text=True)


def answers(db, attempt_id: int, *, wrong: bool = False) -> dict[str, list[str]]:
    """Form fields q<position> with the right (or wrong) option ids of the shown options."""
    fields: dict[str, list[str]] = {}
    for slot in db.execute(select(AttemptQuestion).where(
            AttemptQuestion.attempt_id == attempt_id)).scalars():
        correct = set(db.execute(select(Option.id).where(
            Option.id.in_(slot.option_order), Option.is_correct)).scalars())
        chosen = ([o for o in slot.option_order if o not in correct][:1] if wrong
                  else sorted(correct))
        fields[f"q{slot.position}"] = [str(o) for o in chosen]
        fields.setdefault("positions", []).append(str(slot.position))
    return fields


def test_catalogue_lists_the_course_and_start_opens_it(client, student, course):
    assert client.get("/learn/").status_code in (302, 401)  # signed out
    login(client, student, level=1)
    page = client.get("/learn/").get_data(as_text=True)
    assert "Khóa học thử" in page and "Mô tả ngắn." in page and "30" in page
    assert 'action="/learn/TEST-ATGT/start"' in page
    started = start(client)
    assert started.status_code == 303 and started.headers["Location"].endswith(
        "/learn/TEST-ATGT")
    course_page = client.get("/learn/TEST-ATGT").get_data(as_text=True)
    assert "Chương 1" in course_page and 'value="0" max="2"' in course_page
    assert "/learn/TEST-ATGT/lessons/bien-bao" in course_page
    assert 'id="take-quiz"' not in course_page  # lessons unread
    assert post(client, "/learn/TEST-ATGT/quiz", "/learn/TEST-ATGT").status_code == 303
    assert client.get("/learn/NO-SUCH-COURSE").status_code == 404


def test_lesson_links_and_reading_too_early(client, student, course, db):
    login(client, student, level=1)
    start(client)
    first = client.get("/learn/TEST-ATGT/lessons/bien-bao").get_data(as_text=True)
    assert "/learn/TEST-ATGT/lessons/mu-bao-hiem" in first and 'rel="prev"' not in first
    assert "<table>" in first
    second = client.get("/learn/TEST-ATGT/lessons/mu-bao-hiem").get_data(as_text=True)
    assert "/learn/TEST-ATGT/lessons/bien-bao" in second and 'rel="next"' not in second
    assert "https://www.youtube.com/watch?v=abc" in second
    early = post(client, "/learn/TEST-ATGT/lessons/bien-bao/read",
                 "/learn/TEST-ATGT/lessons/bien-bao")
    assert early.status_code == 303 and early.headers["Location"].endswith(
        "/learn/TEST-ATGT/lessons/bien-bao")
    body = client.get(early.headers["Location"]).get_data(as_text=True)
    assert 'class="flash error"' in body and 'id="mark-read"' in body
    seconds = int(re.search(r'class="flash error"[^>]*>[^<]*?(\d+)', body).group(1))
    assert 0 < seconds <= 60
    assert all(p.read_at is None for p in db.execute(select(LessonProgress)).scalars())


def test_quiz_hides_answers_until_submitted_then_shows_the_result(client, student, course,
                                                                  db):
    login(client, student, level=1)
    read_everything(client, db)
    course_page = client.get("/learn/TEST-ATGT").get_data(as_text=True)
    assert 'value="2" max="2"' in course_page and 'id="take-quiz"' in course_page
    attempt_id, page = take_quiz(client)
    assert not any(secret in page for secret in SECRETS)
    assert page.count("<fieldset") == 3 and page.count("<legend>") == 3
    assert 'data-seconds-left="' in page and "js/quiz.js" in page
    key = form_value(page, "idempotency_key")
    assert len(key) >= 16
    wrong = answers(db, attempt_id, wrong=True)
    token = csrf(page)
    done = client.post(f"/learn/attempts/{attempt_id}/submit",
                       data={"csrf_token": token, "idempotency_key": key, **wrong})
    assert done.status_code == 303 and done.headers["Location"].endswith(
        f"/learn/attempts/{attempt_id}")
    result = client.get(f"/learn/attempts/{attempt_id}").get_data(as_text=True)
    assert 'id="result"' in result and "0%" in result and "failed" in result
    assert "correct-option" in result and 'id="quiz-form"' not in result
    again = client.post(f"/learn/attempts/{attempt_id}/submit", data={
        "csrf_token": token, "idempotency_key": key, **answers(db, attempt_id)})
    assert again.status_code == 303  # the double submit keeps the first result
    assert db.get(Attempt, attempt_id).correct == 0

    second_id, second = take_quiz(client)
    assert second_id != attempt_id and not any(secret in second for secret in SECRETS)
    client.post(f"/learn/attempts/{second_id}/submit", data={
        "csrf_token": csrf(second), "idempotency_key": form_value(second, "idempotency_key"),
        **answers(db, second_id)})
    passed = db.get(Attempt, second_id)
    assert passed.state is AttemptState.GRADED and passed.passed
    assert "100%" in client.get(f"/learn/attempts/{second_id}").get_data(as_text=True)
    assert 'id="completed"' in client.get("/learn/TEST-ATGT").get_data(as_text=True)
    refused = post(client, "/learn/TEST-ATGT/quiz", "/learn/TEST-ATGT")
    assert refused.status_code == 303 and refused.headers["Location"].endswith(
        "/learn/TEST-ATGT")


def test_another_learner_cannot_see_the_attempt(client, student, course, db, make):
    login(client, student, level=1)
    read_everything(client, db)
    attempt_id, _page = take_quiz(client)
    other = make.person(Role.LEARNER, make.unit("school", "00694"))
    login(client, other, level=1)
    assert client.get(f"/learn/attempts/{attempt_id}").status_code == 404
    token = csrf(client.get("/learn/").get_data(as_text=True))
    assert client.post(f"/learn/attempts/{attempt_id}/submit", data={
        "csrf_token": token, "idempotency_key": "not-mine-123"}).status_code == 404
    assert client.get("/learn/TEST-ATGT").status_code == 404

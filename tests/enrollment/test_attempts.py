"""Reading counts after its minimum time; quizzes draw, autosave, grade and release answers
on the server, once; attempts are numbered and limited."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from courses.models import Option, Question
from enrollment import signals
from enrollment.models import Attempt, AttemptState, LessonProgress
from lms.db import utcnow
from tests.support.factories import csrf_headers

SECRETS = ("is_correct", "correct_options", "explanation", "Vì thế")


def read_everything(api, db):
    api.post("/api/v1/courses/TEST-ATGT/enrollment")
    for slug in ("bien-bao", "mu-bao-hiem"):
        assert api.get(f"/api/v1/courses/TEST-ATGT/lessons/{slug}").status_code == 200
    for progress in db.execute(select(LessonProgress)).scalars():
        progress.first_opened_at = utcnow() - timedelta(minutes=5)
    db.flush()
    for slug in ("bien-bao", "mu-bao-hiem"):
        assert api.post(f"/api/v1/courses/TEST-ATGT/lessons/{slug}/read").status_code == 200


def right_answers(db, attempt_json, wrong=False):
    answers = {}
    for item in attempt_json["questions"]:
        shown = [o["id"] for o in item["options"]]
        correct = set(db.execute(select(Option.id).where(Option.id.in_(shown),
                                                         Option.is_correct)).scalars())
        answers[item["position"]] = ([o for o in shown if o not in correct][:1] if wrong
                                     else sorted(correct))
    return answers


def test_a_lesson_counts_only_after_its_minimum_time(api, db):
    assert api.post("/api/v1/courses/TEST-ATGT/enrollment").status_code == 200
    lesson = api.get("/api/v1/courses/TEST-ATGT/lessons/bien-bao").get_json()
    assert lesson["next"] == "mu-bao-hiem" and lesson["previous"] is None
    assert 0 < lesson["seconds_left"] <= 60 and "<table>" in lesson["html"]
    early = api.post("/api/v1/courses/TEST-ATGT/lessons/bien-bao/read")
    assert early.status_code == 409 and early.get_json()["code"] == "invalid_state"
    db.execute(select(LessonProgress)).scalar_one().first_opened_at -= timedelta(seconds=61)
    db.flush()
    assert api.post("/api/v1/courses/TEST-ATGT/lessons/bien-bao/read").get_json()["read"]
    progress = api.get("/api/v1/courses/TEST-ATGT/progress").get_json()
    assert progress["lessons_read"] == 1 and progress["completed_at"] is None


def test_the_quiz_waits_for_the_lessons(api):
    api.post("/api/v1/courses/TEST-ATGT/enrollment")
    refused = api.post("/api/v1/courses/TEST-ATGT/attempts")
    assert refused.status_code == 409


def test_fail_then_pass_and_answers_only_after_closing(api, db):
    completed = []
    signals.course_completed.connect(lambda _s, enrollment: completed.append(enrollment.id),
                                     weak=False)
    read_everything(api, db)
    first = api.post("/api/v1/courses/TEST-ATGT/attempts").get_json()
    assert first["number"] == 1 and first["total"] == 3 and first["state"] == "in_progress"
    assert not any(secret in str(first) for secret in SECRETS)
    keys = set(db.execute(select(Question.key).join(
        Attempt, Attempt.quiz_id == Question.quiz_id)).scalars())
    assert "q01" in keys
    again = api.post("/api/v1/courses/TEST-ATGT/attempts").get_json()
    assert again["id"] == first["id"]  # resumed, not a new draw
    fetched = api.get(f"/api/v1/attempts/{first['id']}").get_json()
    assert not any(secret in str(fetched) for secret in SECRETS)

    wrong = right_answers(db, first, wrong=True)
    position, choice = next(iter(wrong.items()))
    saved = api.put(f"/api/v1/attempts/{first['id']}/answers/{position}",
                    json={"selected": choice})
    assert saved.get_json()["selected"] == choice and saved.get_json()["position"] == position
    kept = api.get(f"/api/v1/attempts/{first['id']}").get_json()["questions"][position - 1]
    assert kept["selected"] == choice
    bogus = api.put(f"/api/v1/attempts/{first['id']}/answers/{position}",
                    json={"selected": [999999]})
    assert bogus.status_code == 422
    graded = api.post(f"/api/v1/attempts/{first['id']}/submit",
                      json={"idempotency_key": "first-try-1", "answers": wrong}).get_json()
    assert (graded["state"], graded["passed"], graded["correct"]) == ("graded", False, 0)
    assert graded["answers_released"] and all("correct_options" in q
                                              for q in graded["questions"])

    second = api.post("/api/v1/courses/TEST-ATGT/attempts").get_json()
    assert second["number"] == 2
    passed = api.post(f"/api/v1/attempts/{second['id']}/submit", json={
        "idempotency_key": "second-try", "answers": right_answers(db, second)}).get_json()
    assert passed["passed"] and passed["score_percent"] == 100
    progress = api.get("/api/v1/courses/TEST-ATGT/progress").get_json()
    assert progress["completed_at"] is not None and len(completed) == 1
    assert api.post("/api/v1/courses/TEST-ATGT/attempts").status_code == 409


def test_a_retried_submit_returns_the_first_result(api, db):
    read_everything(api, db)
    attempt = api.post("/api/v1/courses/TEST-ATGT/attempts").get_json()
    body = {"idempotency_key": "same-key-123", "answers": right_answers(db, attempt)}
    first = api.post(f"/api/v1/attempts/{attempt['id']}/submit", json=body).get_json()
    retried = api.post(f"/api/v1/attempts/{attempt['id']}/submit",
                       json={**body, "answers": right_answers(db, attempt, wrong=True)})
    assert retried.status_code == 200 and retried.get_json()["correct"] == first["correct"]
    other = api.post(f"/api/v1/attempts/{attempt['id']}/submit",
                     json={"idempotency_key": "another-key", "answers": {}})
    assert other.status_code == 409
    assert db.execute(select(Attempt)).scalars().all()[0].state is AttemptState.GRADED


def test_time_runs_out_on_the_server_clock(api, db):
    read_everything(api, db)
    attempt = api.post("/api/v1/courses/TEST-ATGT/attempts").get_json()
    answers = right_answers(db, attempt)
    position, choice = next(iter(answers.items()))
    api.put(f"/api/v1/attempts/{attempt['id']}/answers/{position}", json={"selected": choice})
    row = db.get(Attempt, attempt["id"])
    row.deadline_at = utcnow() - timedelta(minutes=1)
    db.flush()
    late = api.post(f"/api/v1/attempts/{attempt['id']}/submit",
                    json={"idempotency_key": "too-late-1", "answers": answers}).get_json()
    assert late["state"] == "abandoned" and late["correct"] == 1  # only what was saved


def test_attempts_are_limited_and_private(api, db, client, make, course):
    read_everything(api, db)
    for key in ("limit-one", "limit-two"):
        attempt = api.post("/api/v1/courses/TEST-ATGT/attempts").get_json()
        api.post(f"/api/v1/attempts/{attempt['id']}/submit", json={
            "idempotency_key": key, "answers": right_answers(db, attempt, wrong=True)})
    assert api.post("/api/v1/courses/TEST-ATGT/attempts").status_code == 409
    from lms.people.models import Role
    from tests.support.factories import csrf_headers, login

    other = make.person(Role.LEARNER, make.unit("school", "00694"))
    login(client, other, level=1)
    headers = csrf_headers(client)
    assert client.get(f"/api/v1/attempts/{attempt['id']}").status_code == 404
    assert client.put(f"/api/v1/attempts/{attempt['id']}/answers/1", json={"selected": []},
                      headers=headers).status_code == 404
    assert client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=headers, json={
        "idempotency_key": "not-mine-1"}).status_code == 404
    assert client.get("/api/v1/courses/TEST-ATGT/progress").status_code == 404


def test_catalogue_follows_the_audience(api, client, make, course):
    codes = [c["code"] for c in api.get("/api/v1/courses").get_json()]
    assert codes == ["TEST-ATGT"]  # a students' course, for a student
    from lms.people.models import Role
    from tests.support.factories import login

    servant = make.person(Role.LEARNER, make.unit("agency", "08"))
    login(client, servant, level=1)
    assert client.get("/api/v1/courses").get_json() == []
    outline = client.get("/api/v1/courses/TEST-ATGT").get_json()
    assert [m["title"] for m in outline["modules"]] == ["Chương 1"]
    assert outline["quiz"]["questions_per_attempt"] == 3
    assert "pool" not in outline["quiz"] and "Vì thế" not in str(outline)


def test_a_new_version_does_not_move_learners_already_started(api, db, make, client, tmp_path):
    import copy

    from courses.service import import_package
    from lms.people.models import Role
    from tests.courses.package_factory import COURSE, write_package
    from tests.support.factories import login

    started = api.post("/api/v1/courses/TEST-ATGT/enrollment").get_json()
    assert started["course_version"] == 1
    newer = copy.deepcopy(COURSE)
    newer["version"] = 2
    import_package(write_package(tmp_path / "v2", course=newer))
    assert api.get("/api/v1/courses/TEST-ATGT/progress").get_json()["course_version"] == 1
    newcomer = make.person(Role.LEARNER, make.unit("class", make.unit("school", "00694")))
    login(client, newcomer, level=1)
    headers = csrf_headers(client)
    fresh = client.post("/api/v1/courses/TEST-ATGT/enrollment", json={}, headers=headers)
    assert fresh.get_json()["course_version"] == 2

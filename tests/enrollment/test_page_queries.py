"""How many statements a learner page sends once the course outline is cached: the session with
its user, the enrolment with its version's stamp, the learner's own progress (and attempts).
A page that starts reloading the course per request fails here (bench/pages.py measures)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from lms.db import get_db
from tests.support.factories import login


@contextmanager
def selects(app) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(" ".join(statement.split()))

    engine = get_db(app).engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def content_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if any(f"FROM {table}" in s for table in (
        "courses", "course_modules", "lessons ", "quizzes"))]


def enrolled_client(client, student):
    from enrollment import service

    service.enroll(student, "TEST-ATGT")
    login(client, student, level=1)
    return client


def test_course_page_reads_only_the_learners_rows(app, client, student, course):
    enrolled_client(client, student)
    assert client.get("/learn/TEST-ATGT").status_code == 200  # warms the outline
    with selects(app) as seen:
        page = client.get("/learn/TEST-ATGT")
    assert page.status_code == 200 and "Khóa học thử" in page.get_data(as_text=True)
    assert content_reads(seen) == []
    assert len(seen) == 4, seen  # user+session, enrolment+stamp, progress, attempts


def test_lesson_page_reads_only_the_learners_rows(app, client, student, course):
    enrolled_client(client, student)
    url = "/learn/TEST-ATGT/lessons/mu-bao-hiem"
    assert client.get(url).status_code == 200  # warms the outline, starts the clock
    with selects(app) as seen:
        page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Cài quai mũ" in html and "bien-bao" in html
    assert content_reads(seen) == []
    assert len(seen) == 3, seen  # user+session, enrolment+stamp, the lesson's progress


def test_a_learner_who_has_not_started_gets_404_without_content_reads(app, client, student,
                                                                     course):
    login(client, student, level=1)
    with selects(app) as seen:
        assert client.get("/learn/TEST-ATGT/lessons/bien-bao").status_code == 404
        assert client.get("/learn/TEST-ATGT").status_code == 404
    assert content_reads(seen) == []


def test_catalogue_reads_started_courses_in_one_query(app, client, student, course, tmp_path):
    from courses.service import import_package
    from tests.courses.package_factory import COURSE, write_package

    import_package(write_package(tmp_path / "other", course={**COURSE, "code": "TEST-MANG"}))
    enrolled_client(client, student)  # TEST-ATGT started, TEST-MANG not
    with selects(app) as seen:
        html = client.get("/learn/").get_data(as_text=True)
    assert 'href="/learn/TEST-ATGT"' in html and 'href="/learn/TEST-MANG"' not in html
    # user+session, the started codes, the learner's audiences, the latest courses
    assert len(seen) == 4, seen

"""The per-process cache of course outlines (courses/cache.py) never serves a version's content
once its row says otherwise (re-imported with other content, made again under the same id,
unpublished), and never serves one course's content for another's."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select, update

from courses import queries as course_queries
from courses.cache import OutlineCache, Stamp
from courses.models import Course, Lesson
from courses.service import import_package
from tests.courses.package_factory import COURSE, write_package
from tests.support.factories import login

LESSON = "/learn/TEST-ATGT/lessons/bien-bao"


def enrolled(client, student, codes=("TEST-ATGT",)):
    from enrollment import service

    for code in codes:
        service.enroll(student, code)
    login(client, student, level=1)


def cached(app, course_id):
    return app.extensions["courses.outlines"]._outlines.get(course_id)


def test_changed_content_under_the_same_id_is_read_again(app, db, client, student, course):
    enrolled(client, student)
    assert "Biển báo" in client.get(LESSON).get_data(as_text=True)  # cached now
    assert cached(app, course.id) is not None
    # The version's rows replaced in place (what a delete + re-import under the same id, or a
    # restore of another database, amounts to): another digest, other text.
    db.execute(update(Lesson).where(Lesson.course_id == course.id, Lesson.slug == "bien-bao")
               .values(html_vi="<h1>Nội dung mới</h1>", title_vi="Bài mới"))
    db.execute(update(Course).where(Course.id == course.id)
               .values(package_hash="f" * 64, title_vi="Khóa học đã sửa"))
    db.flush()
    page = client.get(LESSON).get_data(as_text=True)
    assert "Nội dung mới" in page and "Khóa học đã sửa" in page
    assert "Biển báo giao thông" not in page
    course_page = client.get("/learn/TEST-ATGT").get_data(as_text=True)
    assert "Bài mới" in course_page and "Khóa học đã sửa" in course_page


def test_a_row_made_again_with_the_same_digest_is_read_again(app, db, client, student, course):
    enrolled(client, student)
    client.get(LESSON)
    before = cached(app, course.id)
    db.execute(update(Course).where(Course.id == course.id)
               .values(created_at=course.created_at + timedelta(seconds=1)))
    db.execute(update(Lesson).where(Lesson.course_id == course.id, Lesson.slug == "bien-bao")
               .values(html_vi="<p>Bản khác</p>"))
    db.flush()
    assert "Bản khác" in client.get(LESSON).get_data(as_text=True)
    assert cached(app, course.id) is not before


def test_unpublishing_drops_the_cached_version(app, db, client, student, course):
    enrolled(client, student)
    client.get(LESSON)
    assert cached(app, course.id).stamp.is_published is True
    db.execute(update(Course).where(Course.id == course.id).values(is_published=False))
    db.flush()
    # A learner who started the version keeps it (as before the cache), read afresh.
    assert client.get(LESSON).status_code == 200
    assert cached(app, course.id).stamp.is_published is False


def test_a_higher_version_is_a_separate_entry(app, db, client, student, course, tmp_path):
    enrolled(client, student)
    client.get(LESSON)
    newer, created = import_package(write_package(
        tmp_path / "v2", course={**COURSE, "version": 2},
        lessons={"lessons/01-bien-bao.vi.md": "# Phiên bản hai\n\nNội dung hai.\n",
                 "lessons/02-mu.vi.md": "# Mũ\n"}))
    assert created and newer.id != course.id
    # The learner stays in version 1; its outline is untouched by version 2's import.
    assert "Biển báo giao thông" in client.get(LESSON).get_data(as_text=True)
    assert "Nội dung hai" in course_queries.outline(newer.id).lessons[0].html_vi
    assert course_queries.outline(course.id).version == 1


def test_courses_never_share_an_entry(app, db, client, student, course, tmp_path):
    other, _ = import_package(write_package(
        tmp_path / "other",
        course={**COURSE, "code": "TEST-MANG", "title": {"vi": "An toàn mạng"},
                "modules": [{"title": {"vi": "Chương A"}, "lessons": [
                    {"slug": "mat-khau", "file": "lessons/01-mk", "min_seconds": 5}]}]},
        lessons={"lessons/01-mk.vi.md": "# Mật khẩu mạnh\n\nDài và khó đoán.\n"}))
    enrolled(client, student, ("TEST-ATGT", "TEST-MANG"))
    assert "Biển báo giao thông" in client.get(LESSON).get_data(as_text=True)
    page = client.get("/learn/TEST-MANG/lessons/mat-khau").get_data(as_text=True)
    assert "Dài và khó đoán" in page and "Biển báo" not in page
    # Hostile: one course's lesson slug under the other's address.
    assert client.get("/learn/TEST-MANG/lessons/bien-bao").status_code == 404
    assert client.get("/learn/TEST-ATGT/lessons/mat-khau").status_code == 404
    assert cached(app, other.id).code == "TEST-MANG"
    assert cached(app, course.id).code == "TEST-ATGT"


def test_the_cache_holds_no_orm_objects(app, db, client, student, course):
    enrolled(client, student)
    client.get("/learn/TEST-ATGT")
    outline = cached(app, course.id)
    seen = [outline, *outline.modules, *outline.lessons, outline.quiz]
    assert not any(hasattr(item, "_sa_instance_state") for item in seen)
    lesson = db.execute(select(Lesson).where(Lesson.course_id == course.id)
                        .order_by(Lesson.position)).scalars().first()
    assert outline.lessons[0].id == lesson.id


def stamp(course_id: int, digest: str = "a") -> Stamp:
    from lms.db import utcnow

    return Stamp(course_id, digest, utcnow(), True)


def test_outline_cache_evicts_and_checks_stamps():
    from courses.cache import CourseOutline

    cache = OutlineCache(size=2)

    def outline(s: Stamp) -> CourseOutline:
        return CourseOutline(s, s.course_id, f"C{s.course_id}", 1, "t", None, "", None,
                             "students", 1, (), (), None)  # type: ignore[arg-type]

    first, second, third = stamp(1), stamp(2), stamp(3)
    for s in (first, second):
        cache.put(outline(s))
    assert cache.get(first).code == "C1"  # now the most recently used
    cache.put(outline(third))
    assert cache.get(second) is None and cache.get(first) is not None and len(cache) == 2
    assert cache.get(stamp(1, digest="b")) is None  # another digest under the same id
    assert cache.get(first) is None  # and the stale entry is gone


def test_outline_cache_is_safe_across_threads():
    from courses.cache import CourseOutline

    cache = OutlineCache(size=8)
    stamps = [stamp(n) for n in range(16)]
    errors = []

    def work(offset: int) -> None:
        try:
            for n in range(400):
                s = stamps[(n + offset) % len(stamps)]
                found = cache.get(s)
                if found is None:
                    cache.put(CourseOutline(s, s.course_id, f"C{s.course_id}", 1, "t", None,
                                            "", None, "students", 1, (), (), None))  # type: ignore[arg-type]
                elif found.code != f"C{s.course_id}":
                    errors.append(found)
        except Exception as exc:  # collected, asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(cache) <= 8

"""Reads of the catalogue: published courses (latest version per code) for an audience."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from courses.cache import CourseOutline, OutlineCache, Stamp, outline_of
from courses.models import Audience, Course, Lesson, Module, Question, Quiz
from lms.db import session
from lms.errors import NotFound
from lms.people.models import Role, RoleGrant, User
from lms.units.models import Unit, UnitKind

STUDENT_UNITS = {UnitKind.CLASS, UnitKind.SCHOOL}
# A course version's stamp (courses.cache.Stamp), in that order: select them with the row that
# leads to the course (an enrolment, say) and pass them to outline().
STAMP_COLUMNS = (Course.id, Course.package_hash, Course.created_at, Course.is_published)


def audiences_of(user: User | None) -> set[Audience]:
    """Students see the students' courses, public servants theirs, everyone the rest."""
    result = {Audience.EVERYONE}
    if user is None or not getattr(user, "is_authenticated", False):
        return result | {Audience.STUDENTS, Audience.PUBLIC_SERVANTS}
    kinds = set(session.execute(
        select(Unit.kind).join(RoleGrant, RoleGrant.unit_id == Unit.id)
        .where(RoleGrant.user_id == user.id, RoleGrant.role == Role.LEARNER,
               RoleGrant.revoked_at.is_(None))).scalars())
    if kinds & STUDENT_UNITS:
        result.add(Audience.STUDENTS)
    if kinds - STUDENT_UNITS or not kinds:
        result.add(Audience.PUBLIC_SERVANTS)
    return result


def latest_courses(audiences: set[Audience]) -> list[Course]:
    newest = (select(Course.code, func.max(Course.version).label("version"))
              .where(Course.is_published.is_(True)).group_by(Course.code).subquery())
    return list(session.execute(
        select(Course).join(newest, (Course.code == newest.c.code)
                            & (Course.version == newest.c.version))
        .where(Course.audience.in_(list(audiences))).order_by(Course.code)).scalars())


def get_course(course_id: int) -> Course:
    """A course version with modules, lessons and quiz loaded. Raises NotFound."""
    course = session.execute(select(Course).where(Course.id == course_id).options(
        selectinload(Course.modules).selectinload(Module.lessons),
        selectinload(Course.quiz))).scalar_one_or_none()
    if course is None:
        raise NotFound()
    return course


def _outlines() -> OutlineCache:
    """One cache per app (so per process in production; tests' apps on two databases apart)."""
    try:
        return current_app.extensions["courses.outlines"]
    except KeyError:
        return current_app.extensions.setdefault("courses.outlines", OutlineCache())


def outline(course_id: int, stamp: Stamp | None = None) -> CourseOutline:
    """A course version's modules, lessons and quiz settings as frozen plain data, from the
    per-process cache while the version's stamp (read now, or given by the caller from the
    same transaction) matches what was cached. Raises NotFound."""
    if stamp is None:
        row = session.execute(select(*STAMP_COLUMNS).where(Course.id == course_id)).first()
        if row is None:
            raise NotFound()
        stamp = Stamp(*row)
    cache = _outlines()
    found = cache.get(stamp)
    if found is None:
        found = outline_of(get_course(course_id))
        cache.put(found)
    return found


def latest_version(code: str) -> Course:
    """Raises NotFound when no published version exists."""
    course = session.execute(select(Course).where(Course.code == code,
                                                  Course.is_published.is_(True))
                             .order_by(Course.version.desc()).limit(1)).scalar_one_or_none()
    if course is None:
        raise NotFound()
    return get_course(course.id)


def lessons_of(course_id: int) -> list[Lesson]:
    return list(session.execute(select(Lesson).where(Lesson.course_id == course_id)
                                .order_by(Lesson.position)).scalars())


def quiz_with_pool(quiz_id: int) -> Quiz:
    quiz = session.execute(select(Quiz).where(Quiz.id == quiz_id).options(
        selectinload(Quiz.questions).selectinload(Question.options))).scalar_one_or_none()
    if quiz is None:
        raise NotFound()
    return quiz


def questions_with_options(question_ids: list[int]) -> dict[int, Question]:
    """Only the questions asked (an attempt draws ten of a pool of forty), options loaded."""
    return {q.id: q for q in session.execute(
        select(Question).where(Question.id.in_(question_ids))
        .options(selectinload(Question.options))).scalars()}


def get_quiz(quiz_id: int) -> Quiz:
    quiz = session.get(Quiz, quiz_id)
    if quiz is None:
        raise NotFound()
    return quiz


def quiz_id_of(course_id: int) -> int | None:
    return session.execute(select(Quiz.id).where(Quiz.course_id == course_id)
                           ).scalar_one_or_none()

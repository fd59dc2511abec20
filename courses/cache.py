"""A per-process cache of course versions' outlines (modules, lessons, quiz settings) as frozen
plain data: a version's content never changes after import (courses.service.import_package
refuses other bytes for a loaded version), so learner pages need not reload it per request."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from courses.models import AnswerRelease, Audience, Course, Lesson, Quiz

MAX_VERSIONS = 128  # a few dozen courses × their live versions; the rest are rebuilt on demand


@dataclass(frozen=True, slots=True)
class Stamp:
    """What identifies one course version's content: the row (id, created_at: a row deleted
    and made again, or a restored database, gets another), the package's digest, and whether
    it is published (an unpublished version is dropped from the cache, not served stale)."""
    course_id: int
    package_hash: str
    created_at: datetime
    is_published: bool


@dataclass(frozen=True, slots=True)
class LessonOutline:
    id: int
    module_id: int
    position: int
    slug: str
    title_vi: str
    title_en: str | None
    html_vi: str
    html_en: str | None
    min_seconds: int
    video_url: str | None


@dataclass(frozen=True, slots=True)
class ModuleOutline:
    id: int
    position: int
    title_vi: str
    title_en: str | None
    lessons: tuple[LessonOutline, ...]


@dataclass(frozen=True, slots=True)
class QuizOutline:
    id: int
    title_vi: str
    title_en: str | None
    pass_mark: int
    questions_per_attempt: int
    attempts_allowed: int
    time_limit_seconds: int
    shuffle_questions: bool
    shuffle_options: bool
    show_answers: AnswerRelease
    requires_all_lessons: bool


@dataclass(frozen=True, slots=True)
class CourseOutline:
    stamp: Stamp
    id: int
    code: str
    version: int
    title_vi: str
    title_en: str | None
    description_vi: str
    description_en: str | None
    audience: Audience
    estimated_minutes: int
    modules: tuple[ModuleOutline, ...]
    lessons: tuple[LessonOutline, ...]  # the whole course's, by position
    quiz: QuizOutline | None

    def lesson(self, slug: str) -> LessonOutline | None:
        return next((lesson for lesson in self.lessons if lesson.slug == slug), None)


def stamp_of(course: Course) -> Stamp:
    return Stamp(course.id, course.package_hash, course.created_at, course.is_published)


def outline_of(course: Course) -> CourseOutline:
    """Copy a course loaded with modules, lessons and quiz into plain frozen data."""
    modules = tuple(ModuleOutline(m.id, m.position, m.title_vi, m.title_en,
                                  tuple(_lesson(lesson) for lesson in m.lessons))
                    for m in course.modules)
    lessons = tuple(sorted((lesson for m in modules for lesson in m.lessons),
                           key=lambda lesson: lesson.position))
    return CourseOutline(stamp_of(course), course.id, course.code, course.version,
                         course.title_vi, course.title_en, course.description_vi,
                         course.description_en, course.audience, course.estimated_minutes,
                         modules, lessons, _quiz(course.quiz) if course.quiz else None)


def _lesson(lesson: Lesson) -> LessonOutline:
    return LessonOutline(lesson.id, lesson.module_id, lesson.position, lesson.slug,
                         lesson.title_vi, lesson.title_en, lesson.html_vi, lesson.html_en,
                         lesson.min_seconds, lesson.video_url)


def _quiz(quiz: Quiz) -> QuizOutline:
    return QuizOutline(quiz.id, quiz.title_vi, quiz.title_en, quiz.pass_mark,
                       quiz.questions_per_attempt, quiz.attempts_allowed,
                       quiz.time_limit_seconds, quiz.shuffle_questions, quiz.shuffle_options,
                       quiz.show_answers, quiz.requires_all_lessons)


class OutlineCache:
    """Course id → the outline of the version last seen with that id, served only while the
    caller's stamp (read from the database in the same request) matches. Thread-safe (gthread
    workers); least recently used versions are dropped past `size`."""

    def __init__(self, size: int = MAX_VERSIONS):
        self._size = size
        self._lock = threading.Lock()
        self._outlines: OrderedDict[int, CourseOutline] = OrderedDict()

    def get(self, stamp: Stamp) -> CourseOutline | None:
        with self._lock:
            found = self._outlines.get(stamp.course_id)
            if found is None:
                return None
            if found.stamp != stamp:  # re-imported, unpublished, or another database's row
                del self._outlines[stamp.course_id]
                return None
            self._outlines.move_to_end(stamp.course_id)
            return found

    def put(self, outline: CourseOutline) -> None:
        with self._lock:
            self._outlines[outline.id] = outline
            self._outlines.move_to_end(outline.id)
            while len(self._outlines) > self._size:
                self._outlines.popitem(last=False)

    def forget(self, course_id: int | None = None) -> None:
        """Drop one course version, or everything."""
        with self._lock:
            if course_id is None:
                self._outlines.clear()
            else:
                self._outlines.pop(course_id, None)

    def __len__(self) -> int:
        return len(self._outlines)


outlines = OutlineCache()

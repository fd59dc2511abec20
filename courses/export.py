"""`flask courses export CODE`: write a loaded course version back out as a package that
imports to the same content (round trip)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from courses.models import Course, Module, Question, QuestionType, Quiz
from lms.db import session
from lms.errors import NotFound


def _text(vi: str, en: str | None) -> dict[str, str]:
    return {"vi": vi, **({"en": en} if en is not None else {})}


def load_course(code: str, version: int | None = None) -> Course:
    """The course with everything under it. Raises NotFound."""
    query = (select(Course).where(Course.code == code)
             .options(selectinload(Course.modules).selectinload(Module.lessons),
                      selectinload(Course.quiz).selectinload(Quiz.questions),
                      selectinload(Course.assets)))
    if version is not None:
        query = query.where(Course.version == version)
    course = session.execute(query.order_by(Course.version.desc()).limit(1)).scalar_one_or_none()
    if course is None:
        raise NotFound()
    return course


def export_course(code: str, destination: Path, version: int | None = None) -> Path:
    course = load_course(code, version)
    destination.mkdir(parents=True, exist_ok=True)
    (destination / "lessons").mkdir(exist_ok=True)
    modules = []
    for module in course.modules:
        lessons = []
        for lesson in module.lessons:
            base = f"lessons/{lesson.position:02d}-{lesson.slug}"
            _write(destination / f"{base}.vi.md", f"# {lesson.title_vi}\n\n{lesson.source_vi}\n")
            if lesson.source_en is not None:
                _write(destination / f"{base}.en.md",
                       f"# {lesson.title_en or lesson.title_vi}\n\n{lesson.source_en}\n")
            lessons.append({"slug": lesson.slug, "file": base,
                            "min_seconds": lesson.min_seconds, "video_url": lesson.video_url})
        modules.append({"title": _text(module.title_vi, module.title_en), "lessons": lessons})
    document: dict[str, Any] = {
        "code": course.code, "version": course.version, "audience": course.audience.value,
        "estimated_minutes": course.estimated_minutes,
        "title": _text(course.title_vi, course.title_en),
        "description": _text(course.description_vi, course.description_en),
        "modules": modules}
    if course.quiz is not None:
        document["quiz"] = "quiz.yaml"
        _dump(destination / "quiz.yaml", _quiz(course.quiz))
    _dump(destination / "course.yaml", document)
    for asset in course.assets:
        target = destination / asset.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(asset.data)
    return destination


def _quiz(quiz: Quiz) -> dict[str, Any]:
    session.execute(select(Quiz).where(Quiz.id == quiz.id).options(
        selectinload(Quiz.questions).selectinload(Question.options))).scalar_one()
    pool = []
    for question in quiz.questions:
        entry: dict[str, Any] = {"id": question.key, "type": question.type.value,
                                 "text": _text(question.text_vi, question.text_en)}
        if question.type is QuestionType.TRUE_FALSE:
            entry["answer"] = next(o.key for o in question.options if o.is_correct) == "true"
        else:
            entry["options"] = [{"id": o.key, "text": _text(o.text_vi, o.text_en),
                                 "correct": o.is_correct} for o in question.options]
        entry["explanation"] = _text(question.explanation_vi, question.explanation_en)
        pool.append(entry)
    return {"title": _text(quiz.title_vi, quiz.title_en), "pass_mark": quiz.pass_mark,
            "questions_per_attempt": quiz.questions_per_attempt,
            "attempts_allowed": quiz.attempts_allowed,
            "time_limit_minutes": quiz.time_limit_seconds // 60,
            "shuffle_questions": quiz.shuffle_questions,
            "shuffle_options": quiz.shuffle_options, "show_answers": quiz.show_answers.value,
            "requires_all_lessons": quiz.requires_all_lessons,
            "always_include": [q.key for q in quiz.questions if q.always_included],
            "pool": pool}


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _dump(path: Path, document: dict[str, Any]) -> None:
    _write(path, yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100))

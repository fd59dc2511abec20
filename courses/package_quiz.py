"""The quiz file of a course package: settings and the question pool, validated line by line."""

from __future__ import annotations

from typing import Any

from courses.models import AnswerRelease, QuestionType
from courses.package_spec import (
    KEY,
    OptionSpec,
    QuestionSpec,
    QuizSpec,
    Reader,
    Text,
    bool_field,
    int_field,
    text_field,
)


def read_quiz(reader: Reader, relative: Any) -> QuizSpec | None:
    if not isinstance(relative, str):
        reader.problem("course.yaml", None, "quiz: the quiz file's path")
        return None
    data = reader.read_yaml(relative)
    if data is None:
        return None
    try:
        release = AnswerRelease(data.get("show_answers", "after_close"))
    except ValueError:
        reader.problem(relative, data["__line__"],
                       "show_answers: after_close, after_pass or never")
        release = AnswerRelease.NEVER
    pool = _pool(reader, relative, data)
    spec = QuizSpec(
        title=text_field(reader, relative, data, "title"),
        pass_mark=int_field(reader, relative, data, "pass_mark", 0, 100),
        questions_per_attempt=int_field(reader, relative, data, "questions_per_attempt", 1, 200),
        attempts_allowed=int_field(reader, relative, data, "attempts_allowed", 0, 100, 0),
        time_limit_minutes=int_field(reader, relative, data, "time_limit_minutes", 0, 600, 0),
        shuffle_questions=bool_field(reader, relative, data, "shuffle_questions", True),
        shuffle_options=bool_field(reader, relative, data, "shuffle_options", True),
        show_answers=release,
        requires_all_lessons=bool_field(reader, relative, data, "requires_all_lessons", True),
        pool=pool)
    keys = {q.key for q in pool}
    always = data.get("always_include") or []
    if not isinstance(always, list) or not all(isinstance(k, str) for k in always):
        reader.problem(relative, data["__line__"], "always_include: a list of question ids")
        always = []
    for key in always:
        if key not in keys:
            reader.problem(relative, _line_of(reader, relative, "always_include"),
                           f"always_include: no question with id {key} in the pool")
    spec.always_include = [k for k in always if k in keys]
    if len(spec.always_include) > spec.questions_per_attempt:
        reader.problem(relative, data["__line__"],
                       "always_include has more questions than an attempt draws")
    if pool and spec.questions_per_attempt > len(pool):
        reader.problem(relative, data["__line__"], f"questions_per_attempt "
                       f"{spec.questions_per_attempt} is more than the pool's {len(pool)}")
    return spec


def _line_of(reader: Reader, relative: str, key: str) -> int | None:
    """The line where a top-level key is written (lists carry no line of their own)."""
    text = reader.read_text(relative) or ""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return number
    return None


def _pool(reader: Reader, file: str, data: dict) -> list[QuestionSpec]:
    raw = data.get("pool")
    if not isinstance(raw, list) or not raw:
        reader.problem(file, data["__line__"], "pool: a list of questions")
        return []
    questions, seen = [], {}
    for entry in raw:
        if not isinstance(entry, dict):
            reader.problem(file, data["__line__"], "pool: each question is a mapping")
            continue
        question = _question(reader, file, entry)
        if question is None:
            continue
        if question.key in seen:
            reader.problem(file, entry["__line__"],
                           f"question id {question.key} repeats line {seen[question.key]}")
        seen[question.key] = entry["__line__"]
        questions.append(question)
    return questions


def _question(reader: Reader, file: str, data: dict) -> QuestionSpec | None:
    line = data["__line__"]
    key = data.get("id")
    if not isinstance(key, str) or not KEY.fullmatch(key):
        reader.problem(file, line, "id: a-z, 0-9 and '-'")
        return None
    try:
        kind = QuestionType(data.get("type"))
    except ValueError:
        reader.problem(file, line, f"{key}: type is single, multiple or true_false")
        return None
    text = text_field(reader, file, data, "text", max_length=2000)
    explanation = text_field(reader, file, data, "explanation", required=False, max_length=4000)
    if kind is QuestionType.TRUE_FALSE:
        answer = data.get("answer")
        if not isinstance(answer, bool):
            reader.problem(file, line, f"{key}: answer is true or false")
            return None
        options = [OptionSpec("true", Text("Đúng", "True"), answer),
                   OptionSpec("false", Text("Sai", "False"), not answer)]
        return QuestionSpec(key, kind, text, options, explanation)
    options = []
    for raw in data.get("options") or []:
        option_key = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(option_key, str) or not KEY.fullmatch(option_key):
            reader.problem(file, raw.get("__line__", line) if isinstance(raw, dict) else line,
                           f"{key}: each option needs an id")
            continue
        correct = raw.get("correct", False)
        if not isinstance(correct, bool):
            reader.problem(file, raw["__line__"], f"{key}.{option_key}: correct is true/false")
        option_text = text_field(reader, file, raw, "text", max_length=1000)
        options.append(OptionSpec(option_key, option_text, correct is True))
    right = sum(o.correct for o in options)
    if not 2 <= len(options) <= 6:
        reader.problem(file, line, f"{key}: 2 to 6 options")
    elif len({o.key for o in options}) != len(options):
        reader.problem(file, line, f"{key}: option ids repeat")
    elif kind is QuestionType.SINGLE and right != 1:
        reader.problem(file, line, f"{key}: a single-choice question has exactly one correct "
                                   f"option, not {right}")
    elif kind is QuestionType.MULTIPLE and right < 1:
        reader.problem(file, line, f"{key}: at least one correct option")
    return QuestionSpec(key, kind, text, options, explanation)

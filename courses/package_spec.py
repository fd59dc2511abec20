"""What a course package holds (plain dataclasses) and the line-aware YAML reader that collects
every problem with its file, line and reason."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from courses.models import AnswerRelease, Audience, QuestionType

CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,39}$")
KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
MAX_FILE = 1024 * 1024
IMAGE_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
               ".jpeg": "image/jpeg", ".webp": "image/webp"}


class PackageInvalid(Exception):
    def __init__(self, problems: list[dict[str, Any]]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass
class Text:
    vi: str
    en: str | None = None


@dataclass
class LessonSpec:
    slug: str
    file: str
    title: Text
    source: Text
    min_seconds: int
    video_url: str | None


@dataclass
class ModuleSpec:
    title: Text
    lessons: list[LessonSpec]


@dataclass
class OptionSpec:
    key: str
    text: Text
    correct: bool


@dataclass
class QuestionSpec:
    key: str
    type: QuestionType
    text: Text
    options: list[OptionSpec]
    explanation: Text


@dataclass
class QuizSpec:
    title: Text
    pass_mark: int
    questions_per_attempt: int
    attempts_allowed: int
    time_limit_minutes: int
    shuffle_questions: bool
    shuffle_options: bool
    show_answers: AnswerRelease
    requires_all_lessons: bool
    pool: list[QuestionSpec]
    always_include: list[str] = field(default_factory=list)  # drawn into every attempt


@dataclass
class CourseSpec:
    code: str
    version: int
    audience: Audience
    estimated_minutes: int
    title: Text
    description: Text
    modules: list[ModuleSpec]
    quiz: QuizSpec | None
    images: dict[str, bytes] = field(default_factory=dict)
    digest: str = ""


class LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping, as key "__line__"."""


def _mapping_with_line(loader: LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


class Reader:
    def __init__(self, root: Path):
        self.root = root
        self.problems: list[dict[str, Any]] = []

    def problem(self, file: str, line: int | None, message: str) -> None:
        self.problems.append({"file": file, "line": line, "message": message})

    def read_text(self, relative: str, line: int | None = None,
                  from_file: str = "") -> str | None:
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root.resolve()):
            self.problem(from_file or relative, line, f"{relative} is outside the package")
            return None
        if not path.is_file():
            self.problem(from_file or relative, line, f"missing file {relative}")
            return None
        if path.stat().st_size > MAX_FILE:
            self.problem(relative, None, "larger than 1 MB")
            return None
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            self.problem(relative, None, f"not UTF-8 (byte {exc.start})")
            return None

    def read_yaml(self, relative: str) -> dict[str, Any] | None:
        text = self.read_text(relative)
        if text is None:
            return None
        try:
            data = yaml.load(text, Loader=LineLoader)  # noqa: S506 (a SafeLoader subclass)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            self.problem(relative, mark.line + 1 if mark else None, f"not valid YAML: {exc}")
            return None
        if not isinstance(data, dict):
            self.problem(relative, 1, "must be a mapping")
            return None
        return data


def text_field(reader: Reader, file: str, data: dict, key: str, *, required: bool = True,
          max_length: int = 200) -> Text:
    line = data.get("__line__")
    value = data.get(key)
    if isinstance(value, str):
        value = {"vi": value}
    if not isinstance(value, dict) or not isinstance(value.get("vi"), str) or \
            not value["vi"].strip():
        if required:
            reader.problem(file, line, f"{key}: a Vietnamese text (vi) is required")
        return Text("")
    en = value.get("en")
    for lang, text in (("vi", value["vi"]), ("en", en)):
        if text is not None and (not isinstance(text, str) or len(text) > max_length):
            reader.problem(file, value.get("__line__", line),
                           f"{key}.{lang}: text of at most {max_length} characters")
    return Text(value["vi"].strip(), en.strip() if isinstance(en, str) else None)


def int_field(reader: Reader, file: str, data: dict, key: str, low: int, high: int,
         default: int | None = None) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        reader.problem(file, data.get("__line__"), f"{key}: a whole number from {low} to {high}")
        return low
    return value


def bool_field(reader: Reader, file: str, data: dict, key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        reader.problem(file, data.get("__line__"), f"{key}: true or false")
        return default
    return value



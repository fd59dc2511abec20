"""Read and validate a course package folder (docs/course-package.md) without touching the
database. Every problem is collected with its file, line and reason; a package with any
problem is refused whole (PackageInvalid)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path

from courses.models import Audience
from courses.package_quiz import read_quiz
from courses.package_spec import (
    CODE,
    IMAGE_TYPES,
    KEY,
    MAX_FILE,
    CourseSpec,
    LessonSpec,
    ModuleSpec,
    PackageInvalid,
    Reader,
    Text,
    int_field,
    text_field,
)


def read_package(root: Path) -> CourseSpec:
    """The validated package. Raises PackageInvalid listing every problem."""
    reader = Reader(root)
    data = reader.read_yaml("course.yaml")
    if data is None:
        raise PackageInvalid(reader.problems)
    file = "course.yaml"
    code = data.get("code")
    if not isinstance(code, str) or not CODE.fullmatch(code):
        reader.problem(file, data["__line__"], "code: A-Z, 0-9 and '-', at most 40")
    try:
        audience = Audience(data.get("audience"))
    except ValueError:
        reader.problem(file, data["__line__"], "audience: students, public_servants or everyone")
        audience = Audience.EVERYONE
    spec = CourseSpec(
        code=code if isinstance(code, str) else "",
        version=int_field(reader, file, data, "version", 1, 100_000),
        audience=audience,
        estimated_minutes=int_field(reader, file, data, "estimated_minutes", 1, 10_000),
        title=text_field(reader, file, data, "title"),
        description=text_field(reader, file, data, "description", required=False,
                          max_length=2000),
        modules=_modules(reader, data),
        quiz=read_quiz(reader, data["quiz"]) if data.get("quiz") else None,
        images=_images(reader, root))
    if reader.problems:
        raise PackageInvalid(reader.problems)
    spec.digest = content_digest(spec)
    return spec


def _modules(reader: Reader, data: dict) -> list[ModuleSpec]:
    file = "course.yaml"
    raw = data.get("modules")
    if not isinstance(raw, list) or not raw:
        reader.problem(file, data["__line__"], "modules: a list with at least one module")
        return []
    modules, slugs = [], {}
    for entry in raw:
        if not isinstance(entry, dict):
            reader.problem(file, data["__line__"], "modules: each module is a mapping")
            continue
        lessons = []
        for lesson in entry.get("lessons") or []:
            spec = _lesson(reader, lesson) if isinstance(lesson, dict) else None
            if spec is None:
                continue
            if spec.slug in slugs:
                reader.problem(file, lesson["__line__"],
                               f"slug {spec.slug} repeats line {slugs[spec.slug]}")
            slugs[spec.slug] = lesson["__line__"]
            lessons.append(spec)
        if not lessons:
            reader.problem(file, entry["__line__"], "lessons: at least one lesson per module")
        modules.append(ModuleSpec(text_field(reader, file, entry, "title"), lessons))
    return modules


def _lesson(reader: Reader, data: dict) -> LessonSpec | None:
    file, line = "course.yaml", data["__line__"]
    slug, base = data.get("slug"), data.get("file")
    if not isinstance(slug, str) or not KEY.fullmatch(slug):
        reader.problem(file, line, "slug: a-z, 0-9 and '-'")
        return None
    if not isinstance(base, str) or not base:
        reader.problem(file, line, "file: the lesson's path without .vi.md")
        return None
    video = data.get("video_url")
    if video is not None and (not isinstance(video, str) or not video.startswith("https://")):
        reader.problem(file, line, "video_url: an https link")
        video = None
    source_vi = reader.read_text(f"{base}.vi.md", line, file)
    source_en = None
    if (reader.root / f"{base}.en.md").is_file():
        source_en = reader.read_text(f"{base}.en.md", line, file)
    title_vi, body_vi = _split_title(reader, f"{base}.vi.md", source_vi)
    title_en, body_en = _split_title(reader, f"{base}.en.md", source_en)
    return LessonSpec(slug=slug, file=base, title=Text(title_vi, title_en or None),
                      source=Text(body_vi, body_en if source_en is not None else None),
                      min_seconds=int_field(reader, file, data, "min_seconds", 0, 7200, 60),
                      video_url=video)


def _split_title(reader: Reader, file: str, source: str | None) -> tuple[str, str]:
    if source is None:
        return "", ""
    first, _, rest = source.lstrip("\ufeff").partition("\n")
    if not first.startswith("# ") or not first[2:].strip():
        reader.problem(file, 1, "the first line must be the title: '# Title'")
        return "", rest
    if len(first[2:].strip()) > 200:
        reader.problem(file, 1, "the title has more than 200 characters")
    return first[2:].strip(), rest.strip("\n")


def _images(reader: Reader, root: Path) -> dict[str, bytes]:
    images = {}
    folder = root / "images"
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        if path.is_dir():
            continue
        relative = path.relative_to(root).as_posix()
        if path.suffix.lower() not in IMAGE_TYPES or path.stat().st_size > MAX_FILE:
            reader.problem(relative, None, "images are .svg, .png, .jpg or .webp up to 1 MB")
            continue
        data = path.read_bytes()
        if path.suffix.lower() == ".svg" and re.search(rb"<script|on\w+\s*=|href\s*=\s*[\"']"
                                                        rb"(?!#)", data, re.IGNORECASE):
            reader.problem(relative, None, "an SVG may not contain scripts, event handlers or "
                                           "links")
            continue
        images[relative] = data
    return images


def content_digest(spec: CourseSpec) -> str:
    """sha256 of what the package says, not of its bytes: an exported package (other file
    names, other YAML layout) has the same digest as the one it came from."""
    content = dataclasses.asdict(spec)
    content.pop("digest")
    images = content.pop("images")
    for module in content["modules"]:
        for lesson in module["lessons"]:
            lesson.pop("file")
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str,
                                       ensure_ascii=False).encode())
    for path in sorted(images):
        digest.update(path.encode() + b"\0" + hashlib.sha256(images[path]).digest())
    return digest.hexdigest()

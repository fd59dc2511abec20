"""The courses shipped in courses/content/ load, carry both languages, have a real quiz pool,
and round-trip through export to the same content."""

from __future__ import annotations

from pathlib import Path

import pytest

from courses.package import read_package

CONTENT = Path(__file__).resolve().parents[2] / "courses" / "content"
SHIPPED = sorted(p for p in CONTENT.iterdir() if (p / "course.yaml").is_file())


def test_the_three_courses_are_shipped():
    codes = {read_package(p).code for p in SHIPPED}
    assert {"ATGT-HS", "ATKGM", "CQS-CC"} <= codes


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: p.name)
def test_shipped_course_is_complete_in_both_languages(folder):
    spec = read_package(folder)
    lessons = [lesson for module in spec.modules for lesson in module.lessons]
    assert len(lessons) >= 4
    assert all(lesson.source.en and lesson.title.en for lesson in lessons)
    assert all(len(lesson.source.vi.split()) >= 250 for lesson in lessons)
    assert spec.quiz is not None and len(spec.quiz.pool) >= 20
    for question in spec.quiz.pool:
        assert question.text.en and question.explanation.vi and question.explanation.en


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: p.name)
def test_shipped_course_imports_and_round_trips(app, db, folder, tmp_path):
    runner = app.test_cli_runner()
    loaded = runner.invoke(args=["courses", "import", str(folder)])
    assert loaded.exit_code == 0, loaded.output
    code = read_package(folder).code
    out = tmp_path / "export"
    assert runner.invoke(args=["courses", "export", code, "--output", str(out)]).exit_code == 0
    assert read_package(out).digest == read_package(folder).digest
    again = runner.invoke(args=["courses", "import", str(out)])
    assert again.exit_code == 0 and "already loaded" in again.output

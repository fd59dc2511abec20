"""Course packages: validated whole (file, line, reason), sanitised, loaded as versions,
exported and imported back to the same content."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import func, select

from courses.models import Course, Lesson, Question
from courses.package import read_package
from courses.package_spec import PackageInvalid
from tests.courses.package_factory import COURSE, QUIZ, write_package


def count(db, model):
    return db.execute(select(func.count()).select_from(model)).scalar_one()


def run(app, *args):
    return app.test_cli_runner().invoke(args=["courses", *map(str, args)])


def test_import_then_export_round_trips(app, db, tmp_path):
    package = write_package(tmp_path / "pkg")
    result = run(app, "import", package)
    assert result.exit_code == 0, result.output
    assert "TEST-ATGT version 1 loaded" in result.output
    course = db.execute(select(Course).where(Course.code == "TEST-ATGT")).scalar_one()
    lessons = db.execute(select(Lesson).where(Lesson.course_id == course.id)
                         .order_by(Lesson.position)).scalars().all()
    assert [lesson.title_vi for lesson in lessons] == ["Biển báo giao thông", "Mũ bảo hiểm"]
    assert "<table>" in lessons[0].html_vi and "<strong>cấm</strong>" in lessons[0].html_vi
    assert lessons[1].html_en is None  # no English file: pages fall back to Vietnamese
    assert run(app, "import", package).output.strip().endswith("already loaded")

    exported = tmp_path / "out"
    assert run(app, "export", "TEST-ATGT", "--output", exported).exit_code == 0
    original, again = read_package(package), read_package(exported)
    for spec in (original, again):
        spec.digest = ""
        for module in spec.modules:
            for lesson in module.lessons:
                lesson.file = ""
    assert again == original


def test_hostile_html_is_removed(app, db, tmp_path):
    hostile = ("# Bài học\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
               "[bấm vào đây](javascript:alert(1))\n\n"
               '<link rel="stylesheet" href="https://evil.example/x.css">\n\n'
               "<style>body{display:none}</style>\n\n"
               '<a href="https://moet.gov.vn" onclick="steal()">Bộ GD&amp;ĐT</a>\n\n'
               "![ảnh ngoài](https://evil.example/track.png)\n")
    package = write_package(tmp_path / "pkg", lessons={
        "lessons/01-bien-bao.vi.md": hostile, "lessons/02-mu.vi.md": "# Mũ\n\nNội dung.\n"})
    assert run(app, "import", package).exit_code == 0
    html = db.execute(select(Lesson.html_vi).where(Lesson.slug == "bien-bao")).scalar_one()
    lowered = html.lower()
    for banned in ("<script", "onerror", "javascript:", "<link", "<style", "onclick",
                   "evil.example"):
        assert banned not in lowered, banned
    assert 'href="https://moet.gov.vn"' in html and "bấm vào đây" in html


def test_problems_are_reported_with_file_and_line_and_nothing_is_loaded(app, db, tmp_path):
    quiz = copy.deepcopy(QUIZ)
    quiz["always_include"] = ["q01", "q99"]  # a question that is not in the pool
    quiz["pool"][1]["options"][1]["correct"] = True  # q02 now has two right answers
    course = copy.deepcopy(COURSE)
    course["modules"][0]["lessons"][1]["file"] = "lessons/khong-co"
    package = write_package(tmp_path / "pkg", course=course, quiz=quiz)
    before = count(db, Course)
    result = run(app, "import", package)
    assert result.exit_code == 1
    errors = result.stderr
    quiz_lines = (package / "quiz.yaml").read_text().splitlines()
    always_line = next(i for i, line in enumerate(quiz_lines, 1)
                       if line.startswith("always_include"))
    assert f"quiz.yaml:{always_line}: always_include: no question with id q99" in errors
    assert "q02: a single-choice question has exactly one correct option, not 2" in errors
    assert "course.yaml:" in errors and "missing file lessons/khong-co.vi.md" in errors
    assert "nothing was loaded" in errors
    assert count(db, Course) == before


def test_yaml_syntax_error_names_the_line(tmp_path):
    package = write_package(tmp_path / "pkg")
    (package / "quiz.yaml").write_text("title: {vi: Kiểm tra\npool: [\n", encoding="utf-8")
    with pytest.raises(PackageInvalid) as caught:
        read_package(package)
    [problem] = caught.value.problems
    assert problem["file"] == "quiz.yaml" and problem["line"] in (2, 3)


def test_versions_do_not_replace_each_other(app, db, tmp_path):
    assert run(app, "import", write_package(tmp_path / "v1")).exit_code == 0
    course = copy.deepcopy(COURSE)
    course["version"] = 2
    course["title"]["vi"] = "Khóa học thử (bản 2)"
    assert run(app, "import", write_package(tmp_path / "v2", course=course)).exit_code == 0
    titles = db.execute(select(Course.version, Course.title_vi).where(
        Course.code == "TEST-ATGT").order_by(Course.version)).all()
    assert titles == [(1, "Khóa học thử"), (2, "Khóa học thử (bản 2)")]
    changed = write_package(tmp_path / "v1b", lessons={
        "lessons/01-bien-bao.vi.md": "# Khác\n\nKhác.\n", "lessons/02-mu.vi.md": "# Mũ\n\nx\n"})
    conflict = run(app, "import", changed)
    assert conflict.exit_code == 1 and "Traceback" not in conflict.output
    assert count(db, Question) == 12  # two versions of six questions, nothing more


def test_unsafe_paths_and_svg_scripts_are_refused(tmp_path):
    course = copy.deepcopy(COURSE)
    course["modules"][0]["lessons"][0]["file"] = "../../etc/passwd"
    package = write_package(tmp_path / "pkg", course=course)
    (package / "images").mkdir()
    (package / "images" / "x.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    with pytest.raises(PackageInvalid) as caught:
        read_package(package)
    messages = " ".join(p["message"] for p in caught.value.problems)
    assert "outside the package" in messages and "SVG may not contain scripts" in messages


def test_export_of_unknown_course_is_a_clean_error(app, db, tmp_path):
    result = run(app, "export", "NOPE", "--output", tmp_path / "x")
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_package_images_are_served_from_our_origin(app, db, client, tmp_path):
    package = write_package(tmp_path / "pkg", lessons={
        "lessons/01-bien-bao.vi.md": "# Biển\n\n![Biển cấm](images/cam.svg)\n",
        "lessons/02-mu.vi.md": "# Mũ\n\nx\n"})
    (package / "images").mkdir()
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="5" fill="red"/></svg>'
    (package / "images" / "cam.svg").write_bytes(svg)
    assert run(app, "import", package).exit_code == 0
    html = db.execute(select(Lesson.html_vi).where(Lesson.slug == "bien-bao")).scalar_one()
    assert 'src="/courses/TEST-ATGT/v1/assets/images/cam.svg"' in html
    response = client.get("/courses/TEST-ATGT/v1/assets/images/cam.svg")
    assert response.status_code == 200 and response.data == svg
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert client.get("/courses/TEST-ATGT/v1/assets/images/nope.svg").status_code == 404

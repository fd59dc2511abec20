"""Write small course packages into a folder for tests."""

from __future__ import annotations

from pathlib import Path

import yaml

COURSE = {
    "code": "TEST-ATGT", "version": 1, "audience": "students", "estimated_minutes": 30,
    "title": {"vi": "Khóa học thử", "en": "Test course"},
    "description": {"vi": "Mô tả ngắn.", "en": "Short description."},
    "modules": [{"title": {"vi": "Chương 1", "en": "Module 1"}, "lessons": [
        {"slug": "bien-bao", "file": "lessons/01-bien-bao", "min_seconds": 60},
        {"slug": "mu-bao-hiem", "file": "lessons/02-mu", "min_seconds": 90,
         "video_url": "https://www.youtube.com/watch?v=abc"}]}],
    "quiz": "quiz.yaml",
}


def question(n: int) -> dict:
    return {"id": f"q{n:02d}", "type": "single",
            "text": {"vi": f"Câu hỏi số {n}?", "en": f"Question {n}?"},
            "options": [{"id": "a", "text": {"vi": "Đúng", "en": "Right"}, "correct": True},
                        {"id": "b", "text": {"vi": "Sai", "en": "Wrong"}}],
            "explanation": {"vi": "Vì thế.", "en": "Because."}}


QUIZ = {"title": {"vi": "Kiểm tra", "en": "Quiz"}, "pass_mark": 80,
        "questions_per_attempt": 3, "attempts_allowed": 2, "time_limit_minutes": 10,
        "shuffle_questions": True, "shuffle_options": True, "show_answers": "after_close",
        "requires_all_lessons": True, "always_include": ["q01"],
        "pool": [question(n) for n in range(1, 5)] + [
            {"id": "q05", "type": "true_false", "text": {"vi": "Đội mũ bảo hiểm?"},
             "answer": True, "explanation": {"vi": "Luôn đội."}},
            {"id": "q06", "type": "multiple", "text": {"vi": "Chọn các biển cấm"},
             "options": [{"id": "a", "text": {"vi": "P.102"}, "correct": True},
                         {"id": "b", "text": {"vi": "P.103a"}, "correct": True},
                         {"id": "c", "text": {"vi": "W.201a"}}]}]}

LESSON_VI = """# Biển báo giao thông

Biển báo **cấm** có hình tròn, viền đỏ.

| Nhóm | Hình dạng |
|---|---|
| Cấm | Tròn |
"""


def write_package(root: Path, course: dict | None = None, quiz: dict | None = None,
                  lessons: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "lessons").mkdir(exist_ok=True)
    (root / "course.yaml").write_text(
        yaml.safe_dump(course or COURSE, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (root / "quiz.yaml").write_text(
        yaml.safe_dump(quiz or QUIZ, allow_unicode=True, sort_keys=False), encoding="utf-8")
    files = lessons or {"lessons/01-bien-bao.vi.md": LESSON_VI,
                        "lessons/01-bien-bao.en.md": "# Road signs\n\nProhibition signs.\n",
                        "lessons/02-mu.vi.md": "# Mũ bảo hiểm\n\nCài quai mũ đúng cách.\n"}
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root

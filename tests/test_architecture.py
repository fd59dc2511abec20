"""Dependencies point one way: lms ← courses ← enrollment ← certificates (DESIGN.md)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RANK = {"lms": 0, "courses": 1, "enrollment": 2, "certificates": 3}


def imports_of(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def violations(root: Path = ROOT) -> list[str]:
    out = []
    for package, rank in RANK.items():
        for path in (root / package).rglob("*.py"):
            if path == root / "lms" / "app.py":  # the composition root imports every package
                continue
            for line, module in imports_of(path):
                top = module.split(".")[0]
                if top in RANK and RANK[top] > rank:
                    out.append(f"{path.relative_to(root)}:{line} imports {module}")
    return out


def test_imports_follow_the_dependency_direction():
    assert violations() == []


def test_the_checker_catches_a_backwards_import(tmp_path):
    for package in RANK:
        (tmp_path / package).mkdir()
    (tmp_path / "lms" / "app.py").write_text("import certificates\n", encoding="utf-8")
    (tmp_path / "courses" / "x.py").write_text("from enrollment.models import A\n",
                                               encoding="utf-8")
    (tmp_path / "certificates" / "y.py").write_text("import lms.db\n", encoding="utf-8")
    assert violations(tmp_path) == ["courses/x.py:1 imports enrollment.models"]

"""Plain-text tables and number formats shared by the benchmarks, and the JSON result file."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def table(header: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell; text left-aligned, everything else right."""
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]

    def line(cells: list[str], left: set[int]) -> str:
        return "  ".join(c.ljust(w) if i in left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    left = {i for i, cell in enumerate(rows[0]) if not _numeric(cell)} if rows else set()
    return "\n".join([line(header, left), line(["-" * w for w in widths], left),
                      *(line(r, left) for r in rows)])


def _numeric(cell: str) -> bool:
    return cell[:1].isdigit()


def ratio(ours: float, floor: float) -> str:
    return f"{ours / floor:.2f}×" if floor else "n/a"


def secs(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def kib(value: int) -> str:
    return f"{value / 1024:,.0f} MiB"


def save(results: dict[str, Any]) -> Path:
    """bench/results/<UTC time>.json (ignored by git), with what the figures were taken on."""
    RESULTS.mkdir(exist_ok=True)
    now = datetime.now(UTC)
    path = RESULTS / f"{now:%Y%m%dT%H%M%SZ}.json"
    meta = {"taken_at": now.isoformat(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "machine": platform.platform()}
    path.write_text(json.dumps({"meta": meta, **results}, indent=2, ensure_ascii=False))
    return path

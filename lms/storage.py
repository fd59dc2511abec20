"""Where uploaded and generated files live: a local directory (LMS_STORAGE_DIR) behind a small
interface that object storage can implement later. Keys are content hashes, never names."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import current_app

UPLOAD_TTL = 24 * 3600


def _root(area: str) -> Path:
    path = Path(current_app.config["STORAGE_DIR"]) / area
    path.mkdir(parents=True, exist_ok=True)
    return path


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def keep_upload(data: bytes, meta: dict[str, Any]) -> str:
    """Store an upload for a later step (a dry run, then the import); returns its key."""
    key = hashlib.sha256(data).hexdigest()
    root = _root("uploads")
    _atomic_write(root / f"{key}.bin", data)
    _atomic_write(root / f"{key}.json", json.dumps({**meta, "at": time.time()}).encode())
    _expire(root)
    return key


def load_upload(key: str, **expected: Any) -> tuple[bytes, dict[str, Any]] | None:
    """The upload if it exists, is fresh and its metadata matches (owner, unit)."""
    if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
        return None
    root = _root("uploads")
    try:
        meta = json.loads((root / f"{key}.json").read_text())
        data = (root / f"{key}.bin").read_bytes()
    except (OSError, ValueError):
        return None
    if meta.get("at", 0) + UPLOAD_TTL < time.time():
        return None
    if any(meta.get(name) != value for name, value in expected.items()):
        return None
    return data, meta


def _expire(root: Path) -> None:
    limit = time.time() - UPLOAD_TTL
    for path in root.glob("*"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            continue

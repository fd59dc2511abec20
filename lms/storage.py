"""Where uploaded and generated files live: a local directory (LMS_STORAGE_DIR) behind a small
interface that object storage can implement later. Keys are content hashes (uploads) or random
tokens (job results), never names."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

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


@contextlib.contextmanager
def result_path(suffix: str = "") -> Iterator[Path]:
    """A fresh temporary path inside the results area for a job to stream a large output into
    (a CSV writer, openpyxl's write-only workbook); pass it to keep_result when complete.
    Whatever is left there when the block ends (an error, or never kept) is removed."""
    fd, tmp = tempfile.mkstemp(dir=_root("results/tmp"), suffix=suffix)
    os.close(fd)
    path = Path(tmp)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def keep_result(source: bytes | Path, ttl: int = UPLOAD_TTL) -> str:
    """Keep a job's output (bytes, or a file written under result_path) and return its key: a
    random token, so that a key reveals nothing and cannot be guessed. Outputs older than ttl
    seconds (plus an hour of grace) are swept; the Job row's expires_at is what access obeys."""
    key = secrets.token_urlsafe(24)
    root = _root("results")
    if isinstance(source, bytes):
        _atomic_write(root / key, source)
    elif Path(source).resolve().parent == (root / "tmp").resolve():
        os.replace(source, root / key)  # from result_path: an atomic rename
    else:
        fd, tmp = tempfile.mkstemp(dir=_root("results/tmp"))
        with os.fdopen(fd, "wb") as target, Path(source).open("rb") as origin:
            shutil.copyfileobj(origin, target)
        os.replace(tmp, root / key)
    _expire(root, ttl + 3600)
    _expire(root / "tmp", ttl + 3600)
    return key


_RESULT_KEY = re.compile(r"^[A-Za-z0-9_-]{32}$")


def open_result(key: str) -> BinaryIO | None:
    """The kept output for reading, or None when the key is malformed or the file is gone."""
    if not isinstance(key, str) or not _RESULT_KEY.fullmatch(key):
        return None
    try:
        return (_root("results") / key).open("rb")
    except OSError:
        return None


def delete_result(key: str) -> None:
    if isinstance(key, str) and _RESULT_KEY.fullmatch(key):
        (_root("results") / key).unlink(missing_ok=True)


_DOCUMENT_KEY = re.compile(r"^[0-9a-f]{64}$")


def _document_path(key: str) -> Path:
    # Two levels of fan-out keep directories small at a million documents.
    return _root("documents") / key[:2] / key[2:4] / key


def keep_document(data: bytes) -> str:
    """Keep a document of record (a certificate PDF) for good; returns its SHA-256, which is
    its key. Writing the same bytes twice is harmless."""
    key = hashlib.sha256(data).hexdigest()
    path = _document_path(key)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, data)
    return key


def read_document(key: str) -> bytes | None:
    """The document's bytes, or None when the key is malformed, missing or the file no longer
    matches its hash (a damaged file is never served)."""
    if not isinstance(key, str) or not _DOCUMENT_KEY.fullmatch(key):
        return None
    try:
        data = _document_path(key).read_bytes()
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest() == key else None


def _expire(root: Path, ttl: int = UPLOAD_TTL) -> None:
    limit = time.time() - ttl
    for path in root.glob("*"):
        if path.is_dir():
            continue
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            continue

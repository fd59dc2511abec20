"""The web floor: a bare Flask app with one endpoint returning a tiny HTML string, served by
the same gunicorn settings as the product (`gunicorn bench.floor_app:app`).

`/one-query` is the floor plus the least a signed-in page must do: one primary-key lookup
through SQLAlchemy on the product's database (DATABASE_URL of LMS_CONFIG_FILE, as the nodes
read it). Its throughput bounds what any page that reads its session from the database can
reach on this machine."""

import os
import threading
import tomllib
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, text

app = Flask(__name__)
_engine = None
_lock = threading.Lock()


def _database():
    global _engine
    with _lock:
        if _engine is None:
            config = tomllib.loads(Path(os.environ["LMS_CONFIG_FILE"]).read_text("utf-8"))
            url = {k.upper(): v for k, v in config.items()}["DATABASE_URL"]
            _engine = create_engine(url, pool_pre_ping=True)
        return _engine


@app.get("/")
def hello() -> str:
    return "<!doctype html><title>floor</title><p>Hello</p>"


@app.get("/one-query")
def one_query() -> str:
    with _database().connect() as connection:
        found = connection.execute(text("SELECT id FROM users WHERE id = :id"), {"id": 1})
        return f"<!doctype html><title>floor</title><p>{found.scalar()}</p>"

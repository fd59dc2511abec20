"""The web floor: a bare Flask app with one endpoint returning a tiny HTML string, served by
the same gunicorn settings as the product (`gunicorn bench.floor_app:app`)."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "<!doctype html><title>floor</title><p>Hello</p>"

"""Operations: /healthz touches nothing, /readyz checks the database and the broker and says
which failed; JSON logs (one object a line, request ID, no query string, no personal ID);
docs/operations.md documents every configuration key."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path

import pytest

from lms.app import create_app
from lms.config import DEFAULTS
from lms.db import get_db
from lms.logs import log_format, make_handler
from tests.conftest import TEST_CONFIG, RequestClient
from tests.support.postgres import free_port
from tests.support.redis_server import RedisUnavailable, start_redis

ROOT = Path(__file__).resolve().parents[2]
PERSONAL_ID = "079012345678"


def other_app(app, **config):
    other = create_app({**TEST_CONFIG, "DATABASE_URL": app.config["DATABASE_URL"], **config})
    other.test_client_class = RequestClient
    return other


def test_healthz_is_process_only_and_readyz_names_the_database(app):
    down = create_app({**TEST_CONFIG, "DATABASE_URL":
                       f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none"
                       "?connect_timeout=2"})
    client = down.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 503
    body = ready.get_json()
    assert body["code"] == "service_unavailable" and body["status"] == 503
    assert body["errors"] == {"database": ["unavailable"]}
    assert "database" in body["message"]
    get_db(down).dispose()


def test_readyz_pings_the_broker_when_one_is_configured(app):
    try:
        redis = start_redis()
    except RedisUnavailable as exc:  # make test installs redis-server: never a skip
        pytest.fail(str(exc))
    try:
        up = other_app(app, BROKER_URL=redis.url())
        assert up.test_client().get("/readyz").get_json() == {"status": "ready"}
        redis.process.terminate()
        redis.process.wait(timeout=10)
        ready = up.test_client().get("/readyz")
        assert ready.status_code == 503
        body = ready.get_json()
        assert body["errors"] == {"broker": ["unavailable"]}  # the database is fine
        assert body["message"] == "broker unavailable"
        assert up.test_client().get("/healthz").status_code == 200
    finally:
        redis.stop()
        get_db(up).dispose()


def test_log_format_defaults_to_json_in_production_only(app):
    assert log_format({"ENV": "production"}) == "json"
    assert log_format({"ENV": "development"}) == "text"
    assert log_format({"ENV": "testing"}) == "text"
    assert log_format({"ENV": "development", "LOG_FORMAT": "JSON"}) == "json"
    assert log_format({"ENV": "production", "LOG_FORMAT": "text"}) == "text"
    assert other_app(app, LOG_FORMAT="json").config["LOG_FORMAT"] == "json"


@pytest.fixture
def json_lines(app):
    """What the app logs in JSON while the test runs, one parsed object a line."""
    stream = io.StringIO()
    handler = make_handler("json", stream)
    root = logging.getLogger("lms")
    root.addHandler(handler)
    saved = app.config["LOG_FORMAT"]
    app.config["LOG_FORMAT"] = "json"

    def lines():
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    root.removeHandler(handler)
    app.config["LOG_FORMAT"] = saved


def test_json_logs_one_object_a_line_with_the_request_id(app, db, client, json_lines):
    # A request whose code logs a line (the full request cycle, without a test route).
    with app.test_request_context(f"/units/X?who={PERSONAL_ID}&x=1",
                                  headers={"X-Request-ID": "req-0123456789"}):
        app.preprocess_request()
        logging.getLogger("lms.test").warning("checked person %s", PERSONAL_ID)
        response = app.process_response(app.make_response("ok"))
    assert response.headers["X-Request-ID"] == "req-0123456789"
    lines = json_lines()
    message, request_line = lines[-2], lines[-1]
    assert message["logger"] == "lms.test" and message["level"] == "WARNING"
    assert message["message"] == "checked person 0790****5678"
    assert request_line["logger"] == "lms.request" and request_line["level"] == "INFO"
    for line in (message, request_line):
        assert line["request_id"] == "req-0123456789"
        assert line["method"] == "GET" and line["path"] == "/units/X"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert request_line["status"] == 200 and request_line["duration_ms"] >= 0
    assert "status" not in message
    everything = "\n".join(json.dumps(line) for line in lines)
    assert PERSONAL_ID not in everything and "who=" not in everything

    unsafe = client.get("/healthz", headers={"X-Request-ID": "bad id <script>; x=1"})
    generated = unsafe.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{16}", generated)
    assert json_lines()[-1]["request_id"] == generated
    assert json_lines()[-1]["path"] == "/healthz" and json_lines()[-1]["status"] == 200


def test_json_logs_mask_personal_ids_in_tracebacks():
    stream = io.StringIO()
    logger = logging.getLogger("lms.test.traceback")
    handler = make_handler("json", stream)
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError(f"bad row {PERSONAL_ID}")
        except RuntimeError:
            logger.exception("import failed")
    finally:
        logger.removeHandler(handler)
    (line,) = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert line["request_id"] == "-" and "RuntimeError" in line["exception"]
    assert PERSONAL_ID not in stream.getvalue()


def test_every_configuration_key_is_documented():
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    missing = [key for key in DEFAULTS if f"`{key}`" not in text]
    assert not missing, f"docs/operations.md does not document {missing}"

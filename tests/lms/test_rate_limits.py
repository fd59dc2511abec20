"""Rate limits: sign-in per client address, exports and uploads per user, each family one
allowance shared by its routes; a 429 keeps the one error shape and says when to retry; with
Redis storage two app instances (two web nodes) count together."""

from __future__ import annotations

import pytest

from lms.app import create_app
from lms.db import get_db
from lms.limits import limiter
from tests.conftest import TEST_CONFIG, RequestClient
from tests.support.factories import csrf_headers, login
from tests.support.redis_server import RedisUnavailable, start_redis


@pytest.fixture
def tight(app):
    """Set limits for one test (e.g. tight(RATELIMIT_EXPORT="3 per minute")), counters clear
    before and after."""
    saved = {}

    def set_limits(**limits):
        for key, value in limits.items():
            saved.setdefault(key, app.config[key])
            app.config[key] = value
        with app.app_context():
            limiter.reset()

    yield set_limits
    app.config.update(saved)
    with app.app_context():
        limiter.reset()


def from_address(client, address):
    client.environ_base["REMOTE_ADDR"] = address
    return client


def assert_limited_html(response):
    assert response.status_code == 429, response.status_code
    assert int(response.headers["Retry-After"]) > 0
    assert response.mimetype == "text/html"
    assert "Too many requests" in response.text or "Quá nhiều" in response.text


def assert_limited_json(response):
    assert response.status_code == 429, response.status_code
    assert int(response.headers["Retry-After"]) > 0
    body = response.get_json()
    assert body["code"] == "too_many_requests" and body["status"] == 429 and body["message"]


def test_sign_in_routes_share_one_allowance_per_client_address(app, client, tight):
    tight(RATELIMIT_SIGNIN="3 per minute")
    from_address(client, "198.51.100.7")
    headers = csrf_headers(client)
    # The login start (no provider configured here: a refusal, still counted), the callback
    # (no pending state) and a wrong school-account code: three sign-in attempts.
    assert client.post("/auth/login", data={"level": "1"}, headers=headers).status_code != 429
    assert client.get("/auth/callback?state=x&code=y").status_code != 429
    assert client.post("/auth/local", data={"username": "nobody", "code": "wrong"},
                       headers=headers).status_code == 401
    assert_limited_html(client.post("/auth/local", data={"username": "nobody", "code": "x"},
                                    headers=headers))
    assert_limited_html(client.get("/auth/callback?state=x&code=y"))
    assert client.get("/auth/local").status_code == 200  # showing the form costs nothing
    assert client.get("/auth/login").status_code == 200

    other = from_address(app.test_client(), "198.51.100.8")  # another address: its own count
    assert other.get("/auth/callback?state=x&code=y").status_code != 429


def test_exports_share_one_allowance_per_user_not_per_address(app, client, make, tight):
    tight(RATELIMIT_EXPORT="5 per minute")
    officer = make.user()
    login(from_address(client, "203.0.113.5"), officer)
    code = make.unit("school", "BGDDT").code  # out of the user's scope: 404, still counted
    for url in (f"/units/{code}/people.csv", f"/units/{code}/figures.csv",
                f"/units/{code}/figures.xlsx", "/snapshots/" + "a" * 20 + ".pdf",
                "/jobs/" + "b" * 32 + "/download"):
        assert client.get(url).status_code == 404, url
    assert_limited_html(client.get("/snapshots/" + "a" * 20 + ".csv"))
    assert_limited_html(client.post(f"/units/{code}/certificates.zip",
                                    headers=csrf_headers(client)))
    assert_limited_json(client.post(f"/api/v1/units/{code}/certificates/zip",
                                    headers=csrf_headers(client)))

    # A colleague behind the same address has an allowance of their own.
    colleague = from_address(app.test_client(), "203.0.113.5")
    login(colleague, make.user("Lò Thị Sình"))
    assert colleague.get(f"/units/{code}/figures.csv").status_code == 404
    # Pages that are not downloads are not counted.
    assert client.get("/learn/assignments").status_code != 429


def test_uploads_share_one_allowance_per_user(app, client, make, tight):
    tight(RATELIMIT_UPLOAD="3 per minute")
    admin = make.user()
    login(client, admin)
    headers = csrf_headers(client)
    code = make.unit("school", "BGDDT").code
    assert client.post(f"/units/{code}/roster/check", headers=headers).status_code == 404
    assert client.post("/api/v1/units/import", headers=headers).status_code == 422
    assert client.post(f"/units/{code}/import", headers=headers).status_code != 429
    assert_limited_json(client.post(f"/api/v1/units/{code}/roster/import", headers=headers))
    assert_limited_html(client.post(f"/units/{code}/roster/import", headers=headers))
    # Exports have their own allowance.
    assert client.get(f"/units/{code}/figures.csv").status_code == 404


@pytest.fixture
def redis_server():  # one per test: the test stops it
    try:
        server = start_redis()
    except RedisUnavailable as exc:  # make test installs redis-server: never a skip
        pytest.fail(str(exc))
    yield server
    server.stop()


def node(app, redis_url):
    """Another web node: an app of its own on the same database, counting in Redis."""
    other = create_app({**TEST_CONFIG, "DATABASE_URL": app.config["DATABASE_URL"],
                        "RATELIMIT_STORAGE": redis_url, "RATELIMIT_SIGNIN": "3 per minute"})
    other.test_client_class = RequestClient
    return other


def test_two_nodes_count_together_in_redis_and_a_redis_outage_does_not_block(app,
                                                                             redis_server):
    url = redis_server.url()
    first, second = node(app, url), node(app, url)
    try:
        with first.app_context():
            limiter.reset()
        a = from_address(first.test_client(), "192.0.2.44")
        b = from_address(second.test_client(), "192.0.2.44")
        callback = "/auth/callback?state=x&code=y"
        assert a.get(callback).status_code == 400
        assert b.get(callback).status_code == 400
        assert a.get(callback).status_code == 400
        assert_limited_html(b.get(callback))  # the fourth attempt, on the other node
        assert_limited_html(a.get(callback))
        # The session-wide test app keeps its own (memory) counters.
        assert from_address(app.test_client(), "192.0.2.44").get(callback).status_code == 400

        import redis

        keys = redis.Redis.from_url(url).keys("*")
        assert keys and all(b"192.0.2.44" in key for key in keys)

        # Redis stops: sign-in is served, unlimited, rather than failing or hanging.
        redis_server.process.terminate()
        redis_server.process.wait(timeout=10)
        assert a.get(callback).status_code == 400
    finally:
        for instance in (first, second):
            get_db(instance).dispose()

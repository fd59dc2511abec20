"""Sign-in interoperability harness: Hocvuso run as a real server (`flask run`, threaded) on a
SQLite file prepared by the real CLI, against panva's oidc-provider (tests/oidc) or the hostile
provider (tests/support/hostile_op.py), with the browser played by a requests.Session.

None of the in-process `app`/`db`/`client` fixtures are used, so these tests run once, not
once per database engine; assertions read the server's SQLite file with sqlite3."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import RSAKey

from tests.support.hostile_op import HostileOp
from tests.support.oidc_provider import OidcProvider, start_provider, web_client
from tests.support.postgres import free_port

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 30
LOA1, LOA2 = "urn:vneid:loa:1", "urn:vneid:loa:2"
BASIC_CLIENT = ("hocvuso-basic", secrets.token_urlsafe(32))
PKJWT_CLIENT_ID = "hocvuso-pkjwt"
HOSTILE_CLIENT = ("hocvuso-hostile", secrets.token_urlsafe(32))
RUNNING: list[AppServer] = []  # every app server of the session, for the traceback check
_serial = itertools.count(1)


def _flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


@dataclass
class AppServer:
    url: str
    directory: Path
    env: dict[str, str]
    process: subprocess.Popen | None = field(default=None, repr=False)
    _serializer: Any = field(default=None, repr=False)

    @property
    def database_path(self) -> Path:
        return self.directory / "hocvuso.sqlite3"

    @property
    def log_path(self) -> Path:
        return self.directory / "server.log"

    def rows(self, sql: str, *params: Any) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(self.database_path, timeout=10)) as conn:
            return conn.execute(sql, params).fetchall()

    def value(self, sql: str, *params: Any) -> Any:
        rows = self.rows(sql, *params)
        return rows[0][0] if rows else None

    def open_sessions(self) -> int:
        return self.value("SELECT count(*) FROM user_sessions WHERE revoked_at IS NULL")

    def users(self, subject: str) -> list[tuple]:
        """(id, issuer, full_name, personal_id_masked) of every user with this subject."""
        return self.rows("SELECT id, issuer, full_name, personal_id_masked FROM users"
                         " WHERE subject = ? ORDER BY id", subject)

    def flask(self, *args: str) -> str:
        done = subprocess.run(_flask(*args), cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=120, check=False)
        assert done.returncode == 0, f"flask {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def log(self, start: int = 0) -> str:
        with self.log_path.open("rb") as log:
            log.seek(start)
            return log.read().decode("utf-8", "replace")

    def serializer(self) -> Any:
        """The app's own signing serializer for the Flask session cookie (same secret)."""
        if self._serializer is None:
            from lms.app import create_app

            app = create_app({"DATABASE_URL": self.env["LMS_DATABASE_URL"], "TESTING": False,
                              "SECRET_KEY": self.env["LMS_SECRET_KEY"], "ENV": "development",
                              "CONFIG_FILE": "", "DEV_IDP": False})
            self._serializer = app.session_interface.get_signing_serializer(app)
        return self._serializer

    def start(self) -> AppServer:
        port = self.url.rsplit(":", 1)[1]
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                _flask("run", "--host", "127.0.0.1", "--port", port), cwd=ROOT, env=self.env,
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the app server exited:\n{self.log()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    RUNNING.append(self)
                    return self
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"/healthz did not answer within {STARTUP_SECONDS}s:\n{self.log()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if self in RUNNING:
            RUNNING.remove(self)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory) -> Path:
    """One database prepared by the real CLI; every app server gets a copy."""
    directory = tmp_path_factory.mktemp("auth-template")
    server = AppServer("http://127.0.0.1:0", directory, {})
    server.env = _server_env(server, issuer="http://127.0.0.1:9")
    for command in (("db", "upgrade"), ("units", "load-official")):
        server.flask(*command)
    return server.database_path


def _server_env(server: AppServer, **oidc: str) -> dict[str, str]:
    # Inherited LMS_* / FLASK_* settings (make exports LMS_DEV_IDP=1) must not change the server.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LMS_", "FLASK_"))}
    env.update(LMS_DATABASE_URL=f"sqlite:///{server.database_path}",
               LMS_SECRET_KEY=secrets.token_urlsafe(32), LMS_ENV="development",
               LMS_CONFIG_FILE="", LMS_STORAGE_DIR=str(server.directory / "storage"),
               PYTHONUNBUFFERED="1", NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1")
    env.update({f"LMS_OIDC_{key.upper()}": value for key, value in oidc.items()})
    return env


@pytest.fixture(scope="session")
def start_app(database_template, tmp_path_factory) -> Iterator[Callable[..., AppServer]]:
    """start_app(port, issuer=..., client_id=..., ...) → a running app server, stopped at the
    end of the session. Keyword arguments become LMS_OIDC_<NAME> variables."""
    started: list[AppServer] = []

    def start(port: int | None = None, **oidc: str) -> AppServer:
        directory = tmp_path_factory.mktemp("auth-app")
        server = AppServer(f"http://127.0.0.1:{port or free_port()}", directory, {})
        shutil.copyfile(database_template, server.database_path)
        server.env = _server_env(server, **oidc)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture(autouse=True)
def no_server_errors() -> Iterator[None]:
    """A traceback in any app server's log during a test (a 500, an unhandled error) fails it."""
    marks = [(server, server.log_path.stat().st_size) for server in RUNNING]
    yield
    time.sleep(0.05)  # let the last request's log lines land
    for server, start in marks:
        new = server.log(start)
        assert "Traceback" not in new, f"{server.url} logged an error:\n{new}"


@dataclass(frozen=True)
class ClientKey:
    private_pem: str
    public_jwk: dict[str, Any]


@pytest.fixture(scope="session")
def client_key() -> ClientKey:
    """The RSA key of the private_key_jwt client: PEM for the app, public JWK for panva."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    jwk = RSAKey.import_key(pem).as_dict(private=False)
    return ClientKey(pem, {**jwk, "kid": "hocvuso-client-1", "use": "sig", "alg": "RS256"})


@pytest.fixture(scope="session")
def app_ports() -> dict[str, int]:
    """Ports chosen before panva starts: its clients' redirect URIs must name them."""
    return {"basic": free_port(), "pkjwt": free_port()}


@pytest.fixture(scope="session")
def panva(app_ports, client_key) -> Iterator[OidcProvider]:
    clients = [
        web_client(BASIC_CLIENT[0], f"http://127.0.0.1:{app_ports['basic']}",
                   client_secret=BASIC_CLIENT[1], token_endpoint_auth_method="client_secret_basic"),
        web_client(PKJWT_CLIENT_ID, f"http://127.0.0.1:{app_ports['pkjwt']}",
                   token_endpoint_auth_method="private_key_jwt",
                   jwks={"keys": [client_key.public_jwk]}),
    ]
    provider = start_provider(clients)  # raises (never skips) without node, npm or the package
    yield provider
    provider.close()


@pytest.fixture(scope="session")
def panva_app(panva, app_ports, start_app) -> AppServer:
    return start_app(app_ports["basic"], issuer=panva.issuer, client_id=BASIC_CLIENT[0],
                     client_secret=BASIC_CLIENT[1])


@pytest.fixture(scope="session")
def hostile_op() -> Iterator[HostileOp]:
    op = HostileOp(*HOSTILE_CLIENT).start()
    yield op
    op.stop()


@pytest.fixture(scope="session")
def hostile_app(hostile_op, start_app) -> AppServer:
    return start_app(issuer=hostile_op.issuer, client_id=HOSTILE_CLIENT[0],
                     client_secret=HOSTILE_CLIENT[1])


@pytest.fixture
def hostile(hostile_op) -> Iterator[HostileOp]:
    """The hostile provider, back in mode "ok" after the test."""
    hostile_op.mode = "ok"
    yield hostile_op
    hostile_op.mode = "ok"


def new_citizen(acr: str = LOA2, name: str = "Nguyễn Thị Ánh Dương") -> dict[str, str]:
    """A synthetic citizen with a unique, structurally valid personal ID (079 = Hồ Chí Minh,
    2 = born in the 2000s, 03 = 2003) consistent with the birth date."""
    return {"sub": f"citizen-{secrets.token_hex(6)}", "name": name, "birthdate": "2003-05-01",
            "pid": f"0792030{next(_serial):05d}", "acr": acr}


@pytest.fixture
def panva_citizen(panva) -> Callable[..., dict[str, str]]:
    def register(**overrides: str) -> dict[str, str]:
        citizen = new_citizen(**overrides)
        panva.add_account(**citizen)
        return citizen

    return register


class Browser:
    """A browser: a cookie jar that follows nothing on its own."""

    def __init__(self) -> None:
        self.http = requests.Session()
        self.http.trust_env = False  # never a proxy for 127.0.0.1

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.http.get(url, allow_redirects=False, timeout=30, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.http.post(url, allow_redirects=False, timeout=30, **kwargs)

    def me(self, app: AppServer) -> requests.Response:
        return self.get(f"{app.url}/api/v1/me")

    def csrf(self, url: str) -> str:
        page = self.get(url)
        assert page.status_code == 200, page.text
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, page.text
        return found.group(1)

    def begin(self, app: AppServer, level: int = 1, next_url: str | None = None
              ) -> requests.Response:
        """GET the sign-in page, POST its form: the answer (303 to the provider, or a page)."""
        token = self.csrf(f"{app.url}/auth/login" + ("?level=2" if level == 2 else ""))
        form = {"csrf_token": token, "level": str(level), "next": next_url or "/"}
        return self.post(f"{app.url}/auth/login", data=form)

    def to_callback(self, app: AppServer, subject: str | None = None, level: int = 1,
                    next_url: str | None = None) -> str:
        """Start a sign-in and go through the provider: the callback URL, not yet visited."""
        started = self.begin(app, level, next_url)
        assert started.status_code == 303, started.text
        return self.through_provider(started.headers["Location"], app, subject)

    def through_provider(self, url: str, app: AppServer, subject: str | None,
                         action: str = "login") -> str:
        """Follow the provider's redirects, filling its login form (or cancelling there)."""
        callback = f"{app.url}/auth/callback"
        response = self.get(url)
        for _ in range(10):
            if response.is_redirect:
                location = urljoin(response.url, response.headers["Location"])
                if location.startswith(callback):
                    return location
                response = self.get(location)
            elif response.status_code == 200 and 'id="login"' in response.text:
                form = re.search(rf'id="{action}" method="post" action="([^"]+)"',
                                 response.text)
                assert form and (subject or action != "login"), response.text
                response = self.post(urljoin(response.url, form.group(1)),
                                     data={"login": subject or ""})
            else:
                raise AssertionError(f"the provider answered {response.status_code} at "
                                     f"{response.url}:\n{response.text[:3000]}")
        raise AssertionError("the provider never redirected back to the callback")

    def login(self, app: AppServer, subject: str | None = None, level: int = 1,
              next_url: str | None = None) -> requests.Response:
        """A whole sign-in; the callback's answer (303 to `next` on success)."""
        return self.get(self.to_callback(app, subject, level, next_url))

    def flask_session(self, app: AppServer) -> dict[str, Any]:
        return app.serializer().loads(self.http.cookies.get("session", domain="127.0.0.1"))

    def set_flask_session(self, app: AppServer, data: dict[str, Any]) -> None:
        self.http.cookies.set("session", app.serializer().dumps(data), domain="127.0.0.1",
                              path="/")


@pytest.fixture
def browser() -> Browser:
    return Browser()


def failure_reason(response: requests.Response) -> str | None:
    found = re.search(r'id="failure-reason" data-reason="([^"]*)"', response.text)
    return found.group(1) if found else None


@pytest.fixture
def assert_refused() -> Callable[..., None]:
    """assert_refused(app, browser, response, status, reason, open_before): the failure page,
    nobody signed in, and no new open server-side session."""

    def check(app: AppServer, browser: Browser, response: requests.Response, status: int,
              reason: str, open_before: int) -> None:
        assert response.status_code == status, (response.status_code, response.text[:2000])
        assert failure_reason(response) == reason, response.text[:2000]
        assert "Traceback" not in response.text
        assert browser.me(app).status_code == 401
        assert app.open_sessions() == open_before

    return check

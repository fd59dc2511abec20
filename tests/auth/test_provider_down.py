"""The provider cannot be reached: starting a sign-in and completing one both show a clear page
with status 503 (never a 500 or a traceback), and nobody is signed in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.auth.conftest import BASIC_CLIENT, failure_reason
from tests.support.oidc_provider import OidcProvider, start_provider, web_client
from tests.support.postgres import free_port


@pytest.fixture(scope="module")
def down_pair(start_app) -> Iterator[tuple[OidcProvider, object]]:
    """A provider of its own (the test stops it) and an app server that uses it."""
    app_port = free_port()
    provider = start_provider([web_client(
        BASIC_CLIENT[0], f"http://127.0.0.1:{app_port}", client_secret=BASIC_CLIENT[1],
        token_endpoint_auth_method="client_secret_basic")])
    app = start_app(app_port, issuer=provider.issuer, client_id=BASIC_CLIENT[0],
                    client_secret=BASIC_CLIENT[1])
    yield provider, app
    provider.close()


def test_start_when_the_provider_is_down(start_app, browser, assert_refused):
    """Nothing listens at the issuer, and the app has never fetched its discovery document."""
    app = start_app(issuer=f"http://127.0.0.1:{free_port()}", client_id="nobody",
                    client_secret="nothing")
    answer = browser.begin(app, level=2)
    assert_refused(app, browser, answer, 503, "provider_unreachable", app.open_sessions())
    assert "Traceback" not in app.log()


def test_callback_when_the_provider_went_down(down_pair, browser, assert_refused):
    provider, app = down_pair
    citizen = {"sub": "citizen-down", "name": "Đỗ Thị Hà", "birthdate": "2003-05-01",
               "pid": "079203099001", "acr": "urn:vneid:loa:2"}
    provider.add_account(**citizen)
    url = browser.to_callback(app, citizen["sub"])
    open_before = app.open_sessions()
    provider.stop()
    try:
        answer = browser.get(url)
        assert_refused(app, browser, answer, 503, "provider_unreachable", open_before)
        assert app.users(citizen["sub"]) == []

        # Starting again while it is down: the cached discovery document still names the
        # provider, so the browser is sent there (and finds it down), or we show the 503 page.
        again = browser.begin(app)
        assert again.status_code in (303, 503), again.text
        if again.status_code == 503:
            assert failure_reason(again) == "provider_unreachable"
    finally:
        provider.start()

    # Back up: the same browser signs in.
    assert browser.login(app, citizen["sub"]).status_code == 303
    assert browser.me(app).status_code == 200

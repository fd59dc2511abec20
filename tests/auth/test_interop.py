"""Sign-in with a standards provider (panva's oidc-provider as VNeID): first and second login,
RP-initiated logout, private_key_jwt client authentication, safe `next=` after sign-in."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest

from tests.auth.conftest import LOA1, PKJWT_CLIENT_ID, Browser, failure_reason


def test_first_login_creates_the_user_once(panva, panva_app, panva_citizen, browser):
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Ánh Dương")
    citizen = panva_citizen(name=decomposed)
    assert browser.me(panva_app).status_code == 401
    open_before = panva_app.open_sessions()

    done = browser.login(panva_app, citizen["sub"])

    assert done.status_code == 303, done.text
    assert done.headers["Location"] == "/"
    [(user_id, issuer, full_name, masked)] = panva_app.users(citizen["sub"])
    assert issuer == panva.issuer
    assert full_name == unicodedata.normalize("NFC", decomposed) != decomposed
    assert masked == "0792****" + citizen["pid"][-4:]
    for row in panva_app.rows("SELECT * FROM users"):
        assert not any(citizen["pid"] in str(value) for value in row), row
    me = browser.me(panva_app)
    assert me.status_code == 200
    assert me.json()["id"] == user_id
    assert me.json()["full_name"] == "Nguyễn Thị Ánh Dương"
    assert me.json()["personal_id_masked"] == masked
    assert me.json()["birth_on"] == "2003-05-01"
    assert me.json()["level"] == 2
    assert panva_app.open_sessions() == open_before + 1


def test_second_login_reuses_the_user_and_refreshes_the_name(panva, panva_app, panva_citizen):
    citizen = panva_citizen(name="Phạm Văn Đức")
    first = Browser()
    assert first.login(panva_app, citizen["sub"]).status_code == 303
    [(user_id, _, name, _)] = panva_app.users(citizen["sub"])
    assert name == "Phạm Văn Đức"

    renamed = unicodedata.normalize("NFD", "Phạm Văn Đức Thịnh")
    panva.add_account(citizen["sub"], name=renamed)
    second = Browser()
    assert second.login(panva_app, citizen["sub"]).status_code == 303

    assert panva_app.users(citizen["sub"]) == [
        (user_id, panva.issuer, "Phạm Văn Đức Thịnh", "0792****" + citizen["pid"][-4:])]
    assert second.me(panva_app).json()["id"] == user_id
    assert second.me(panva_app).json()["full_name"] == "Phạm Văn Đức Thịnh"
    assert panva_app.value("SELECT count(*) FROM users WHERE issuer = ?", panva.issuer) == \
        panva_app.value("SELECT count(DISTINCT subject) FROM users WHERE issuer = ?",
                        panva.issuer)


def _form(html: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the page's (single) POST form."""
    action = re.search(r'<form[^>]*action="([^"]+)"', html)
    assert action, html
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))
    return action.group(1), fields


def _provider_asks_to_log_in(browser: Browser, app) -> bool:
    """Start a sign-in: does the provider show its login form (no single sign-on session)?"""
    response = browser.get(browser.begin(app).headers["Location"])
    while response.is_redirect:
        location = urljoin(response.url, response.headers["Location"])
        if location.startswith(f"{app.url}/auth/callback"):
            return False
        response = browser.get(location)
    assert response.status_code == 200, response.text
    return 'id="login"' in response.text


def test_logout_ends_both_sessions(panva, panva_app, panva_citizen, browser):
    citizen = panva_citizen()
    assert browser.login(panva_app, citizen["sub"]).status_code == 303
    assert browser.me(panva_app).status_code == 200
    assert not _provider_asks_to_log_in(browser, panva_app)  # the provider's session is open
    captured = browser.http.cookies.get("session", domain="127.0.0.1")
    open_before = panva_app.open_sessions()

    token = browser.csrf(f"{panva_app.url}/auth/logout")
    out = browser.post(f"{panva_app.url}/auth/logout", data={"csrf_token": token})

    assert out.status_code == 303, out.text
    location = out.headers["Location"]
    end_session = panva.discovery()["end_session_endpoint"]
    assert location.startswith(end_session + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["post_logout_redirect_uri"] == [f"{panva_app.url}/"]
    assert query["client_id"] == [panva_app.env["LMS_OIDC_CLIENT_ID"]]
    assert panva_app.open_sessions() == open_before - 1
    assert browser.me(panva_app).status_code == 401

    confirm = browser.get(location)  # the provider asks "sign out?": yes
    assert confirm.status_code == 200, confirm.text
    action, fields = _form(confirm.text)
    back = browser.post(urljoin(confirm.url, action), data={**fields, "logout": "yes"})
    assert back.is_redirect, back.text
    assert urljoin(back.url, back.headers["Location"]).split("?")[0] == f"{panva_app.url}/"
    assert browser.get(f"{panva_app.url}/").status_code == 200
    assert _provider_asks_to_log_in(browser, panva_app)  # and now it is closed too

    replay = Browser()
    replay.http.cookies.set("session", captured, domain="127.0.0.1", path="/")
    assert replay.me(panva_app).status_code == 401


def test_logout_needs_csrf(panva_app, panva_citizen, browser):
    citizen = panva_citizen()
    assert browser.login(panva_app, citizen["sub"]).status_code == 303
    refused = browser.post(f"{panva_app.url}/auth/logout", data={})
    assert refused.status_code == 400
    assert browser.me(panva_app).status_code == 200


def test_cancel_at_the_provider(panva_app, browser, assert_refused):
    open_before = panva_app.open_sessions()
    started = browser.begin(panva_app)
    url = browser.through_provider(started.headers["Location"], panva_app, None, "abort")
    assert parse_qs(urlsplit(url).query)["error"] == ["access_denied"]
    assert_refused(panva_app, browser, browser.get(url), 401, "cancelled", open_before)


@pytest.fixture(scope="module")
def pkjwt_app(panva, app_ports, start_app, client_key):
    return start_app(app_ports["pkjwt"], issuer=panva.issuer, client_id=PKJWT_CLIENT_ID,
                     client_auth_method="private_key_jwt",
                     client_private_key=client_key.private_pem)


def test_private_key_jwt_client_authentication(panva, pkjwt_app, panva_citizen, browser):
    citizen = panva_citizen()
    done = browser.login(pkjwt_app, citizen["sub"])
    assert done.status_code == 303, (done.status_code, failure_reason(done), done.text[:2000])
    assert browser.me(pkjwt_app).status_code == 200
    [(_, issuer, _, _)] = pkjwt_app.users(citizen["sub"])
    assert issuer == panva.issuer


def _is_local(location: str, app_url: str) -> bool:
    if location.startswith(("//", "/\\")) or "\\" in location:
        return False  # browsers read a backslash as a slash
    absolute = urlsplit(urljoin(f"{app_url}/auth/callback", location))
    return absolute.scheme == "http" and absolute.netloc == urlsplit(app_url).netloc


@pytest.mark.parametrize("evil", [
    "//evil.example", "https:evil.example", "/\\evil.example", "javascript:alert(1)",
    "https://evil.example/", "/\t/evil.example", "\\\\evil.example",
], ids=["protocol-relative", "scheme-without-slashes", "slash-backslash", "javascript",
        "absolute", "tab", "backslashes"])
def test_next_never_leaves_the_site(panva_app, panva_citizen, browser, evil):
    citizen = panva_citizen(acr=LOA1)
    page = browser.get(f"{panva_app.url}/auth/login", params={"next": evil})
    assert 'name="next" value="/"' in page.text
    done = browser.login(panva_app, citizen["sub"], next_url=evil)
    assert done.status_code == 303, done.text
    assert _is_local(done.headers["Location"], panva_app.url), done.headers["Location"]
    landed = browser.get(urljoin(done.url, done.headers["Location"]))
    assert landed.status_code == 200
    assert browser.me(panva_app).status_code == 200


def test_next_keeps_a_local_path(panva_app, panva_citizen, browser):
    citizen = panva_citizen()
    done = browser.login(panva_app, citizen["sub"], next_url="/api/v1/me?x=1")
    assert done.headers["Location"] == "/api/v1/me?x=1"

"""Sign-ins the relying party must refuse against a real provider (panva): state mismatch,
replayed callback, callback in another browser, wrong PKCE verifier, wrong nonce, and a level 1
identity where level 2 is needed. Each refusal leaves nobody signed in and no open session."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tests.auth.conftest import LOA1, LOA2, Browser


def _with_query(url: str, **changes: str | None) -> str:
    parts = urlsplit(url)
    query = {k: v for k, v in parse_qsl(parts.query)}
    query.update(changes)
    query = {k: v for k, v in query.items() if v is not None}
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_state_mismatch(panva_app, panva_citizen, browser, assert_refused):
    citizen = panva_citizen()
    url = browser.to_callback(panva_app, citizen["sub"])
    open_before = panva_app.open_sessions()

    forged = browser.get(_with_query(url, state=secrets.token_urlsafe(32)))
    assert_refused(panva_app, browser, forged, 400, "state", open_before)
    missing = browser.get(_with_query(url, state=None))
    assert_refused(panva_app, browser, missing, 400, "state", open_before)
    assert panva_app.users(citizen["sub"]) == []

    # The genuine answer still works: the refusals were about the state alone.
    assert browser.get(url).status_code == 303
    assert browser.me(panva_app).status_code == 200


def test_replayed_callback(panva_app, panva_citizen, browser, assert_refused):
    citizen = panva_citizen()
    url = browser.to_callback(panva_app, citizen["sub"])
    before_callback = browser.http.cookies.get("session", domain="127.0.0.1")

    assert browser.get(url).status_code == 303
    assert browser.me(panva_app).status_code == 200
    open_after_first = panva_app.open_sessions()

    again = browser.get(url)  # the same browser: its state was used up
    assert again.status_code == 400
    assert panva_app.open_sessions() == open_after_first

    # Someone holding the browser's cookie from before the callback and the callback URL: the
    # provider's code is single use, so the exchange is refused.
    thief = Browser()
    thief.http.cookies.set("session", before_callback, domain="127.0.0.1", path="/")
    assert_refused(panva_app, thief, thief.get(url), 400, "token", open_after_first)
    assert len(panva_app.users(citizen["sub"])) == 1


def test_callback_in_another_browser(panva_app, panva_citizen, browser, assert_refused):
    citizen = panva_citizen()
    url = browser.to_callback(panva_app, citizen["sub"])
    open_before = panva_app.open_sessions()

    other = Browser()
    assert_refused(panva_app, other, other.get(url), 400, "state", open_before)
    assert panva_app.users(citizen["sub"]) == []

    assert browser.get(url).status_code == 303  # the browser that started it still can
    assert other.me(panva_app).status_code == 401


def _tamper_pending(browser: Browser, app, field: str) -> None:
    """Change one value of the pending sign-in kept in the signed Flask session cookie."""
    data = browser.flask_session(app)
    pending = data["oidc_pending"][-1]
    assert field in pending, pending
    pending[field] = secrets.token_urlsafe(64)
    browser.set_flask_session(app, data)
    assert browser.flask_session(app)["oidc_pending"][-1][field] == pending[field]


def test_wrong_pkce_verifier(panva_app, panva_citizen, browser, assert_refused):
    citizen = panva_citizen()
    url = browser.to_callback(panva_app, citizen["sub"])
    open_before = panva_app.open_sessions()
    _tamper_pending(browser, panva_app, "verifier")

    assert_refused(panva_app, browser, browser.get(url), 400, "token", open_before)
    assert panva_app.users(citizen["sub"]) == []


def test_wrong_nonce(panva_app, panva_citizen, browser, assert_refused):
    citizen = panva_citizen()
    url = browser.to_callback(panva_app, citizen["sub"])
    open_before = panva_app.open_sessions()
    _tamper_pending(browser, panva_app, "nonce")

    assert_refused(panva_app, browser, browser.get(url), 400, "token", open_before)
    assert panva_app.users(citizen["sub"]) == []


def test_authorization_request_uses_pkce_s256_state_and_nonce(panva_app, browser):
    started = browser.begin(panva_app, level=2)
    assert started.status_code == 303
    query = dict(parse_qsl(urlsplit(started.headers["Location"]).query))
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    assert query["acr_values"] == LOA2
    assert query["response_type"] == "code"
    assert "openid" in query["scope"].split()
    pending = browser.flask_session(panva_app)["oidc_pending"][-1]
    assert (pending["state"], pending["nonce"]) == (query["state"], query["nonce"])


def test_level_1_identity_when_level_2_was_asked(panva_app, panva_citizen, browser,
                                                 assert_refused):
    citizen = panva_citizen(acr=LOA1)
    open_before = panva_app.open_sessions()
    refused = browser.login(panva_app, citizen["sub"], level=2)
    assert_refused(panva_app, browser, refused, 403, "level", open_before)
    assert panva_app.users(citizen["sub"]) == []  # the refused request wrote nothing


def test_officer_needs_level_2(panva_app, panva_citizen, assert_refused):
    citizen = panva_citizen(acr=LOA1)
    learner = Browser()
    assert learner.login(panva_app, citizen["sub"]).status_code == 303  # a learner: level 1 ok
    [(user_id, _, _, _)] = panva_app.users(citizen["sub"])
    panva_app.flask("people", "grant", "officer", "01", "--user-id", str(user_id))
    assert learner.me(panva_app).status_code == 200  # the open session goes on (as a learner)
    open_before = panva_app.open_sessions()

    for level in (1, 2):
        officer = Browser()
        refused = officer.login(panva_app, citizen["sub"], level=level)
        assert_refused(panva_app, officer, refused, 403, "level", open_before)


def test_officer_at_level_2_signs_in(panva_app, panva_citizen, browser):
    citizen = panva_citizen(acr=LOA2)
    assert Browser().login(panva_app, citizen["sub"], level=2).status_code == 303
    [(user_id, _, _, _)] = panva_app.users(citizen["sub"])
    panva_app.flask("people", "grant", "officer", "01", "--user-id", str(user_id))

    done = browser.login(panva_app, citizen["sub"], level=1)
    assert done.status_code == 303, done.text
    me = browser.me(panva_app).json()
    assert me["level"] == 2
    assert [(g["role"], g["unit_code"]) for g in me["grants"]] == [("officer", "01")]

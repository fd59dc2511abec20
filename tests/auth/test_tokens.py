"""id_token attacks a real provider will not produce, from the hostile provider
(tests/support/hostile_op.py): wrong aud or iss, expired, wrong or missing nonce, alg none,
HS256 keyed with the public key, an unknown key; key rotation; concurrent first logins."""

from __future__ import annotations

import threading

import pytest

from tests.auth.conftest import Browser, new_citizen


def test_a_good_token_signs_in(hostile, hostile_app, browser):
    """The control: the hostile provider's "ok" token works, so refusals below are about the
    one thing each mode breaks."""
    hostile.citizen = new_citizen()
    done = browser.login(hostile_app)
    assert done.status_code == 303, done.text
    assert browser.me(hostile_app).status_code == 200
    [(_, issuer, name, masked)] = hostile_app.users(hostile.citizen["sub"])
    assert issuer == hostile.issuer
    assert name == hostile.citizen["name"]
    assert masked == "0792****" + hostile.citizen["pid"][-4:]


@pytest.mark.parametrize("mode", ["wrong_aud", "wrong_iss", "expired", "issued_long_ago",
                                  "wrong_nonce", "no_nonce", "alg_none", "hs256_public_key",
                                  "unpublished_key"])
def test_bad_id_token_is_refused(hostile, hostile_app, browser, assert_refused, mode):
    hostile.citizen = new_citizen()
    url = browser.to_callback(hostile_app)
    open_before = hostile_app.open_sessions()
    tokens_before = hostile.token_requests
    hostile.mode = mode

    assert_refused(hostile_app, browser, browser.get(url), 400, "token", open_before)
    assert hostile.token_requests == tokens_before + 1  # refused after the exchange, not before
    assert hostile_app.users(hostile.citizen["sub"]) == []


def test_unknown_kid_refetches_the_keys_at_most_once(hostile, hostile_app, assert_refused):
    hostile.citizen = new_citizen()
    assert Browser().login(hostile_app).status_code == 303  # the keys are cached now
    browser = Browser()
    url = browser.to_callback(hostile_app)
    open_before, fetches_before = hostile_app.open_sessions(), hostile.jwks_requests
    hostile.mode = "unpublished_key"

    assert_refused(hostile_app, browser, browser.get(url), 400, "token", open_before)
    assert hostile.jwks_requests - fetches_before <= 1


def test_key_rotation(hostile, hostile_app, browser):
    """A token signed by a key published after the relying party cached the JWKS: one refetch,
    then success."""
    hostile.citizen = new_citizen()
    assert Browser().login(hostile_app).status_code == 303  # the old keys are cached now
    fetches_before = hostile.jwks_requests
    url = browser.to_callback(hostile_app)
    hostile.mode = "rotated_key"

    done = browser.get(url)

    assert done.status_code == 303, done.text
    assert browser.me(hostile_app).status_code == 200
    assert hostile.jwks_requests == fetches_before + 1


def test_concurrent_first_logins_make_one_user(hostile, hostile_app):
    """Two callbacks of the same citizen's first sign-in at the same time, a few rounds so the
    race window is hit: one user, both sign-ins succeed."""
    for _ in range(5):
        hostile.citizen = new_citizen()
        browsers = [Browser(), Browser()]
        urls = [b.to_callback(hostile_app) for b in browsers]
        barrier = threading.Barrier(len(browsers))
        answers: dict[int, object] = {}

        def complete(index: int, answers=answers, barrier=barrier, urls=urls,
                     browsers=browsers) -> None:
            barrier.wait()
            try:
                answers[index] = browsers[index].get(urls[index]).status_code
            except Exception as exc:  # reported below, not lost in the thread
                answers[index] = repr(exc)

        threads = [threading.Thread(target=complete, args=(i,)) for i in range(len(browsers))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        assert len(hostile_app.users(hostile.citizen["sub"])) == 1
        assert answers == {0: 303, 1: 303}
        assert [b.me(hostile_app).status_code for b in browsers] == [200, 200]

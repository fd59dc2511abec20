"""Configuration precedence and the refusals that keep production safe."""

from __future__ import annotations

import pytest

from lms.app import create_app
from lms.config import INSECURE_SECRET, load_config
from lms.errors import ConfigError


def test_precedence_defaults_file_env_mapping(tmp_path, monkeypatch):
    config_file = tmp_path / "hocvuso.toml"
    config_file.write_text('SECRET_KEY = "from-file"\nbroker_url = "redis://file"\n'
                           'STORAGE_DIR = "/from/file"\n', encoding="utf-8")
    monkeypatch.setenv("LMS_CONFIG_FILE", str(config_file))
    monkeypatch.setenv("LMS_BROKER_URL", "redis://env")
    monkeypatch.setenv("LMS_PROXY_FIX", "2")
    config = load_config({"STORAGE_DIR": "/from/mapping"})
    assert config["SECRET_KEY"] == "from-file"  # file over default
    assert config["BROKER_URL"] == "redis://env"  # environment over file
    assert config["STORAGE_DIR"] == "/from/mapping"  # mapping over everything
    assert config["PROXY_FIX"] == 2  # typed from the environment
    assert config["DEV_IDP"] is False  # default


def test_refuses_the_default_secret_outside_testing(monkeypatch):
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="LMS_SECRET_KEY"):
        create_app({"CONFIG_FILE": "", "DATABASE_URL": "sqlite://"})
    assert load_config({"CONFIG_FILE": "", "TESTING": True})["SECRET_KEY"] == INSECURE_SECRET


def test_refuses_dev_idp_in_production(monkeypatch):
    monkeypatch.setenv("LMS_DEV_IDP", "1")
    with pytest.raises(ConfigError, match="production"):
        load_config({"CONFIG_FILE": "", "SECRET_KEY": "s" * 32})
    config = load_config({"CONFIG_FILE": "", "SECRET_KEY": "s" * 32, "ENV": "development"})
    assert config["DEV_IDP"] is True


def test_unreadable_config_file_is_an_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("SECRET_KEY = [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.toml"):
        load_config({"CONFIG_FILE": str(bad)})


def test_secure_cookies_in_production():
    app = create_app({"CONFIG_FILE": "", "SECRET_KEY": "s" * 32, "DATABASE_URL": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"

"""Configuration: defaults, then an optional TOML file, then LMS_* environment, then the mapping
passed to create_app. Later sources win."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lms.errors import ConfigError

INSECURE_SECRET = "insecure-development-secret-change-me"  # noqa: S105 (it is the sentinel)
ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    "ENV": "production",  # production | development | testing; production refuses the dev IdP
    "TESTING": False,
    "SECRET_KEY": INSECURE_SECRET,
    "PII_KEY": None,  # key for personal-ID hashing; derived from SECRET_KEY when unset
    "DATABASE_URL": f"sqlite:///{ROOT / 'instance' / 'hocvuso.sqlite3'}",
    "DATABASE_ECHO": False,
    # json (one JSON object a line, a line per request) | text; unset: json in production.
    "LOG_FORMAT": None,
    "STORAGE_DIR": str(ROOT / "instance" / "storage"),
    "CONFIG_FILE": str(ROOT / "instance" / "hocvuso.toml"),
    "DEV_IDP": False,
    "DEV_IDP_ISSUER": "http://127.0.0.1:5000/dev-idp",
    "OIDC_ISSUER": None,
    "OIDC_CLIENT_ID": None,
    "OIDC_CLIENT_SECRET": None,
    "BROKER_URL": None,
    "PROXY_FIX": 0,  # number of trusted reverse proxies in front of the app
    "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
    # Roster files above this size are checked and saved by background jobs.
    "ROSTER_SYNC_MAX_BYTES": 8 * 1024 * 1024,
    "UNIT_IMPORT_MAX_ROWS": 200_000,
    "ROOT_UNIT_CODE": "BGDDT",
    "ROOT_UNIT_NAME": "Bộ Giáo dục và Đào tạo",
    # Outgoing e-mail (reminders): nothing is sent while MAIL_SERVER is unset. MAIL_USE_TLS
    # means STARTTLS on MAIL_PORT. Typed by these defaults: LMS_MAIL_PORT=587 is an int.
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_FROM": "Hocvuso <no-reply@localhost>",
    # The address printed on certificates and in their QR codes (never the request's host).
    "PUBLIC_URL": "http://127.0.0.1:5000",
    # Certificates (docs/certificates.md): the Ed25519 key of offline payloads and credentials
    # (derived from SECRET_KEY when unset), retired public keys, and the PAdES signing key and
    # X.509 certificate chain (PEM); without the latter PDFs say they carry no signature.
    "CERTIFICATE_KEY_FILE": None,
    "CERTIFICATE_OLD_PUBLIC_KEYS": None,
    "CERTIFICATE_SIGNING_KEY_FILE": None,
    "CERTIFICATE_SIGNING_CERT_FILE": None,
    # A unit's certificates as one ZIP: up to this many are served in the request, more by a
    # background job (rendering a PDF not yet stored takes a moment each).
    "CERTIFICATE_ZIP_SYNC_MAX": 200,
    # Rate limits: shared counters (redis://…) when several web nodes run, else in memory.
    "RATELIMIT_STORAGE": "memory://",
    "RATELIMIT_VERIFY": "30 per minute",  # public certificate checks, per client address
    # Starting a VNeID sign-in, its callback and school-account sign-in POSTs, per client
    # address (an OIDC sign-in counts twice; a school's lab shares one address).
    "RATELIMIT_SIGNIN": "120 per minute",
    # Downloads (people.csv, figures, snapshots, job results, certificates ZIP), per user.
    "RATELIMIT_EXPORT": "30 per minute",
    # Roster checks and imports, unit imports, per user.
    "RATELIMIT_UPLOAD": "20 per minute",
    "REPORT_DEADLINE_DAY": 5,  # a month's report is due by the end of this day of the next
}

_BOOL_KEYS = {k for k, v in DEFAULTS.items() if isinstance(v, bool)}
_INT_KEYS = {k for k, v in DEFAULTS.items() if isinstance(v, int) and not isinstance(v, bool)}


def _coerce(key: str, value: str) -> Any:
    if key in _BOOL_KEYS:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if key in _INT_KEYS:
        return int(value)
    return value


def load_config(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Merge the four sources. Raises ConfigError for an unreadable file or an insecure secret."""
    config = dict(DEFAULTS)
    env = {k[4:]: v for k, v in os.environ.items() if k.startswith("LMS_")}
    overrides = dict(overrides or {})
    path = overrides.get("CONFIG_FILE") or env.get("CONFIG_FILE") or config["CONFIG_FILE"]
    file_values: dict[str, Any] = {}
    if path and Path(path).is_file():
        try:
            file_values = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read configuration file {path}: {exc}") from exc
    config.update({k.upper(): v for k, v in file_values.items()})
    config.update({k: _coerce(k, v) for k, v in env.items()})
    config.update(overrides)
    if config["TESTING"]:
        config["ENV"] = "testing"
    _check(config)
    return config


def _check(config: dict[str, Any]) -> None:
    if config["ENV"] not in {"production", "development", "testing"}:
        raise ConfigError("LMS_ENV must be production, development or testing")
    if not config["TESTING"] and config["SECRET_KEY"] == INSECURE_SECRET:
        raise ConfigError(
            "LMS_SECRET_KEY is the insecure default; set it (make run writes one to "
            "instance/hocvuso.toml)"
        )
    if config["DEV_IDP"] and config["ENV"] == "production":
        raise ConfigError("LMS_DEV_IDP=1 is refused in production mode (set LMS_ENV=development)")

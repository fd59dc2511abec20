"""Run panva's oidc-provider (tests/oidc/provider.mjs) on 127.0.0.1 as a stand-in for VNeID:
install its npm package when node_modules is missing, start it on a free port with the clients
the tests give it, wait for its discovery document, stop it (and start it again on the same
port). A missing node or npm raises: the sign-in tests never skip."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.support.postgres import free_port

OIDC_DIR = Path(__file__).resolve().parents[1] / "oidc"
STARTUP_SECONDS = 30
INSTALL_SECONDS = 300


class ProviderUnavailable(RuntimeError):
    pass


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise ProviderUnavailable(f"{name} not found: install Node.js 20+ and npm "
                                  "(Debian: apt-get install nodejs npm)")
    return found


def ensure_node_modules() -> None:
    """`npm ci` in tests/oidc when its node_modules is missing (the lock file pins versions)."""
    if (OIDC_DIR / "node_modules" / "oidc-provider" / "package.json").is_file():
        return
    for _attempt in (1, 2):  # once more after a failure: a registry hiccup is not a result
        done = subprocess.run([_tool("npm"), "ci", "--no-audit", "--no-fund"], cwd=OIDC_DIR,
                              capture_output=True, text=True, timeout=INSTALL_SECONDS,
                              check=False)
        if done.returncode == 0:
            return
    raise ProviderUnavailable(f"npm ci in {OIDC_DIR} failed twice:\n"
                              f"{done.stdout}\n{done.stderr}")


def web_client(client_id: str, app_url: str, **extra: Any) -> dict[str, Any]:
    """Client metadata (RFC 7591 names) for a Hocvuso server at app_url."""
    return {"client_id": client_id, "redirect_uris": [f"{app_url}/auth/callback"],
            "post_logout_redirect_uris": [f"{app_url}/"],
            "grant_types": ["authorization_code"], "response_types": ["code"],
            "id_token_signed_response_alg": "RS256", **extra}


@dataclass
class OidcProvider:
    port: int
    directory: Path
    clients: list[dict[str, Any]]
    accounts: dict[str, dict[str, str]] = field(default_factory=dict)
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.directory / "provider.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def discovery(self) -> dict[str, Any]:
        response = requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=5)
        response.raise_for_status()
        return response.json()

    def start(self) -> OidcProvider:
        ensure_node_modules()
        clients_file = self.directory / "clients.json"
        clients_file.write_text(json.dumps(self.clients), encoding="utf-8")
        env = {**os.environ, "OIDC_PORT": str(self.port),
               "OIDC_CLIENTS_FILE": str(clients_file), "NODE_ENV": "test",
               "OIDC_KEY_FILE": str(self.directory / "signing-key.json")}
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen([_tool("node"), str(OIDC_DIR / "provider.mjs")],
                                            cwd=OIDC_DIR, env=env, stdout=log,
                                            stderr=subprocess.STDOUT)
        self._wait()
        for account in self.accounts.values():  # its register lives in memory: restore it
            self._post_account(account)
        return self

    def _wait(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise ProviderUnavailable(f"oidc-provider exited:\n{self.log()}")
            try:
                if self.discovery().get("issuer") == self.issuer:
                    return
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.1)
        self.stop()
        raise ProviderUnavailable(f"no discovery document within {STARTUP_SECONDS}s:\n"
                                  f"{self.log()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def add_account(self, sub: str, **claims: str) -> dict[str, str]:
        """Register or change a citizen: name, birthdate, pid, acr (urn:vneid:loa:1 or 2)."""
        account = self._post_account({"sub": sub, **claims})
        self.accounts[sub] = {"sub": sub, **account}
        return account

    def _post_account(self, account: dict[str, str]) -> dict[str, str]:
        response = requests.post(f"{self.issuer}/test-admin/accounts", timeout=5,
                                 data=json.dumps(account).encode())
        response.raise_for_status()
        return response.json()


def start_provider(clients: list[dict[str, Any]], port: int | None = None) -> OidcProvider:
    """A running provider on 127.0.0.1 that knows `clients`. Raises ProviderUnavailable."""
    directory = Path(tempfile.mkdtemp(prefix="hocvuso-oidc-"))
    return OidcProvider(port or free_port(), directory, clients).start()

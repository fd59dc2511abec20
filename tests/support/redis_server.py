"""Start a throwaway Redis on 127.0.0.1 for the Celery tests: a free port, its own directory,
no persistence (nothing is saved, nothing survives the test session)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.postgres import free_port


class RedisUnavailable(RuntimeError):
    pass


@dataclass
class RedisServer:
    directory: Path
    port: int
    process: subprocess.Popen

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        try:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


def start_redis(timeout: float = 30) -> RedisServer:
    """Raises RedisUnavailable when redis-server is missing or does not answer."""
    binary = shutil.which("redis-server")
    if not binary:
        raise RedisUnavailable("redis-server not found: install the redis-server package "
                               "(make test does it with apt)")
    directory = Path(tempfile.mkdtemp(prefix="hocvuso-redis-"))
    port = free_port()
    log = (directory / "redis.log").open("wb")
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(directory),
         "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
        stdout=log, stderr=subprocess.STDOUT)
    server = RedisServer(directory, port, process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return server
        except OSError:
            time.sleep(0.1)
    detail = (directory / "redis.log").read_text(errors="replace")
    server.stop()
    raise RedisUnavailable(f"redis-server did not start on port {port}:\n{detail}")

"""Debian's redis-server on 127.0.0.1 for the fleet benchmark and the shared-budget tests."""

from __future__ import annotations

import pathlib
import shutil
import socket
import subprocess
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["RedisServer", "program"]


def program() -> str | None:
    """The redis-server executable, or ``None`` where it is not installed."""
    found = shutil.which("redis-server") or "/usr/bin/redis-server"
    return found if pathlib.Path(found).exists() else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """redis-server on a free port of 127.0.0.1 of its own, with no persistence, its log in
    ``folder``. A context manager; :meth:`kill` and :meth:`start` again restart it, empty,
    on the same port."""

    def __init__(self, folder: pathlib.Path) -> None:
        found = program()
        if found is None:
            raise RuntimeError("no redis-server: apt-get install redis-server")
        self.program = found
        self.folder = folder
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it; return once it answers PING (within 10 s)."""
        options = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        log = str(self.folder / "redis.log")
        self.process = subprocess.Popen([self.program, *options, "--dir", str(self.folder), "--logfile", log])
        deadline = time.monotonic() + 10
        while not self.answers_ping():
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not answer PING within 10 s")
            time.sleep(0.02)

    def kill(self) -> None:
        """Kill it at once (SIGKILL): what it held is lost."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16) == b"+PONG\r\n"
        except OSError:
            return False

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.kill()

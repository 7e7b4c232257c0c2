"""Debian's nginx as a reverse proxy in front of the simulator, for the fault suite.

:class:`Proxy` writes its own ``nginx.conf`` into a temporary prefix (pid,
error and access logs, temp paths all there) and runs ``nginx -p <dir> -c
<dir>/nginx.conf -g 'daemon off;'`` as a child process on a free port of
127.0.0.1. It passes ``/apis/`` and ``/_sim/`` to the simulator over
HTTP/1.1 with upstream keep-alive, closes client connections after 2 s idle
or 50 requests, times out reads from the simulator after ``read_timeout``,
and, when given a ``rate``, answers 429 (without Retry-After, as nginx does)
to requests on ``/apis/`` beyond ``rate`` per second plus a ``burst``.
:meth:`Proxy.stop` and :meth:`Proxy.start` take it down and bring it back
on the same port mid-run. :func:`ensure_nginx` installs nginx with apt-get
when it is missing and this process is root.
"""

from __future__ import annotations

import collections
import contextlib
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import TYPE_CHECKING

from support import free_port

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Self

__all__ = ["NGINX", "Proxy", "ensure_nginx"]

NGINX = pathlib.Path("/usr/sbin/nginx")
PACKAGES = ("nginx-light", "nginx")  # on Debian 12 nginx-light is nginx plus one module; either will do
INSTALL_TIMEOUT = 180.0
_APT_OPTIONS = (
    "-y",
    "-q",
    "--no-install-recommends",
    "-o",
    "Acquire::Retries=2",
    "-o",
    "Acquire::http::Timeout=20",
    "-o",
    "DPkg::Lock::Timeout=60",
)


def ensure_nginx(*, timeout: float = INSTALL_TIMEOUT) -> str | None:
    """Make sure ``/usr/sbin/nginx`` exists; ``None`` when it does, else why it cannot.

    As root with apt-get, it installs nginx-light (or nginx) without the
    recommended packages, running ``apt-get update`` only when the install
    fails at first; the whole of it within ``timeout`` seconds.
    """
    if NGINX.exists():
        return None
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return f"{NGINX} is missing and this is not root: install nginx (apt-get install nginx-light)"
    apt = shutil.which("apt-get")
    if apt is None:
        return f"{NGINX} is missing and there is no apt-get to install it with"
    deadline = time.monotonic() + timeout
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    tried: list[str] = []

    def run(*args: str) -> bool:
        left = deadline - time.monotonic()
        if left <= 0:
            tried.append(f"{' '.join(args[:2])}: out of time")
            return False
        try:
            done = subprocess.run(
                [apt, *args], env=env, capture_output=True, text=True, timeout=left, check=False
            )
        except subprocess.TimeoutExpired:
            tried.append(f"apt-get {' '.join(args[:1])}: timed out")
            return False
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            tried.append(f"apt-get {' '.join(args[:1])} exited {done.returncode}: {last[:200]}")
        return done.returncode == 0

    for package in PACKAGES:
        if run("install", *_APT_OPTIONS, package) and NGINX.exists():
            return None
    if run("update", "-q", "-o", "Acquire::Retries=2", "-o", "Acquire::http::Timeout=20"):
        for package in PACKAGES:
            if run("install", *_APT_OPTIONS, package) and NGINX.exists():
                return None
    return f"could not install nginx with apt-get: {'; '.join(tried) or 'no attempt'}"


class Proxy:
    """nginx in front of the simulator listening on ``upstream_port`` (see the module docstring).

    Args:
        upstream_port: The simulator's port on 127.0.0.1.
        rate: Requests a second allowed on ``/apis/`` (``limit_req``); ``None``: no limit.
        burst: Requests beyond ``rate`` let through at once (``nodelay``) before 429s.
        read_timeout: nginx's ``proxy_read_timeout``, in seconds.
        keepalive_timeout: Seconds an idle client connection stays open.
        keepalive_requests: Requests on one client connection before nginx closes it.
    """

    def __init__(
        self,
        upstream_port: int,
        *,
        rate: int | None = None,
        burst: int = 20,
        read_timeout: float = 2.0,
        keepalive_timeout: float = 2.0,
        keepalive_requests: int = 50,
    ) -> None:
        self.upstream_port = upstream_port
        self.rate = rate
        self.burst = burst
        self.read_timeout = read_timeout
        self.keepalive_timeout = keepalive_timeout
        self.keepalive_requests = keepalive_requests
        self.port = 0
        self.starts = 0
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def prefix(self) -> pathlib.Path:
        """The temporary prefix: nginx.conf, nginx.pid, error.log, access.log, temp paths."""
        if self._dir is None:
            raise RuntimeError("the proxy was never started")
        return pathlib.Path(self._dir.name)

    @property
    def url(self) -> str:
        """The API's base URL through the proxy, e.g. ``http://127.0.0.1:8123/apis``."""
        return f"http://127.0.0.1:{self.port}/apis"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def config(self) -> str:
        """The nginx.conf for the current prefix and ports."""
        prefix = self.prefix
        user = "user root;" if hasattr(os, "geteuid") and os.geteuid() == 0 else ""
        limit_zone = limit = ""
        if self.rate is not None:
            limit_zone = f"limit_req_zone $binary_remote_addr zone=api:1m rate={self.rate}r/s;"
            limit = f"limit_req zone=api burst={self.burst} nodelay;"
        temp = "\n".join(
            f"    {kind}_temp_path {prefix / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        return f"""\
{user}
worker_processes 1;
worker_rlimit_nofile 16384;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;

events {{
    worker_connections 8192;
}}

http {{
    log_format brief '$msec $status $request_method $upstream_status $request_uri';
    access_log {prefix / "access.log"} brief;
{temp}
    default_type application/octet-stream;
    keepalive_timeout {self.keepalive_timeout:g}s;
    keepalive_requests {self.keepalive_requests};
    {limit_zone}
    limit_req_status 429;
    limit_req_log_level info;

    upstream simulator {{
        server 127.0.0.1:{self.upstream_port};
        keepalive 64;
    }}

    server {{
        listen 127.0.0.1:{self.port};
        server_name proxy;

        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_connect_timeout 2s;
        proxy_read_timeout {self.read_timeout:g}s;
        proxy_send_timeout {self.read_timeout:g}s;

        location /apis/ {{
            {limit}
            proxy_pass http://simulator;
        }}
        location /_sim/ {{
            proxy_pass http://simulator;
        }}
    }}
}}
"""

    def start(self, *, timeout: float = 10.0) -> None:
        """Start nginx (on the same port as before, after a :meth:`stop`); return once it accepts connections."""
        if self.running:
            raise RuntimeError("the proxy is already running")
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="camb-nginx-")
            self.port = free_port()
        prefix = self.prefix
        (prefix / "nginx.conf").write_text(self.config(), encoding="utf-8")
        self._process = subprocess.Popen(
            [
                str(NGINX),
                "-p",
                str(prefix),
                "-c",
                str(prefix / "nginx.conf"),
                "-e",
                str(prefix / "error.log"),
                "-g",
                "daemon off;",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: a kill ends the worker too
        )
        deadline = time.monotonic() + timeout
        while not _accepts(self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self._halt(timeout=2.0)
                raise RuntimeError(f"nginx did not start on 127.0.0.1:{self.port}: {self.errors()[-5:]}")
            time.sleep(0.01)
        self.starts += 1

    def stop(self, *, graceful: bool = False, timeout: float = 10.0) -> None:
        """Stop nginx and wait for it (and its worker) to exit; :meth:`start` serves on the same port again.

        ``graceful``: SIGQUIT (finish the requests in flight, close idle
        connections); otherwise SIGTERM (close every connection at once).
        Killed when it outlasts ``timeout``.
        """
        self._halt(timeout=timeout, graceful=graceful)

    def _halt(self, *, timeout: float, graceful: bool = False) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGQUIT if graceful else signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                # The master waits for its worker on SIGQUIT/SIGTERM; kill both (nginx runs in its
                # own process group, led by the master, which is not reaped yet).
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout)

    def close(self) -> None:
        """Stop nginx and remove the prefix."""
        try:
            self._halt(timeout=10.0, graceful=True)
        finally:
            if self._dir is not None:
                self._dir.cleanup()
                self._dir = None

    def errors(self) -> list[str]:
        """nginx's error log, line by line."""
        try:
            return (self.prefix / "error.log").read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return []

    def statuses(self) -> collections.Counter[str]:
        """How many answers nginx gave with each status (from its access log), e.g. ``{"200": 9, "429": 3}``."""
        counts: collections.Counter[str] = collections.Counter()
        for fields in self.access_log():
            counts[fields[1]] += 1
        return counts

    def access_log(self) -> list[list[str]]:
        """Each access-log line as ``[msec, status, method, upstream status, uri]``."""
        try:
            text = (self.prefix / "access.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return [line.split(" ", 4) for line in text.splitlines() if line.count(" ") >= 4]

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _accepts(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0

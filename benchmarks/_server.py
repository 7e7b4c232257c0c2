"""The server side of the benchmarks: the bundled simulator in a process of its own.

``python -m camb_async.testing`` serves the CAMB endpoints with uvicorn (with
httptools when installed), so the client processes measure only themselves.
Tasks are seeded and read back over its ``/_sim`` endpoints.
"""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import TracebackType

    from typing_extensions import Self


class SimulatorProcess:
    """``python -m camb_async.testing`` on a free port of 127.0.0.1, for a ``with`` block.

    ``module`` names another server of the simulator to run instead, one that prints
    the same first line (``benchmarks._hypercorn``).
    """

    def __init__(self, module: str = "camb_async.testing") -> None:
        self._module = module
        self._process: subprocess.Popen[str] | None = None
        self.url = ""
        self._control: httpx.Client | None = None

    def __enter__(self) -> Self:
        process = subprocess.Popen(
            [sys.executable, "-m", self._module, "--port", "0"], stdout=subprocess.PIPE, text=True
        )
        self._process = process
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("camb-async simulator listening on "):
            self.__exit__(None, None, None)
            raise RuntimeError(f"the simulator did not start: {line!r}")
        self.url = line.rsplit(" ", 1)[1].strip()
        self._control = httpx.Client(base_url=self.url.removesuffix("/apis"), timeout=120)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._control is not None:
            self._control.close()
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # hypercorn may hang on open HTTP/2 connections
                self._process.kill()
                self._process.wait(timeout=10)
            if self._process.stdout is not None:
                self._process.stdout.close()

    @property
    def control(self) -> httpx.Client:
        assert self._control is not None, "use the simulator in a with block"
        return self._control

    def seed(self, timelines: Sequence[Sequence[tuple[str, float]]]) -> list[str]:
        """Add one task per timeline, all starting now; return their ids in order."""
        specs = [{"timeline": [list(step) for step in timeline]} for timeline in timelines]
        answer = self.control.post("/_sim/tasks", json={"tasks": specs})
        answer.raise_for_status()
        ids: list[str] = answer.json()["task_ids"]
        return ids

    def hold_answers(self, seconds: float) -> None:
        """Hold every answer ``seconds`` before sending it, as a distant server's round trip would
        (the simulator's ``stall`` fault on every request)."""
        answer = self.control.post("/_sim/faults", json={"rates": {"stall": 1.0}, "stall": seconds})
        answer.raise_for_status()

    def records(self) -> dict[str, dict[str, Any]]:
        """Every task's record (``finished_at``, ``polls``, ...) by task id."""
        answer = self.control.get("/_sim/tasks")
        answer.raise_for_status()
        return {record["task_id"]: record for record in answer.json()["tasks"]}

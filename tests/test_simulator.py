"""The simulator's /_sim control endpoints, which scripts in another process use."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from camb_async.testing import Simulator

pytestmark = pytest.mark.integration


def test_bulk_seed_then_read_every_record(simulator: Simulator) -> None:
    """POST /_sim/tasks seeds many tasks; GET /_sim/tasks returns their records with finish times and polls."""
    origin = simulator.url.removesuffix("/apis")
    before = time.monotonic()
    with httpx.Client(base_url=origin, headers={"x-api-key": "k"}) as http:
        seeded = http.post(
            "/_sim/tasks",
            json={"tasks": [{"timeline": [["PENDING", 0], ["ERROR", 2.5]]}, {"timeline": [["PENDING", 0]]}]},
        )
        assert seeded.status_code == 200
        first, second = seeded.json()["task_ids"]
        assert http.get(f"/apis/tts/{first}").json()["status"] == "PENDING"
        answer = http.get("/_sim/tasks")
    assert answer.status_code == 200
    records = {record["task_id"]: record for record in answer.json()["tasks"]}
    assert {first, second} <= records.keys()
    assert records[first]["final_status"] == "ERROR"
    assert records[first]["polls"] == 1
    assert before <= records[first]["created_at"] <= time.monotonic()
    assert records[first]["finished_at"] == pytest.approx(records[first]["created_at"] + 2.5)
    assert records[second]["finished_at"] is None
    assert records[second]["polls"] == 0

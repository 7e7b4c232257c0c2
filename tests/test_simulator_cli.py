"""``python -m camb_async.testing``: starts, serves, and stops cleanly on SIGTERM and Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys

import httpx
import pytest

from camb_async.testing.__main__ import main

pytestmark = pytest.mark.integration


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "camb_async.testing", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("camb-async simulator listening on http://127.0.0.1:"), line
    return process, line.rsplit(" ", 1)[1].strip()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_the_cli_serves_tasks_and_stops_cleanly(stop_signal: signal.Signals) -> None:
    process, url = _start("--min-duration", "0", "--max-duration", "0", "--error-rate", "1", "--seed", "3")
    try:
        headers = {"x-api-key": "any"}
        created = httpx.post(f"{url}/tts", json={"text": "hi", "voice_id": 1, "language": 1}, headers=headers)
        assert created.status_code == 200
        task_id = created.json()["task_id"]
        status = httpx.get(f"{url}/tts/{task_id}", headers=headers).json()
        assert status["status"] == "ERROR"  # --error-rate 1 and no wait: every task fails at once
        process.send_signal(stop_signal)
        _, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert "camb-async simulator stopped" in stderr


@pytest.mark.parametrize("rate", ["-0.1", "1.5"])
def test_the_cli_refuses_an_error_rate_outside_0_to_1(rate: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--error-rate", rate])
    assert exited.value.code == 2
    assert "--error-rate must be between 0 and 1" in capsys.readouterr().err


def test_the_cli_serves_the_reference_pages_shapes() -> None:
    """--answer-shapes docs serves the reference pages' answers (a bare status string here)."""
    process, url = _start("--min-duration", "60", "--max-duration", "60", "--answer-shapes", "docs")
    try:
        headers = {"x-api-key": "any"}
        files = {"media_file": ("a.wav", b"RIFF")}
        created = httpx.post(f"{url}/audio-separation", files=files, headers=headers)
        assert created.status_code == 200
        status = httpx.get(f"{url}/audio-separation/{created.json()['task_id']}", headers=headers)
        assert status.json() == "PENDING"
        process.terminate()
        process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0

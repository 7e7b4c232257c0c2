"""The live commands, `speak` and `transcribe-live`, run as subprocesses against the simulator over WebSockets."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from typing import TYPE_CHECKING

import pexpect
import pytest
import support
from support import CLI_KEY as KEY
from support import cli, cli_env, json_lines, spawn_cli

from camb_async.testing import LiveFaults

if TYPE_CHECKING:
    import pathlib

    from camb_async.testing import Simulator

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # each test runs the command as a process

SPEAK = ("speak", "--voice-id", "1")


def speak_bytes(
    simulator: Simulator, *args: str, stdin: bytes = b"", key: str = KEY
) -> subprocess.CompletedProcess[bytes]:
    """``camb-async speak args`` with ``stdin``, its audio (stdout) as bytes; the key shows nowhere."""
    done = subprocess.run(
        [sys.executable, "-m", "camb_async.cli", *SPEAK, *args],
        input=stdin,
        env=cli_env(simulator.url, key),
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert KEY.encode() not in done.stdout + done.stderr
    assert b"Traceback" not in done.stderr, done.stderr
    return done


def write_wav(path: pathlib.Path, text: bytes) -> pathlib.Path:
    """A 16-bit mono WAV whose PCM frames are ``text`` (the simulator reads them as words)."""
    return support.write_wav(path, text + b" " * (len(text) % 2))


# -- without a server ------------------------------------------------------------------


def test_help_has_the_live_commands_with_examples() -> None:
    """`--help` lists both commands; each one's help shows an example of it."""
    assert "transcribe-live" in cli("--help", code=0).stdout
    assert "Example: llm-tokens | camb-async speak" in cli("speak", "--help", key=None, code=0).stdout
    assert "Example: camb-async transcribe-live" in cli("transcribe-live", "--help", key=None, code=0).stdout


def test_usage_errors_exit_2(tmp_path: pathlib.Path) -> None:
    """No voice, a bad format, a missing key, a missing or non-WAV file, a missing folder: exit 2."""
    not_wav = tmp_path / "notes.wav"
    not_wav.write_bytes(b"not a wav at all")
    base = "http://127.0.0.1:9/apis"
    cli("speak", "hi", "-o", str(tmp_path / "x.mp3"), base_url=base, code=2)
    cli(*SPEAK, "hi", "--format", "ogg", "-o", str(tmp_path / "x.mp3"), base_url=base, code=2)
    cli(*SPEAK, "hi", "-o", str(tmp_path / "no" / "x.mp3"), base_url=base, code=2)
    done = cli(*SPEAK, "hi", "-o", str(tmp_path / "x.mp3"), base_url=base, key=None, code=2)
    assert "CAMB_API_KEY" in done.stderr
    cli("transcribe-live", str(tmp_path / "missing.wav"), base_url=base, code=2)
    assert "WAV" in cli("transcribe-live", str(not_wav), base_url=base, code=2).stderr
    assert list(tmp_path.iterdir()) == [not_wav]


def test_an_unreachable_server_exits_3(tmp_path: pathlib.Path) -> None:
    """No WebSocket server to connect to: one error line, exit 3."""
    done = cli(*SPEAK, "hi", "-o", str(tmp_path / "x.mp3"), base_url="http://127.0.0.1:9/apis", code=3)
    assert "LiveConnectionError" in done.stderr


# -- speak ------------------------------------------------------------------------------


def test_speak_writes_the_audio_of_every_segment_to_a_file(
    live_simulator: Simulator, tmp_path: pathlib.Path
) -> None:
    """`speak TEXT -o FILE`: the file holds every segment's audio in order, and nothing else is left."""
    target = tmp_path / "hello.mp3"
    done = cli(*SPEAK, "Hello there. How are you?", "-o", str(target), base_url=live_simulator.url, code=0)
    assert target.read_bytes() == b"Hello there.How are you?"
    assert done.stdout == f"wrote 24 bytes to {target}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["hello.mp3"]
    assert live_simulator.live_sessions[-1].received == ["session.start", "text.chunk", "text.done"]
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask  # as open() makes a file, not 0600


def test_speak_reads_stdin_line_by_line_and_writes_stdout(live_simulator: Simulator) -> None:
    """Without TEXT (or with `-`), each line of stdin is a chunk; the audio goes to stdout, the count to stderr."""
    for extra in ((), ("-", "--language", "en-us", "--format", "wav")):
        done = speak_bytes(live_simulator, *extra, stdin=b"One.\nTwo three\n")
        assert done.returncode == 0, done.stderr
        assert done.stdout == b"One.Two three"
        assert done.stderr == b"wrote 13 bytes to stdout\n"
        assert live_simulator.live_sessions[-1].received == [
            "session.start",
            *["text.chunk"] * 2,
            "text.done",
        ]


def test_speak_streams_audio_while_stdin_is_still_open(live_simulator: Simulator) -> None:
    """The first sentence's audio comes out before the second line is written (a buffering
    command would block the first read until the watchdog kills it)."""
    with subprocess.Popen(
        [sys.executable, "-m", "camb_async.cli", *SPEAK],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(live_simulator.url, KEY),
    ) as child:
        assert child.stdin is not None
        assert child.stdout is not None
        watchdog = threading.Timer(20, child.kill)  # a read that never ends fails the test, not hangs it
        watchdog.start()
        try:
            child.stdin.write(b"First sentence.\n")
            child.stdin.flush()
            assert child.stdout.read(len(b"First sentence.")) == b"First sentence."
            child.stdin.write(b"Second one.\n")
            child.stdin.close()
            assert child.stdout.read() == b"Second one."
            assert child.wait(timeout=30) == 0
        finally:
            watchdog.cancel()
            child.kill()


def test_a_failure_ends_the_command_while_stdin_is_still_open(live_simulator: Simulator) -> None:
    """The session failing while stdin stays open (a terminal, a slow pipe): exit 3 at once, the
    pending read of stdin left behind (a read in a thread the process waits for would hang it)."""
    live_simulator.set_live_faults(LiveFaults(drop_after=2))
    with subprocess.Popen(
        [sys.executable, "-m", "camb_async.cli", *SPEAK],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(live_simulator.url, KEY),
    ) as child:
        assert child.stdin is not None
        try:
            child.stdin.write(b"Hello.\n")
            child.stdin.flush()
            assert child.wait(timeout=20) == 3
        finally:
            child.kill()
        assert child.stderr is not None
        assert b"LiveConnectionError" in child.stderr.read()


def test_speak_refused_key_exits_3_without_showing_it(
    live_simulator: Simulator, tmp_path: pathlib.Path
) -> None:
    """A refused key: `AuthenticationError`, exit 3, no file, the key nowhere (checked by `cli`)."""
    live_simulator.set_live_faults(LiveFaults(reject_key=True))
    target = tmp_path / "x.mp3"
    done = cli(*SPEAK, "Hello.", "-o", str(target), base_url=live_simulator.url, code=3)
    assert "AuthenticationError" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_skipped_segment_exits_3_and_leaves_no_file(
    live_simulator: Simulator, tmp_path: pathlib.Path
) -> None:
    """Missing audio is an error: a skipped segment gives exit 3 and no partial file."""
    live_simulator.set_live_faults(LiveFaults(skip_segments={1}))
    done = cli(*SPEAK, "One. Two. Three.", "-o", str(tmp_path / "x.mp3"), base_url=live_simulator.url, code=3)
    assert "LiveSessionError" in done.stderr
    assert "skipped segment 1" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_dropped_connection_exits_3(live_simulator: Simulator) -> None:
    """The connection cut mid-stream: `LiveConnectionError`, exit 3, the audio so far on stdout."""
    live_simulator.set_live_faults(LiveFaults(drop_after=3))
    done = speak_bytes(live_simulator, "One. Two. Three.")
    assert done.returncode == 3
    assert b"LiveConnectionError" in done.stderr
    assert done.stdout == b"One."


def test_speak_refuses_to_write_audio_to_a_terminal(live_simulator: Simulator) -> None:
    """On a terminal without -o: one usage line, exit 2, no session opened."""
    before = len(live_simulator.live_sessions)
    child, drawn = spawn_cli(live_simulator, *SPEAK, "Hello.")
    child.expect(pexpect.EOF)  # pyright: ignore[reportUnknownMemberType]  # pexpect's stubs
    child.close()
    assert child.exitstatus == 2
    assert "will not write audio to a terminal" in drawn.getvalue()
    assert len(live_simulator.live_sessions) == before


# -- transcribe-live --------------------------------------------------------------------


def test_transcribe_live_prints_each_final_as_a_line(
    live_simulator: Simulator, tmp_path: pathlib.Path
) -> None:
    """Not a terminal: one line per final transcript; only the WAV's frames were sent."""
    wav = write_wav(tmp_path / "talk.wav", b"hello world. this is live.")
    done = cli("transcribe-live", str(wav), "--language", "en-us", base_url=live_simulator.url, code=0)
    assert done.stdout.splitlines() == ["hello world.", "this is live."]
    record = live_simulator.live_sessions[-1]
    assert "encoding=linear16" in record.query
    assert "language=en-us" in record.query


def test_transcribe_live_json_has_interim_and_final_results(
    live_simulator: Simulator, tmp_path: pathlib.Path
) -> None:
    """`--json`: every result, interim and final, with its words."""
    wav = write_wav(tmp_path / "talk.wav", b"one two.")
    done = cli("transcribe-live", str(wav), "--json", base_url=live_simulator.url, code=0)
    records = json_lines(done.stdout)
    assert [(r["is_final"], r["transcript"]) for r in records] == [
        (False, "one"),
        (False, "one two."),
        (True, "one two."),
    ]
    assert [word["word"] for word in records[-1]["words"]] == ["one", "two."]


def test_transcribe_live_server_errors_exit_3(live_simulator: Simulator, tmp_path: pathlib.Path) -> None:
    """An error close mid-stream: `LiveSessionError` with its code, exit 3."""
    wav = write_wav(tmp_path / "talk.wav", b"one two three four.")
    live_simulator.set_live_faults(LiveFaults(close_after=2, close_code=4400, close_reason="bad audio"))
    done = cli("transcribe-live", str(wav), base_url=live_simulator.url, code=3)
    assert "LiveSessionError" in done.stderr
    assert "4400" in done.stderr


def test_on_a_terminal_interim_results_update_in_place(
    live_simulator: Simulator, tmp_path: pathlib.Path
) -> None:
    """Under a pseudo-terminal: the interim transcript is drawn, and each final stays as a line."""
    wav = write_wav(tmp_path / "talk.wav", b"hello world. this is live.")
    child, drawn = spawn_cli(live_simulator, "transcribe-live", str(wav))
    child.expect(pexpect.EOF)  # pyright: ignore[reportUnknownMemberType]  # pexpect's stubs
    child.close()
    seen = drawn.getvalue()
    assert child.exitstatus == 0, seen
    assert "hello world.\r\n" in seen
    assert "this is live.\r\n" in seen
    assert "this is" in seen.replace("this is live.", "")  # an interim, drawn before its final

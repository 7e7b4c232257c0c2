"""The ``camb-async`` command, run as a subprocess against the local simulator."""

from __future__ import annotations

import concurrent.futures
import json
import re
import subprocess
import sys
from typing import TYPE_CHECKING

import pexpect
import pytest
from support import CLI_KEY as KEY
from support import cli, expect_output, json_lines, spawn_cli

if TYPE_CHECKING:
    import pathlib

    from camb_async.testing import Simulator

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # each test runs the command as a process

SUBCOMMANDS = ["status", "watch", "wait", "download", "result", "tts", "voices", "languages", "demo"]
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z  ")
SOON = [("PENDING", 0.0), ("SUCCESS", 0.3)]
NEVER = [("PENDING", 0.0), ("SUCCESS", 3600.0)]


def run_all(
    runs: list[list[str]], *, base_url: str | None = None, key: str | None = KEY, code: int
) -> list[subprocess.CompletedProcess[str]]:
    """Run several commands at once, as :func:`cli` does, each expected to exit with ``code``."""

    def one(args: list[str]) -> subprocess.CompletedProcess[str]:
        return cli(*args, base_url=base_url, key=key, code=code)

    with concurrent.futures.ThreadPoolExecutor(len(runs)) as pool:
        return list(pool.map(one, runs))


# -- without a server ------------------------------------------------------------------


def test_help_names_every_subcommand_and_the_exit_codes() -> None:
    """`--help` lists every subcommand, the key's variable and the exit codes."""
    done = cli("--help", code=0)
    for name in SUBCOMMANDS:
        assert name in done.stdout
    assert "CAMB_API_KEY" in done.stdout
    assert "130 interrupted" in done.stdout


def test_every_subcommand_has_help_with_an_example() -> None:
    """Each subcommand's `--help` exits 0 and shows an example of it."""
    done = run_all([[name, "--help"] for name in SUBCOMMANDS], key=None, code=0)
    for name, each in zip(SUBCOMMANDS, done, strict=True):
        assert f"Example: camb-async {name}" in each.stdout


def test_a_missing_key_is_one_line_naming_the_variable() -> None:
    """Without CAMB_API_KEY: one line naming it on stderr, exit 2, nothing on stdout."""
    done = cli("status", "some-task", base_url="http://127.0.0.1:9/apis", key=None, code=2)
    assert done.stderr.strip().splitlines() == [
        "camb-async: error: no API key: set the CAMB_API_KEY environment variable"
    ]
    assert done.stdout == ""


def test_usage_errors_exit_2() -> None:
    """An unknown subcommand, a missing argument, a bad family, timeout or id: exit 2."""
    run_all(
        [
            ["nonsense"],
            ["status"],
            ["watch", "x", "--family", "films"],
            ["wait", "x", "--timeout", "0"],
            ["download", "not-a-number", "-o", "x.flac"],
            ["tts", "hi", "--voice-id", "1", "--language", "en-us"],
            ["status", "not/an/id"],
            ["watch", "not/an/id"],
        ],
        base_url="http://127.0.0.1:9/apis",
        code=2,
    )


def test_without_the_extra_the_entry_point_names_it_and_exits_2() -> None:
    """When typer (the `cli` extra) cannot be imported: one line naming the install, exit 2."""
    script = "import sys; sys.modules['typer'] = None; from camb_async.cli import main; main()"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr == "camb-async: the command line needs its extra: pip install 'camb-async[cli]'\n"


def test_the_library_imports_nothing_of_the_extra() -> None:
    """`import camb_async` (and `camb_async.cli` itself) loads no module of the extra.

    httpx imports rich and click for its own command line when they are installed, so
    only what importing camb_async adds after httpx counts.
    """
    script = (
        "import sys, httpx; before = set(sys.modules); import camb_async, camb_async.cli; "
        "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in ('typer', 'rich', 'click')))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_an_unreachable_api_exits_3() -> None:
    """A connection that fails after every retry: one error line, exit 3."""
    done = cli("voices", base_url="http://127.0.0.1:9/apis", code=3)
    assert "APIConnectionError" in done.stderr


# -- status, watch, wait ----------------------------------------------------------------


def test_status_shows_each_task_once_and_exits_0_while_none_failed(simulator: Simulator) -> None:
    """One line per task in the order given; a running task is no failure."""
    done_id = simulator.add_task([("SUCCESS", 0.0)])
    running = simulator.add_task(NEVER)
    done = cli("status", done_id, running, base_url=simulator.url, code=0)
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["tts", done_id, "SUCCESS"]
    assert f"run_id={simulator.record(done_id).run_id}" in lines[0]
    assert lines[1].split() == ["tts", running, "PENDING"]


def test_status_exits_1_for_a_failed_task_and_3_when_a_lookup_fails(simulator: Simulator) -> None:
    """A task in ERROR gives 1; with a task the API does not know as well, 3 wins."""
    failed = simulator.add_task([("ERROR", 0.0)], exception_reason="voice unavailable")
    done = cli("status", failed, base_url=simulator.url, code=1)
    assert "ERROR" in done.stdout
    assert "voice unavailable" in done.stdout
    both = cli("status", failed, "no-such-task", "--json", base_url=simulator.url, code=3)
    first, second = json_lines(both.stdout)
    assert (first["task_id"], first["status"]) == (failed, "ERROR")
    assert (second["task_id"], second["error"]) == ("no-such-task", "NotFoundError")


def test_status_of_another_family(simulator: Simulator) -> None:
    """`--family` selects the family of the ids; the wrong family does not know them (exit 3)."""
    dub = simulator.add_task([("SUCCESS", 0.0)], family="dubbing")
    done = cli("status", dub, "--family", "dubbing", "--json", base_url=simulator.url, code=0)
    [record] = json_lines(done.stdout)
    assert (record["family"], record["status"]) == ("dubbing", "SUCCESS")
    cli("status", dub, base_url=simulator.url, code=3)


def test_watch_writes_timestamped_lines_until_every_task_ends(simulator: Simulator) -> None:
    """Without a terminal: one timestamped line per change, ending with each task's final status."""
    ids = simulator.add_tasks([SOON, SOON])
    done = cli("watch", *ids, base_url=simulator.url, code=0)
    lines = done.stdout.splitlines()
    assert lines
    assert all(STAMP.match(line) for line in lines), lines
    for task_id in ids:
        mine = [line for line in lines if f"  {task_id}  " in line]
        assert mine[-1].split("  ")[1:4] == ["tts", task_id, "SUCCESS"]


def test_watch_json_lines_and_a_failed_task_exits_1(simulator: Simulator) -> None:
    """`--json`: every line is one JSON object; a task that ends in ERROR gives exit 1."""
    ok = simulator.add_task(SOON)
    failed = simulator.add_task([("PENDING", 0.0), ("ERROR", 0.3)], family="dubbing")
    cli("watch", ok, base_url=simulator.url, code=0)
    done = cli("watch", failed, "--family", "dubbing", "--json", base_url=simulator.url, code=1)
    records = json_lines(done.stdout)
    assert {record["task_id"] for record in records} == {failed}
    assert all(record["family"] == "dubbing" and "time" in record for record in records)
    assert records[-1]["status"] == "ERROR"


def test_watch_past_its_timeout_exits_3_above_a_failed_task(simulator: Simulator) -> None:
    """A local deadline passing is exit 3, and 3 wins over a task's ERROR."""
    failed = simulator.add_task([("ERROR", 0.0)])
    slow = simulator.add_task(NEVER)
    done = cli("watch", failed, slow, "--timeout", "1", "--json", base_url=simulator.url, code=3)
    finals = {record["task_id"]: record for record in json_lines(done.stdout)}
    assert finals[failed]["status"] == "ERROR"
    assert finals[slow]["error"] == "WatchTimeoutError"


def test_wait_shows_outcomes_in_order_with_mixed_codes(simulator: Simulator) -> None:
    """`wait`: one line per task in the order given; ERROR and PAYMENT_REQUIRED give 1."""
    ok = simulator.add_task(SOON)
    unpaid = simulator.add_task([("PAYMENT_REQUIRED", 0.0)])
    failed = simulator.add_task([("PENDING", 0.0), ("ERROR", 0.2)])
    done = cli("wait", failed, ok, unpaid, base_url=simulator.url, code=1)
    assert [line.split()[1:3] for line in done.stdout.splitlines()] == [
        [failed, "ERROR"],
        [ok, "SUCCESS"],
        [unpaid, "PAYMENT_REQUIRED"],
    ]
    done = cli("wait", ok, "--json", base_url=simulator.url, code=0)
    [record] = json_lines(done.stdout)
    assert record["run_id"] == simulator.record(ok).run_id


def test_wait_with_a_lookup_error_exits_3(simulator: Simulator) -> None:
    """A task the API does not know fails the wait with an API error: exit 3."""
    ok = simulator.add_task([("SUCCESS", 0.0)])
    done = cli("wait", ok, "no-such-task", base_url=simulator.url, code=3)
    assert "NotFoundError" in done.stdout


def test_the_key_never_shows_even_when_the_server_repeats_it(simulator: Simulator) -> None:
    """A server message that quotes the key is shown with the key redacted, in every form."""
    leaky = simulator.add_task([("ERROR", 0.0)], exception_reason=f"key {KEY} is over quota")
    runs = [[command, leaky, *extra] for command in ("status", "watch", "wait") for extra in ([], ["--json"])]
    for each in run_all(runs, base_url=simulator.url, code=1):
        assert "[redacted]" in each.stdout + each.stderr


def test_a_short_key_mangles_no_text(simulator: Simulator) -> None:
    """A key under six characters (``any``) is no secret: task ids and messages show whole."""
    done = cli("status", "many-things", base_url=simulator.url, key="any", code=3)
    assert "many-things" in done.stdout + done.stderr
    assert "[redacted]" not in done.stdout + done.stderr


# -- files and the catalog --------------------------------------------------------------


def test_download_writes_the_file_atomically(simulator: Simulator, tmp_path: pathlib.Path) -> None:
    """`download RUN_ID -o FILE` writes the run's audio and says how many bytes."""
    task = simulator.add_task([("SUCCESS", 0.0)], result_size=300_000)
    run_id = simulator.record(task).run_id
    target = tmp_path / "out.flac"
    done = cli("download", str(run_id), "-o", str(target), base_url=simulator.url, code=0)
    assert done.stdout == f"wrote 300000 bytes to {target}\n"
    assert target.stat().st_size == 300_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.flac"]
    done = cli("download", str(run_id), "-o", str(target), "--json", base_url=simulator.url, code=0)
    assert json_lines(done.stdout) == [
        {"family": "tts", "run_id": run_id, "path": str(target), "bytes": 300_000}
    ]


def test_download_errors(simulator: Simulator, tmp_path: pathlib.Path) -> None:
    """An unknown run is 3 and leaves no file; a missing folder or a non-file family is 2."""
    target = tmp_path / "out.flac"
    cli("download", "987654", "-o", str(target), base_url=simulator.url, code=3)
    assert list(tmp_path.iterdir()) == []
    cli("download", "1", "-o", str(tmp_path / "no" / "x.flac"), base_url=simulator.url, code=2)
    done = cli("download", "1", "-o", str(target), "--family", "dubbing", base_url=simulator.url, code=2)
    assert "not a file" in done.stderr


def test_tts_speaks_to_a_file(simulator: Simulator, tmp_path: pathlib.Path) -> None:
    """`tts` creates a task, waits, and writes its audio; an unknown locale is 2 before any task."""
    target = tmp_path / "hello.flac"
    args = ("tts", "Hello there", "--voice-id", "1", "-o", str(target))
    done = cli(*args, "--language", "en-us", base_url=simulator.url, code=0)
    assert done.stdout == f"wrote {target.stat().st_size} bytes to {target}\n"
    assert target.stat().st_size > 0
    before = len(simulator.records)
    cli(*args, "--language", "xx-yy", base_url=simulator.url, code=2)
    assert len(simulator.records) == before


def test_voices_and_languages(simulator: Simulator) -> None:
    """Tables of voices, source and target languages; `--json` gives one object a line."""
    voices = cli("voices", base_url=simulator.url, code=0)
    assert "Alice" in voices.stdout
    assert "voices" in voices.stdout.splitlines()[0]
    assert json_lines(cli("voices", "--json", base_url=simulator.url, code=0).stdout)[0]["id"] == 1
    source = cli("languages", base_url=simulator.url, code=0)
    assert "source languages" in source.stdout
    assert "en-us" in source.stdout
    target = cli("languages", "--target", base_url=simulator.url, code=0)
    assert "target languages" in target.stdout


def test_result_shows_a_result_that_is_no_file_as_json(simulator: Simulator) -> None:
    """`result RUN_ID --family F`: indented JSON, or with --json one object; a file family
    is sent to `download`, exit 2."""
    task = simulator.add_task([("SUCCESS", 0.0)], family="translation", request={"texts": ["hi"]})
    run_id = str(simulator.record(task, family="translation").run_id)
    shown = cli("result", run_id, "--family", "translation", base_url=simulator.url, code=0)
    [record] = json_lines(
        cli("result", run_id, "-f", "translation", "--json", base_url=simulator.url, code=0).stdout
    )
    assert json.loads(shown.stdout) == record["result"]
    assert (record["family"], record["run_id"]) == ("translation", int(run_id))
    assert "texts" in record["result"]
    refused = cli("result", run_id, "--family", "tts", base_url=simulator.url, code=2)
    assert "camb-async download" in refused.stderr


def test_result_of_a_translated_story_takes_its_language(simulator: Simulator) -> None:
    """A translated story's result is asked for by its language (--language); without it,
    exit 2 naming the option."""
    task = simulator.add_task([("SUCCESS", 0.0)], family="translated_story", request={"target_language": 76})
    run_id = str(simulator.record(task, family="translated_story").run_id)
    args = ["result", run_id, "--family", "translated_story", "--json"]
    [record] = json_lines(cli(*args, "--language", "76", base_url=simulator.url, code=0).stdout)
    assert record["result"]["target_language"] == 76
    assert "--language" in cli(*args, base_url=simulator.url, code=2).stderr


# -- messages in the shell's terms --------------------------------------------------------


def test_a_malformed_task_id_is_one_clean_line() -> None:
    """`status a/b`: one line saying what is wrong with the id, no pydantic dump."""
    done = cli("status", "a/b", base_url="http://127.0.0.1:9/apis", code=2)
    assert done.stderr.splitlines() == [
        "camb-async: error: task id 'a/b' contains '/'; a task id is one URL path segment"
    ]


def test_hints_name_the_command_line_not_python(simulator: Simulator) -> None:
    """A deadline passing names --timeout, an unknown language `camb-async languages`."""
    slow = simulator.add_task(NEVER)
    late = cli("wait", slow, "--timeout", "0.5", base_url=simulator.url, code=3)
    assert "pass a larger --timeout" in late.stdout
    unknown = cli(
        "tts", "hi", "--voice-id", "1", "--language", "xx-yy", "-o", "x.flac", base_url=simulator.url
    )
    assert "(`camb-async languages` lists them)" in unknown.stderr
    assert "tts.create()" not in unknown.stderr
    for text in (late.stdout + late.stderr, unknown.stderr):
        assert "timeout=" not in text
        assert "client." not in text


def test_no_library_warning_beside_the_commands_own_error() -> None:
    """An API that is down opens the client's circuit breaker; its WARNING stays off stderr."""
    ids = [f"task-{n}" for n in range(8)]
    done = cli("wait", *ids, "--timeout", "3", base_url="http://127.0.0.1:9/apis", code=3)
    assert "camb_async:" not in done.stderr
    assert "looks down" not in done.stdout + done.stderr


def test_a_plain_http_base_url_is_the_commands_own_warning() -> None:
    """The library's warning of a key sent unencrypted is kept, as the command's own line."""
    done = cli("voices", base_url="http://camb.invalid/apis", code=3)
    warning = (
        "camb-async: warning: base_url http://camb.invalid/apis sends the API key unencrypted; use https"
    )
    assert done.stderr.splitlines()[0] == warning


def test_the_final_board_lists_failed_tasks_first_and_those_that_did_not_fit_after_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With more tasks than rows, failed ones come before the successes on the board, and
    failures beyond its rows are listed under it when it ends: none hides in "... and N more"."""
    from rich.console import Console

    from camb_async import TaskHandle, TaskStatus
    from camb_async.cli._display import Board
    from camb_async.cli._output import Output

    tasks = [TaskHandle(family="tts", task_id=f"t{n}") for n in range(12)]
    board = Board(Output(secret=None), tasks)
    board._console = Console(height=12, width=100)  # room for 4 rows
    for n, task in enumerate(tasks):
        failed = n in (0, 3, 5, 7, 9, 11)
        board.update(task, TaskStatus(status="ERROR" if failed else "SUCCESS", run_id=None if failed else n))
    shown, hidden = board._shown()
    assert [task.task_id for task in shown] == ["t11", "t9", "t7", "t5"]
    assert hidden == 8
    board._list_hidden_failures()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "2 more failed:"
    assert [line.split()[1] for line in lines[1:]] == ["t0", "t3"]


# -- the demo and the terminal ----------------------------------------------------------


def test_demo_runs_on_its_own_simulator_without_a_key(tmp_path: pathlib.Path) -> None:
    """`demo` needs no key: it watches its tasks to the end and downloads one result."""
    target = tmp_path / "demo.flac"
    done = cli("demo", "--json", "-o", str(target), key=None, code=0)
    finals = [record for record in json_lines(done.stdout) if record["status"] != "PENDING"]
    assert sorted(record["family"] for record in finals) == ["text_to_sound", "tts", "tts", "tts"]
    assert "downloaded the audio of run" in done.stderr
    assert target.stat().st_size > 0


def test_on_a_terminal_watch_draws_a_live_board_to_the_end(simulator: Simulator) -> None:
    """Under a pseudo-terminal: a table of the tasks and a progress bar, which ends full."""
    ids = simulator.add_tasks([SOON, SOON, [("PENDING", 0.0), ("ERROR", 0.3)]])
    child, drawn = spawn_cli(simulator, "watch", *ids)
    expect_output(child, pexpect.EOF)
    child.close()
    seen = drawn.getvalue()
    assert "3/3 ended" in seen
    assert "SUCCESS" in seen
    assert KEY not in seen
    assert child.exitstatus == 1


def test_ctrl_c_stops_a_watch_with_130_and_no_traceback(simulator: Simulator) -> None:
    """Ctrl-C on a live watch: the display stops, exit 130, no traceback."""
    ids = simulator.add_tasks([NEVER, NEVER])
    child, drawn = spawn_cli(simulator, "watch", *ids)
    expect_output(child, "PENDING")
    child.sendintr()
    expect_output(child, pexpect.EOF)
    child.close()
    assert "Traceback" not in drawn.getvalue()
    assert child.exitstatus == 130


def test_on_a_terminal_download_shows_bytes_rate_and_percent(
    simulator: Simulator, tmp_path: pathlib.Path
) -> None:
    """Under a pseudo-terminal, `download` draws a bar with the percent, the bytes and the rate
    (the server announced the size), then says what it wrote."""
    task = simulator.add_task([("SUCCESS", 0.0)], result_size=8_000_000)
    run_id = simulator.record(task).run_id
    child, drawn = spawn_cli(simulator, "download", str(run_id), "-o", str(tmp_path / "out.flac"))
    child.read()
    child.close()
    shown = drawn.getvalue()
    assert child.exitstatus == 0, shown
    assert "100%" in shown
    assert "8.0/8.0 MB" in shown
    assert "/s" in shown
    assert "wrote 8000000 bytes" in shown

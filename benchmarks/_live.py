"""Live sessions over WebSockets (``--scenario live``, table 8): camb-async next to a bare
``websockets`` client speaking the same protocol, against one small fast server.

The server (``_live_server``, on ``websockets``) runs in a process of its own, and so does
each client (``_live_clients``), one after the other, round after round:

* receiving: a live TTS session whose server sends frames of 64 KiB as fast as the socket
  takes them (MiB/s from ``text.done`` to the end), and one whose server sends small
  frames at a steady pace, each carrying its send time: the latency from the server's send
  to the caller's ``async for`` (p50, p99);
* sending: MiB of audio through a live transcription session, in 1 MiB pieces, until the
  server has counted them all;
* 100 live TTS sessions at once on one client (``speak()``), each checked byte for byte;
* a consumer that stops reading after the first frame while the server sends 50 MiB: the
  growth of the client's peak RSS meanwhile.

The tables go into a generated section of their own in docs/benchmarks.md (:data:`SECTION`).
"""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse
    import pathlib
    from collections.abc import Generator

SECTION = "live"
"""The name of this scenario's generated section of docs/benchmarks.md."""

MIB = 1024 * 1024
FRAME = 65536
PACED_FRAME = 3208
"""A paced frame: 8 bytes of send time and 100 ms of 16 kHz 16-bit mono audio."""
RATE_TARGET = 0.9
LATENCY_TARGET_MS = 1.0
RSS_TARGET_MIB = 16.0
CLIENTS = ("sdk", "bare")
LABELS = {"sdk": "camb-async `live_tts` / `live_transcription` session", "bare": "bare `websockets` client"}

SMOKE = {
    "live_rounds": 1,
    "live_mb": 10,
    "live_paced_frames": 100,
    "live_send_mb": 10,
    "live_sessions": 100,
    "live_stall": 1.0,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This scenario's options of ``python -m benchmarks``."""
    group = parser.add_argument_group("live")
    group.add_argument("--live-rounds", type=int, default=5, help="rounds over both clients (median)")
    group.add_argument("--live-mb", type=int, default=200, help="MiB received as fast as possible")
    group.add_argument(
        "--live-paced-frames", type=int, default=2000, help="paced frames, one every --live-pace s"
    )
    group.add_argument("--live-pace", type=float, default=0.002, help="seconds between paced frames")
    group.add_argument("--live-send-mb", type=int, default=200, help="MiB sent through live transcription")
    group.add_argument("--live-sessions", type=int, default=100, help="live TTS sessions at once")
    group.add_argument(
        "--live-stall-mb", type=int, default=50, help="MiB the server sends to a stalled reader"
    )
    group.add_argument("--live-stall", type=float, default=3.0, help="seconds the reader stalls")


@dataclass
class Rounds:
    """One client's rounds: receive MiB/s, CPU per MiB, paced latency p50/p99 (ms), send MiB/s."""

    rate: list[float] = field(default_factory=list[float])
    cpu_per_mib: list[float] = field(default_factory=list[float])
    p50: list[float] = field(default_factory=list[float])
    p99: list[float] = field(default_factory=list[float])
    send: list[float] = field(default_factory=list[float])
    wrong: int = 0
    rss_growth_mib: float | None = None


@contextlib.contextmanager
def live_server() -> Generator[str, None, None]:
    """``benchmarks._live_server`` in its own process; its URL, ``http://127.0.0.1:PORT``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._live_server"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait()


def _run(mode: str, kind: str, url: str, workdir: pathlib.Path, *extra: str) -> Any:
    out = workdir / f"live-{mode}-{kind}.json"
    command = [sys.executable, "-m", "benchmarks._live_clients", mode, "--client", kind, "--url", url]
    subprocess.run([*command, "--out", str(out), *extra], check=True, timeout=600)
    return json.loads(out.read_text())


def scenario_live(args: argparse.Namespace, workdir: pathlib.Path) -> str:
    """Run every part of the scenario; return its tables."""
    results = {kind: Rounds() for kind in CLIENTS}
    fast_frames = args.live_mb * MIB // FRAME
    with live_server() as url:
        for round_ in range(args.live_rounds):
            for kind, result in results.items():
                print(f"live: round {round_ + 1}/{args.live_rounds}, {kind}", file=sys.stderr, flush=True)
                fast = _run("receive", kind, url, workdir, "--frames", str(fast_frames), "--size", str(FRAME))
                if fast["bytes"] != fast_frames * FRAME:
                    result.wrong += 1
                result.rate.append(fast["bytes"] / MIB / fast["wall_s"])
                result.cpu_per_mib.append(fast["cpu_s"] / (fast["bytes"] / MIB))
                paced = _run(
                    "receive",
                    kind,
                    url,
                    workdir,
                    *("--frames", str(args.live_paced_frames), "--size", str(PACED_FRAME)),
                    *("--pace", str(args.live_pace)),
                )
                result.p50.append(1000 * paced["latency_p50"])
                result.p99.append(1000 * paced["latency_p99"])
                sent = _run("send", kind, url, workdir, "--mb", str(args.live_send_mb))
                if sent["server_bytes"] != args.live_send_mb * MIB:
                    result.wrong += 1
                result.send.append(args.live_send_mb / sent["wall_s"])
        for kind, result in results.items():
            print(f"live: stalled reader, {kind}", file=sys.stderr, flush=True)
            stalled = _run(
                "stalled",
                kind,
                url,
                workdir,
                "--mb",
                str(args.live_stall_mb),
                "--stall",
                str(args.live_stall),
            )
            result.rss_growth_mib = (stalled["peak_rss_kib"] - stalled["rss_before_kib"]) / 1024
        print(f"live: {args.live_sessions} sessions at once", file=sys.stderr, flush=True)
        concurrent = _run("concurrent", "sdk", url, workdir, "--sessions", str(args.live_sessions))
    return live_tables(results, concurrent, args)


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _range(values: list[float], fmt: str) -> str:
    if not values:
        return "-"
    middle = format(statistics.median(values), fmt)
    return middle if len(values) == 1 else f"{middle} ({min(values):{fmt}}-{max(values):{fmt}})"


def live_tables(results: dict[str, Rounds], concurrent: dict[str, Any], args: argparse.Namespace) -> str:
    """The rows of both clients, then the issue's targets, each said to hold or not."""
    lines = [
        "### 8. Live sessions over WebSockets",
        "",
        (
            f"Against a small server on `websockets` (`benchmarks/_live_server.py`), in a process of its own; "
            f"each client in a process of its own, {args.live_rounds} round(s) over both clients (the median, "
            f"then the lowest and highest round). Receive: a live TTS session whose server sends "
            f"{args.live_mb} MiB in 64 KiB binary frames as fast as the socket takes them; MiB/s from "
            f"`text.done` to the session's end, CPU (`time.process_time()`) over the same time. Latency: "
            f"{args.live_paced_frames:,} frames of {PACED_FRAME:,} bytes, one every {1000 * args.live_pace:g} ms, "
            f"each starting with the server's `time.time()` at its send; the latency of a frame is the "
            f"client's `time.time()` when the caller's loop got it minus that. Send: {args.live_send_mb} MiB "
            f"of audio through a live transcription session in 1 MiB pieces, until the server has counted "
            f"every byte (a client must mask what it sends, hence the cost of this side)."
        ),
        "",
        "| client | receive MiB/s | CPU per MiB received | latency p50 | latency p99 | send MiB/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, r in results.items():
        cpu = _median(r.cpu_per_mib)
        lines.append(
            f"| {LABELS[kind]} | {_range(r.rate, ',.0f')} | {'-' if cpu is None else f'{1000 * cpu:.2f} ms'} "
            f"| {_range(r.p50, '.2f')} ms | {_range(r.p99, '.2f')} ms | {_range(r.send, ',.0f')} |"
        )
    sdk, bare = results["sdk"], results["bare"]
    rate_ratio = _ratio(_median(sdk.rate), _median(bare.rate))
    send_ratio = _ratio(_median(sdk.send), _median(bare.send))
    sdk_p99, bare_p99 = _median(sdk.p99), _median(bare.p99)
    added = None if sdk_p99 is None or bare_p99 is None else sdk_p99 - bare_p99
    exact = int(concurrent["sessions"]) - int(concurrent["wrong"]) - sum(concurrent["errors"].values())
    errors = ", ".join(f"{name} {count}" for name, count in concurrent["errors"].items()) or "no errors"
    lines += [
        "",
        "| target | measured | holds |",
        "|---|---:|---|",
        (
            f"| receive rate at least {RATE_TARGET}x the bare client's | "
            f"{'-' if rate_ratio is None else f'{rate_ratio:.2f}x'} | "
            f"{_holds(rate_ratio is not None and rate_ratio >= RATE_TARGET and not sdk.wrong)} |"
        ),
        (
            f"| added latency (p99 minus the bare client's p99) at most {LATENCY_TARGET_MS:g} ms | "
            f"{'-' if added is None else f'{added:.2f} ms'} | {_holds(added is not None and added <= LATENCY_TARGET_MS)} |"
        ),
        f"| send rate against the bare client's (no target) | {'-' if send_ratio is None else f'{send_ratio:.2f}x'} | |",
        (
            f"| {concurrent['sessions']} live TTS sessions at once on one client, each with exact audio | "
            f"{exact} of {concurrent['sessions']} exact ({errors}), {concurrent['wall_s']:.1f} s | "
            f"{_holds(exact == int(concurrent['sessions']))} |"
        ),
    ]
    for kind, r in results.items():
        growth = r.rss_growth_mib
        target = f" at most {RSS_TARGET_MIB:g} MiB" if kind == "sdk" else " (reference)"
        lines.append(
            f"| {LABELS[kind]}: peak RSS growth while it stops reading for {args.live_stall:g} s and the "
            f"server sends {args.live_stall_mb} MiB{target} | {'-' if growth is None else f'{growth:.1f} MiB'} | "
            f"{_holds(growth is not None and growth <= RSS_TARGET_MIB) if kind == 'sdk' else ''} |"
        )
    if sdk.wrong or bare.wrong:
        lines += ["", f"Rounds with a wrong byte count: camb-async {sdk.wrong}, bare {bare.wrong}."]
    return "\n".join(lines)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _holds(met: bool) -> str:
    return "yes" if met else "**no**"

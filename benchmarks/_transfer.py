"""Bulk transfers (``--scenario transfer``, tables 4-6): downloads of one large result
file, many creates, and batch results.

Downloads: every client fetches the same result file of the simulator (a run
seeded with ``result_size``, served in 64 KiB pieces of ``result_bytes``)
into a file, one client process at a time, round after round; each checks the
SHA-256 of what it wrote. Creates: ``POST /tts`` many times at a fixed
concurrency. Batch results: one ``tts.results()`` call against as many
``tts.result()`` calls. The tables report medians over the rounds, and whether
the issue's download targets hold: on each transport at least 0.8x the MB/s of
its raw client, and peak RSS growth of at most 32 MB.

The tables go into a generated section of their own in docs/benchmarks.md
(:data:`SECTION`), so running this scenario alone rewrites only them.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from camb_async.testing import result_sha256

from ._transfer_clients import BATCH_CLIENTS, CREATE_CLIENTS, DOWNLOAD_CLIENTS

if TYPE_CHECKING:
    import argparse
    import pathlib

    from ._server import SimulatorProcess

SECTION = "transfer"
"""The name of this scenario's generated section of docs/benchmarks.md."""

MIB = 1024 * 1024
WARM_UP_BYTES = MIB
RSS_TARGET_MIB = 32.0
SPEED_TARGET = 0.8

SMOKE = {
    "transfer_mb": 4,
    "transfer_rounds": 1,
    "creates": 20,
    "create_rounds": 1,
    "batch_runs": 10,
    "batch_repeats": 2,
}

DOWNLOAD_LABELS = {
    "sdk": "camb-async `tts.download(run_id, path)`, default transport",
    "sdk-file": "camb-async `tts.download(run_id, file)`, default transport",
    "httpx": "raw `httpx.AsyncClient.stream()` + `aiter_bytes()`",
    "sdk-aiohttp": 'camb-async `tts.download(run_id, path)`, `transport="aiohttp"`',
    "sdk-aiohttp-file": 'camb-async `tts.download(run_id, file)`, `transport="aiohttp"`',
    "aiohttp": "raw `aiohttp.ClientSession.get()` + `content.iter_any()`",
}
RAW_CLIENT = {"sdk": "httpx", "sdk-file": "httpx", "sdk-aiohttp": "aiohttp", "sdk-aiohttp-file": "aiohttp"}
"""The raw client each SDK download is held against: the one its transport runs on."""

CREATE_LABELS = {
    "sdk": "camb-async `tts.create()`, default transport",
    "sdk-aiohttp": 'camb-async `tts.create()`, `transport="aiohttp"`',
    "camb-sdk": "camb-sdk `text_to_speech.create_tts()` (defaults)",
    "httpx": "raw `httpx.AsyncClient.post()` (the SDK's pool limits)",
    "aiohttp": "raw `aiohttp.ClientSession.post()`",
}

BATCH_LABELS = {"sdk": "camb-async, default transport", "sdk-aiohttp": 'camb-async, `transport="aiohttp"`'}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This scenario's options of ``python -m benchmarks``."""
    group = parser.add_argument_group("transfer")
    group.add_argument("--transfer-clients", default=",".join(DOWNLOAD_CLIENTS), help="download client kinds")
    group.add_argument("--transfer-mb", type=int, default=100, help="size of the downloaded file, in MiB")
    group.add_argument("--transfer-rounds", type=int, default=7, help="download rounds over every client")
    group.add_argument("--create-clients", default=",".join(CREATE_CLIENTS), help="create client kinds")
    group.add_argument("--creates", type=int, default=1000, help="TTS creates per client and round")
    group.add_argument("--create-concurrency", type=int, default=50, help="creates in flight")
    group.add_argument("--create-rounds", type=int, default=3, help="create rounds over every client")
    group.add_argument("--batch-clients", default=",".join(BATCH_CLIENTS), help="batch client kinds")
    group.add_argument("--batch-runs", type=int, default=100, help="runs per tts.results() call")
    group.add_argument("--batch-repeats", type=int, default=20, help="times each way is measured")


@dataclass
class DownloadResult:
    """One download client's rounds: MiB/s, CPU seconds per MiB, peak RSS growth in MiB."""

    speed: list[float] = field(default_factory=list[float])
    cpu_per_mib: list[float] = field(default_factory=list[float])
    rss_growth: list[float] = field(default_factory=list[float])
    wrong: int = 0


@dataclass
class CreateResult:
    """One create client's rounds: creates per second and CPU per create in microseconds."""

    rate: list[float] = field(default_factory=list[float])
    cpu_us: list[float] = field(default_factory=list[float])
    errors: dict[str, int] = field(default_factory=dict[str, int])


def _run(module_args: list[str], out: pathlib.Path, timeout: float) -> Any:
    """Run one client process and return the JSON it wrote."""
    command = [sys.executable, "-m", "benchmarks._transfer_clients", *module_args, "--out", str(out)]
    subprocess.run(command, check=True, timeout=timeout)
    return json.loads(out.read_text())


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _run_ids(sim: SimulatorProcess, sizes: list[int]) -> list[int]:
    """Seed one finished TTS run per size, its audio that many bytes; return their run ids."""
    tasks = [{"timeline": [["SUCCESS", 0.0]], "result_size": size} for size in sizes]
    answer = sim.control.post("/_sim/tasks", json={"tasks": tasks})
    answer.raise_for_status()
    run_ids: list[int] = []
    for task_id in answer.json()["task_ids"]:
        record = sim.control.get(f"/_sim/tasks/tts/{task_id}")
        record.raise_for_status()
        run_ids.append(int(record.json()["run_id"]))
    return run_ids


def scenario_transfer(args: argparse.Namespace, workdir: pathlib.Path) -> str:
    """Run the downloads and the creates; return their tables."""
    from ._server import SimulatorProcess

    size = args.transfer_mb * MIB
    downloads = {kind: DownloadResult() for kind in _csv(args.transfer_clients)}
    creates = {kind: CreateResult() for kind in _csv(args.create_clients)}
    with SimulatorProcess() as sim:
        run_id, warm_run_id = _run_ids(sim, [size, min(size, WARM_UP_BYTES)])
        expected = result_sha256(run_id, size)
        for round_ in range(args.transfer_rounds):
            for kind, result in downloads.items():
                print(
                    f"transfer: round {round_ + 1}/{args.transfer_rounds}, {kind}",
                    file=sys.stderr,
                    flush=True,
                )
                os.sync()  # the last download's dirty pages go to disk now, not during this one
                data = _run(
                    [
                        "download",
                        "--client",
                        kind,
                        "--url",
                        sim.url,
                        "--run-id",
                        str(run_id),
                        "--warm-run-id",
                        str(warm_run_id),
                        "--target",
                        str(workdir / "download.bin"),
                    ],
                    workdir / f"download-{kind}.json",
                    timeout=600,
                )
                if data["sha256"] != expected or data["bytes"] != size or data["file_bytes"] != size:
                    result.wrong += 1
                    continue
                result.speed.append(size / MIB / data["wall_s"])
                result.cpu_per_mib.append(data["cpu_s"] / (size / MIB))
                result.rss_growth.append((data["peak_rss_kib"] - data["rss_before_kib"]) / 1024)
        for round_ in range(args.create_rounds):
            for kind, rounds in creates.items():
                print(
                    f"creates: round {round_ + 1}/{args.create_rounds}, {kind}", file=sys.stderr, flush=True
                )
                data = _run(
                    [
                        "create",
                        "--client",
                        kind,
                        "--url",
                        sim.url,
                        "--creates",
                        str(args.creates),
                        "--concurrency",
                        str(args.create_concurrency),
                    ],
                    workdir / f"create-{kind}.json",
                    timeout=1800,
                )
                rounds.rate.append(data["creates"] / data["wall_s"])
                rounds.cpu_us.append(1e6 * data["cpu_s"] / data["creates"])
                for name, count in data["errors"].items():
                    rounds.errors[name] = rounds.errors.get(name, 0) + int(count)
        batches = _batches(args, sim, workdir)
    tables: list[str] = []  # only those of the clients chosen
    if downloads:
        tables.append(download_table(downloads, args.transfer_mb, args.transfer_rounds))
    if creates:
        tables.append(create_table(creates, args.creates, args.create_concurrency, args.create_rounds))
    if batches:
        tables.append(batch_table(batches, args.batch_runs, args.batch_repeats))
    return "\n\n".join(tables)


def _batches(args: argparse.Namespace, sim: SimulatorProcess, workdir: pathlib.Path) -> dict[str, Any]:
    """Each batch client's ``tts.results()`` against as many ``tts.result()`` calls, by kind."""
    if not _csv(args.batch_clients):
        return {}
    tasks = [{"timeline": [["SUCCESS", 0.0]]} for _ in range(args.batch_runs)]
    answer = sim.control.post("/_sim/tasks", json={"tasks": tasks})
    answer.raise_for_status()
    ids = set(answer.json()["task_ids"])
    run_ids = [int(r["run_id"]) for task_id, r in sim.records().items() if task_id in ids]
    results: dict[str, Any] = {}
    for kind in _csv(args.batch_clients):
        print(f"batch results: {kind}", file=sys.stderr, flush=True)
        results[kind] = _run(
            [
                "batch",
                "--client",
                kind,
                "--url",
                sim.url,
                "--run-ids",
                ",".join(map(str, run_ids)),
                "--repeats",
                str(args.batch_repeats),
            ],
            workdir / f"batch-{kind}.json",
            timeout=1800,
        )
    return results


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _fmt(value: float | None, spec: str, unit: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{unit}"


def download_table(results: dict[str, DownloadResult], mib: int, rounds: int) -> str:
    """The downloads: one row per client, then the targets, each said to hold or not."""
    lines = [
        "### 4. Bulk transfers: downloading one large result file",
        "",
        (
            f"Every client downloads the same {mib:,} MiB result file from the simulator into a file on "
            f"disk, one client process at a time, {rounds} round(s) over every client, `os.sync()` "
            "before each; each checks the SHA-256 of what it wrote. Speed is the file's size over the wall time of the download "
            "call (the median, then the lowest and highest round); CPU is `time.process_time()` of "
            "the client process (every thread) over the same call, the median. Peak RSS growth is the "
            "process's `VmHWM` after the download minus its `VmRSS` before it (`/proc/self/status`, "
            "the peak reset through `/proc/self/clear_refs` before the download, after a 1 MiB "
            "warm-up download), the largest of any round. The path download writes a temporary file "
            "in worker threads, "
            'fsyncs it and renames it; the others write with a plain `open(path, "wb")` file as the '
            "bytes arrive."
        ),
        "",
        (
            "| client | MiB/s | CPU per MiB | peak RSS growth | MiB/s / raw client's "
            "| CPU per MiB / raw client's |"
        ),
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, r in results.items():
        raw = results.get(RAW_CLIENT.get(kind, ""))
        speed, cpu = _median(r.speed), _median(r.cpu_per_mib)
        speed_ratio = _ratio(speed, None if raw is None else _median(raw.speed))
        cpu_ratio = _ratio(cpu, None if raw is None else _median(raw.cpu_per_mib))
        wrong = f" ({r.wrong} wrong file(s))" if r.wrong else ""
        lines.append(
            f"| {DOWNLOAD_LABELS.get(kind, kind)}{wrong} | {_fmt(speed, ',.0f')}{_spread(r.speed)} "
            f"| {_fmt(None if cpu is None else 1000 * cpu, '.1f', ' ms')} "
            f"| {_fmt(max(r.rss_growth) if r.rss_growth else None, '.1f', ' MiB')} "
            f"| {_fmt(speed_ratio, '.2f', 'x')} | {_fmt(cpu_ratio, '.2f', 'x')} |"
        )
    lines += ["", "| target | measured | holds |", "|---|---:|---|"]
    for kind, raw_kind in RAW_CLIENT.items():
        if kind not in results or raw_kind not in results:
            continue
        r = results[kind]
        ratio = _ratio(_median(r.speed), _median(results[raw_kind].speed))
        label = DOWNLOAD_LABELS[kind]
        lines.append(
            f"| {label}: MiB/s >= {SPEED_TARGET}x raw {raw_kind}'s | {_fmt(ratio, '.2f', 'x')} "
            f"| {_holds(ratio is not None and not r.wrong and ratio >= SPEED_TARGET)} |"
        )
        growth = max(r.rss_growth) if r.rss_growth else None
        lines.append(
            f"| {label}: peak RSS growth <= {RSS_TARGET_MIB:.0f} MiB | {_fmt(growth, '.1f', ' MiB')} "
            f"| {_holds(growth is not None and growth <= RSS_TARGET_MIB)} |"
        )
    return "\n".join(lines)


def _spread(values: list[float]) -> str:
    """The lowest and highest of several rounds, after their median."""
    return f" ({min(values):,.0f}-{max(values):,.0f})" if len(values) > 1 else ""


def _holds(met: bool) -> str:
    return "yes" if met else "**no**"


def create_table(results: dict[str, CreateResult], creates: int, concurrency: int, rounds: int) -> str:
    """The creates: one row per client, with the ratios to camb-sdk."""
    lines = [
        "### 5. Bulk transfers: creates",
        "",
        (
            f"Every client sends {creates:,} TTS creates (`POST /tts`), {concurrency} in flight, after a "
            f"warm-up of one create per worker; {rounds} round(s) over every client, medians. CPU is "
            "`time.process_time()` of the client process over the creates."
        ),
        "",
        (
            "| client | creates/s | CPU per create | errors | creates/s / camb-sdk's "
            "| CPU per create / camb-sdk's |"
        ),
        "|---|---:|---:|---|---:|---:|",
    ]
    reference = results.get("camb-sdk")
    for kind, r in results.items():
        rate, cpu = _median(r.rate), _median(r.cpu_us)
        errors = ", ".join(f"{n} {name}" for name, n in sorted(r.errors.items())) or "0"
        rate_ratio = _ratio(rate, None if reference is None else _median(reference.rate))
        cpu_ratio = _ratio(cpu, None if reference is None else _median(reference.cpu_us))
        lines.append(
            f"| {CREATE_LABELS.get(kind, kind)} | {_fmt(rate, ',.0f')} | {_fmt(cpu, ',.0f', ' us')} "
            f"| {errors} | {_fmt(rate_ratio, '.2f', 'x')} | {_fmt(cpu_ratio, '.2f', 'x')} |"
        )
    return "\n".join(lines)


def batch_table(results: dict[str, Any], runs: int, repeats: int) -> str:
    """Batch results: one ``tts.results()`` call against as many ``tts.result()`` calls."""
    lines = [
        "### 6. Bulk transfers: batch results",
        "",
        (
            f"`tts.results(run_ids)` for {runs} finished runs (`POST /tts-results`, 5 runs a request) against "
            f'`tts.result(run_id, output_type="file_url")` for each of them, all at once (the client\'s '
            f"limit on requests in flight applies); each way {repeats} times after a warm-up. Time and CPU "
            "per call of `results()` or per round of single calls; both ways must give the same URLs."
        ),
        "",
        (
            "| client | `results()`: wall | `results()`: CPU | single calls: wall "
            "| single calls: CPU | CPU single / batch |"
        ),
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, data in results.items():
        batch, singles = data["batch"], data["singles"]
        same = "" if data["same"] else " (**the two ways gave different URLs**)"
        per = 1000 / repeats
        lines.append(
            f"| {BATCH_LABELS.get(kind, kind)}{same} "
            f"| {per * batch['wall_s']:.1f} ms | {per * batch['cpu_s']:.1f} ms "
            f"| {per * singles['wall_s']:.1f} ms | {per * singles['cpu_s']:.1f} ms "
            f"| {_fmt(_ratio(singles['cpu_s'], batch['cpu_s']), '.1f', 'x')} |"
        )
    return "\n".join(lines)

"""Side-by-side client benchmarks: ``python -m benchmarks`` (``nox -s bench``, ``nox -s bench_smoke``).

The server (the bundled simulator) runs in its own process; each client runs
in a process of its own too, started here one after the other, so the CPU
time and peak RSS each reports are that client's alone. The results are
printed as Markdown and, with ``--output``, written into the generated
section of that file (docs/benchmarks.md). Nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import random
import shlex
import subprocess
import sys
import tempfile
from typing import Any

from . import _far, _fleet, _live, _memory, _ratelimit, _report, _transfer, status_parser
from ._clients import FAR_CLIENTS, HTTP2_CLIENTS, STATUS_CLIENTS, WATCH_CLIENTS
from ._server import SimulatorProcess

SMOKE = {
    "calls": 100,
    "rounds": 1,
    "watches": "20,40",
    "durations": "0.2,1.0",
    "far_watches": "20",
    "far_durations": "0.2,1.0",
    "latency": 0.05,
    "interval": 0.2,
    "deadline": 60.0,
    **_transfer.SMOKE,
    **_ratelimit.SMOKE,
    **status_parser.SMOKE,
    **_live.SMOKE,
    **_fleet.SMOKE,
    **_memory.SMOKE,
}


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _client(mode: str, kind: str, url: str, workdir: pathlib.Path, *extra: str, timeout: float) -> Any:
    """Run one client process and return the JSON it wrote."""
    out = workdir / f"{mode}-{kind}.json"
    command = [sys.executable, "-m", "benchmarks._clients", mode, "--client", kind, "--url", url]
    subprocess.run([*command, "--out", str(out), *extra], check=True, timeout=timeout)
    return json.loads(out.read_text())


def scenario_status(args: argparse.Namespace, workdir: pathlib.Path) -> str:
    concurrency = [int(c) for c in _csv(args.concurrency)]
    results = {kind: _report.StatusResult() for kind in _csv(args.clients)}
    with SimulatorProcess() as sim:
        task_id = sim.seed([[("PENDING", 0.0)]])[0]
        for round_ in range(args.rounds):
            for kind, result in results.items():
                print(f"status: round {round_ + 1}/{args.rounds}, {kind}", file=sys.stderr, flush=True)
                data = _client(
                    "status",
                    kind,
                    sim.url,
                    workdir,
                    "--task-id",
                    task_id,
                    "--concurrency",
                    args.concurrency,
                    "--calls",
                    str(args.calls),
                    timeout=1800,
                )
                for run in data["runs"]:
                    result.samples.setdefault(int(run["concurrency"]), []).append(
                        1e6 * run["cpu_s"] / run["calls"]
                    )
                    result.errors += int(run["errors"])
        if args.profile:
            print("profile: camb-async default transport at c=100", file=sys.stderr, flush=True)
            data = _client(
                "profile",
                "sdk",
                sim.url,
                workdir,
                "--task-id",
                task_id,
                "--concurrency",
                "100",
                "--calls",
                str(args.calls),
                timeout=1800,
            )
            print(data["profile"])
    return _report.status_tables(results, concurrency, args.calls, args.rounds)


def scenario_watch(args: argparse.Namespace, workdir: pathlib.Path) -> str:
    """Scenario 2: many watches of a server on the same machine."""
    low, high = (float(x) for x in _csv(args.durations))
    rows = _watch_rows(args, workdir, args.watches, args.durations, args.watch_clients, latency=0.0)
    return _report.watch_table(
        rows, low, high, args.interval, title="2. Many concurrent watches", latency=0.0
    )


def scenario_far(args: argparse.Namespace, workdir: pathlib.Path) -> str:
    """Scenario 3: many watches of a server whose every answer takes ``--latency`` seconds,
    next to the same watches of a server that answers at once."""
    return _far_side_by_side(
        args, workdir, args.far_clients, "3. Many concurrent watches of a distant server"
    )


def scenario_far_http2(args: argparse.Namespace, workdir: pathlib.Path) -> str:
    """Scenario 3 over HTTP/1.1 and HTTP/2, both served by hypercorn (``_hypercorn``)."""
    return _far_side_by_side(
        args,
        workdir,
        args.http2_clients,
        "3b. A distant server over HTTP/2",
        server="benchmarks._hypercorn",
    )


def _far_side_by_side(
    args: argparse.Namespace, workdir: pathlib.Path, clients: str, title: str, *, server: str | None = None
) -> str:
    low, high = (float(x) for x in _csv(args.far_durations))
    runs = {
        latency: _watch_rows(
            args, workdir, args.far_watches, args.far_durations, clients, latency=latency, server=server
        )
        for latency in (0.0, args.latency)
    }
    return _far.tables(runs, low, high, args.interval, title=title, server=server)


def _watch_rows(
    args: argparse.Namespace,
    workdir: pathlib.Path,
    watches: str,
    durations: str,
    clients: str,
    *,
    latency: float,
    server: str | None = None,
) -> list[tuple[str, _report.WatchResult]]:
    """Each client kind follows the same fresh tasks (each number of them) on a fresh server:
    the simulator, or the module ``server`` names."""
    low, high = (float(x) for x in _csv(durations))
    rng = random.Random(args.seed)
    rows: list[tuple[str, _report.WatchResult]] = []
    for count in (int(n) for n in _csv(watches)):
        timelines = [  # the same tasks for every client
            [
                ("PENDING", 0.0),
                ("ERROR" if rng.random() < args.error_share else "SUCCESS", rng.uniform(low, high)),
            ]
            for _ in range(count)
        ]
        for kind in _csv(clients):
            print(f"watch: {count:,} tasks, {kind}, latency {latency:g} s", file=sys.stderr, flush=True)
            # A fresh server per run: every client meets the same one.
            with SimulatorProcess(*(server,) if server else ()) as sim:
                ids = sim.seed(timelines)
                if latency:
                    sim.hold_answers(latency)
                ids_file = workdir / "ids.json"
                ids_file.write_text(json.dumps(ids))
                limit = args.deadline + 300
                try:
                    data = _client(
                        "watch",
                        kind,
                        sim.url,
                        workdir,
                        "--ids-file",
                        str(ids_file),
                        "--interval",
                        str(args.interval),
                        "--deadline",
                        str(args.deadline),
                        timeout=limit,
                    )
                except subprocess.TimeoutExpired:
                    # A client starved of CPU may not even reach its own deadline: say so in
                    # the table instead of losing every other result of the run.
                    print(f"watch: {kind} gave no result within {limit:.0f} s; killed", file=sys.stderr)
                    data = None
                records = sim.records()
            rows.append((kind, _watch_result(ids, data, records, killed_after=limit)))
    return rows


def _watch_result(
    ids: list[str], data: Any, records: dict[str, dict[str, Any]], *, killed_after: float
) -> _report.WatchResult:
    requests = sum(int(records[task_id]["polls"]) for task_id in ids)
    if data is None:
        return _report.WatchResult(
            count=len(ids),
            seen=0,
            seen_error=0,
            errors={},
            unfinished=len(ids),
            requests=requests,
            cpu_s=0.0,
            wall_s=killed_after,
            peak_rss_mb=0.0,
            lags=[],
            killed_after=killed_after,
        )
    seen: dict[str, list[Any]] = data["seen"]
    lags: list[float] = []
    for task_id, (_status, at) in seen.items():
        finished = records[task_id]["finished_at"]
        if finished is not None:
            lags.append(float(at) - float(finished))
    if lags and min(lags) < -0.05:
        print(
            f"warning: a task was seen {-min(lags):.2f} s before it finished: clocks differ?", file=sys.stderr
        )
    return _report.WatchResult(
        count=len(ids),
        seen=len(seen),
        seen_error=sum(1 for status, _ in seen.values() if status == "ERROR"),
        errors=dict(data["errors"]),
        unfinished=int(data["unfinished"]),
        requests=requests,
        cpu_s=float(data["cpu_s"]),
        wall_s=float(data["wall_s"]),
        peak_rss_mb=float(data["peak_rss_mb"]),
        lags=lags,
    )


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the benchmarks still run")
    parser.add_argument(
        "--scenario",
        choices=[
            "status",
            "watch",
            "far",
            "far-http2",
            "transfer",
            "ratelimit",
            "parse",
            "live",
            "fleet",
            "memory",
            "all",
        ],
        default="all",
    )
    parser.add_argument("--clients", default=",".join(STATUS_CLIENTS), help="status: client kinds")
    parser.add_argument("--concurrency", default="1,20,100", help="status: requests in flight")
    parser.add_argument("--calls", type=int, default=3000, help="status: calls per client and concurrency")
    parser.add_argument("--rounds", type=int, default=3, help="status: rounds over every client (median)")
    parser.add_argument("--profile", action="store_true", help="status: print a cProfile of the SDK at c=100")
    parser.add_argument("--watch-clients", default=",".join(WATCH_CLIENTS), help="watch: client kinds")
    parser.add_argument("--watches", default="1000,10000", help="watch: numbers of tasks")
    parser.add_argument("--durations", default="5,60", help="watch: tasks finish within LOW,HIGH s")
    parser.add_argument("--far-clients", default=",".join(FAR_CLIENTS), help="far: client kinds")
    parser.add_argument("--far-watches", default="3000", help="far: numbers of tasks")
    parser.add_argument("--far-durations", default="5,30", help="far: tasks finish within LOW,HIGH s")
    parser.add_argument(
        "--latency", type=float, default=0.15, help="far: seconds the server holds each answer"
    )
    parser.add_argument(
        "--http2-clients", default=",".join(HTTP2_CLIENTS), help="far-http2: client kinds (on hypercorn)"
    )
    parser.add_argument("--error-share", type=float, default=0.05, help="watch: share of tasks ending ERROR")
    parser.add_argument("--interval", type=float, default=5.0, help="watch: the seed loop's sleep")
    parser.add_argument("--deadline", type=float, default=900.0, help="watch: give up on a client after")
    parser.add_argument("--seed", type=int, default=2026, help="watch: seed of the task timelines")
    parser.add_argument("--output", type=pathlib.Path, help="write the tables into this Markdown file")
    _transfer.add_arguments(parser)
    _ratelimit.add_arguments(parser)
    status_parser.add_arguments(parser)
    _live.add_arguments(parser)
    _fleet.add_arguments(parser)
    _memory.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.smoke:
        parser.set_defaults(**SMOKE)
        args = parser.parse_args(argv)  # explicit options still beat the smoke sizes
    parts: list[str] = []
    transfer = ratelimit = live = fleet = memory = ""
    with tempfile.TemporaryDirectory(prefix="camb-bench-") as tmp:
        workdir = pathlib.Path(tmp)
        if args.scenario in ("status", "all"):
            parts.append(scenario_status(args, workdir))
        if args.scenario in ("watch", "all"):
            parts.append(scenario_watch(args, workdir))
        if args.scenario in ("parse", "all"):
            parts.append(status_parser.scenario_parse(args))
        if args.scenario in ("far", "all"):
            parts.append(scenario_far(args, workdir))
        if args.scenario in ("far-http2", "all"):
            parts.append(scenario_far_http2(args, workdir))
        if args.scenario in ("transfer", "all"):
            transfer = _transfer.scenario_transfer(args, workdir)
        if args.scenario in ("ratelimit", "all"):
            ratelimit = _ratelimit.scenario_ratelimit(args, workdir)
        if args.scenario in ("live", "all"):
            live = _live.scenario_live(args, workdir)
        if args.scenario in ("fleet", "all"):
            fleet = _fleet.scenario_fleet(args, workdir)
        if args.scenario in ("memory", "all"):
            memory = _memory.scenario_memory(args, workdir)
    shown = list(argv)
    if "--output" in shown:  # where the tables go changes nothing measured
        at = shown.index("--output")
        del shown[at : at + 2]
    command = shlex.join(["python", "-m", "benchmarks", *shown])
    sections = (
        (None, "\n\n".join(parts)),
        (_transfer.SECTION, transfer),
        (_ratelimit.SECTION, ratelimit),
        (_live.SECTION, live),
        (_fleet.SECTION, fleet),
        (_memory.SECTION, memory),
    )
    for name, body in sections:
        if not body:  # a section of scenarios that did not run keeps its tables
            continue
        generated = _report.section(body, command, name)
        print(generated)
        if args.output is not None:
            _report.write_section(args.output, generated, name)
            print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()

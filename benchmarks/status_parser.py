"""The status parser alone: what ``read_status`` costs per answer, for each documented shape.

``python -m benchmarks --scenario parse`` (or ``python -m benchmarks.status_parser``). Every
status call, watch and many-task poll parses its answer with ``read_status``; the usual
object is read in one pydantic pass, the other documented shapes (a bare status string, a
status-less ``{"run_id": N}``) after that pass fails. Nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import sys
import time

from camb_async._models import read_status

SHAPES: dict[str, bytes] = {
    "object, pending": b'{"status":"PENDING","run_id":null}',
    "object, success": b'{"status":"SUCCESS","run_id":123456,"exception_reason":null,"message":null}',
    "object, unknown status": b'{"status":"PROCESSING"}',
    "bare string (docs: dub-alt-format, audio-separation)": b'"SUCCESS"',
    "run_id only (docs: translated-story)": b'{"run_id":123}',
}
"""Each documented status answer, as the API sends it."""

SMOKE_CALLS = 2_000


def measure(calls: int) -> dict[str, float]:
    """Microseconds per ``read_status`` call for each shape (the best of three rounds)."""
    timings: dict[str, float] = {}
    for name, body in SHAPES.items():
        best = float("inf")
        for _ in range(3):
            began = time.perf_counter()
            for _ in range(calls):
                read_status(body)
            best = min(best, time.perf_counter() - began)
        timings[name] = best / calls * 1e6
    return timings


def scenario_parse(args: argparse.Namespace) -> str:
    """The parser's cost per shape, as a Markdown table."""
    calls = int(args.parse_calls)
    print(f"parse: {calls} calls per shape", file=sys.stderr, flush=True)
    rows = [f"| {name} | {micros:.2f} |" for name, micros in measure(calls).items()]
    return "\n".join(
        [
            f"### Status parser ({calls} parses per shape, best of 3)",
            "",
            "| answer | µs per parse |",
            "|---|---:|",
            *rows,
        ]
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--parse-calls", type=int, default=200_000, help="parse: parses per shape")


SMOKE = {"parse_calls": SMOKE_CALLS}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.status_parser", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it still runs")
    add_arguments(parser)
    args = parser.parse_args(argv)
    if args.smoke:
        args.parse_calls = SMOKE_CALLS
    print(scenario_parse(args))


if __name__ == "__main__":
    main()

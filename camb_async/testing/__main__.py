"""Run the CAMB.AI simulator in the foreground: ``python -m camb_async.testing``."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading

from ._simulator import Simulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m camb_async.testing", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument(
        "--min-duration", type=float, default=1.0, help="seconds a new task stays PENDING, at least"
    )
    parser.add_argument("--max-duration", type=float, default=3.0, help="... and at most")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of new tasks that end in ERROR")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--answer-shapes",
        choices=["sdk", "docs"],
        default="sdk",
        help="where the API reference pages and camb-sdk differ, whose answers to serve",
    )
    args = parser.parse_args(argv)
    if not 0.0 <= args.error_rate <= 1.0:
        parser.error("--error-rate must be between 0 and 1")
    simulator = Simulator(
        durations=(args.min_duration, args.max_duration),
        outcomes={"SUCCESS": 1.0 - args.error_rate, "ERROR": args.error_rate},
        seed=args.seed,
        host=args.host,
        port=args.port,
        answer_shapes=args.answer_shapes,
    )
    stop = threading.Event()
    # SIGTERM (docker stop, Popen.terminate) stops the server as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    with simulator:
        # The first line is read by scripts that start the simulator: keep its shape.
        print(f"camb-async simulator listening on {simulator.url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: stop as SIGTERM does
            stop.wait()
    print("camb-async simulator stopped", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()

"""The simulator served by hypercorn, which speaks HTTP/2 as well as HTTP/1.1: ``python -m benchmarks._hypercorn``.

The bundled simulator serves with uvicorn, which speaks HTTP/1.1 only. Here its
ASGI app (``Simulator(...).app``) is served by hypercorn on plain TCP, where a
client speaks HTTP/1.1 or, with prior knowledge, HTTP/2 (h2c): both over the
same server, so the two protocols are compared with nothing else changed. It
prints the same first line as ``python -m camb_async.testing``, so
``SimulatorProcess("benchmarks._hypercorn")`` runs it, and stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
from typing import TYPE_CHECKING, cast

from hypercorn.asyncio import serve as hypercorn_serve  # pyright: ignore[reportUnknownVariableType]
from hypercorn.config import Config

from camb_async.testing import Simulator

if TYPE_CHECKING:
    from hypercorn.typing import ASGIFramework

STREAMS = 1_000
"""HTTP/2 streams a connection may carry at once (hypercorn's default is 100)."""


async def serve(host: str, port: int) -> None:
    if port == 0:  # hypercorn does not say which port it bound: take a free one first
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
    config = Config()
    config.bind = [f"{host}:{port}"]
    config.backlog = 4096
    config.keep_alive_timeout = 75
    config.graceful_timeout = 1  # at SIGTERM, wait at most 1 s for requests still open
    config.h2_max_concurrent_streams = STREAMS
    config.accesslog = None
    config.errorlog = None
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    app = cast("ASGIFramework", Simulator().app)
    serving = asyncio.ensure_future(hypercorn_serve(app, config, shutdown_trigger=stop.wait))
    while not serving.done():  # say where it listens once it accepts connections
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.01)
            continue
        writer.close()
        await writer.wait_closed()
        print(f"camb-async simulator listening on http://{host}:{port}/apis", flush=True)
        break
    await serving


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._hypercorn", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()

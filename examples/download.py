"""Downloads: a large result streamed to a file, and a result fetched by its URL.

Runs against the bundled local simulator (no API key, no network):

    python examples/download.py

* ``client.tts.download(run_id, path)`` streams the audio to a temporary file
  beside ``path`` and renames it into place once whole: memory stays bounded
  and ``path`` never holds half a file. Here the result endpoint answers with a
  redirect to storage on another host, as a real one may; the SDK follows it
  itself and sends the API key only to the API's own host.
* ``client.tts.result(run_id, output_type="file_url")`` gives a URL in storage
  instead; ``client.download_url(url, to)`` fetches it, here into a binary file
  object (``anyio.open_file``, whose ``write`` is async).
"""

from __future__ import annotations

import hashlib
import pathlib
import tempfile
import time

import anyio

from camb_async import AsyncCambClient
from camb_async.testing import Simulator, result_sha256

SIZE = 64 * 1024 * 1024
"""Bytes in the simulated result: 64 MiB."""


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="camb-download-") as tmp:  # removed at the end
        async with Simulator() as sim:
            await run(sim, pathlib.Path(tmp))
    print("done")


async def run(sim: Simulator, folder: pathlib.Path) -> None:
    """Download one large result twice: by run id to a path, then by URL to a file object."""
    # A finished task whose audio is SIZE bytes, served by a 302 to the simulator's file host.
    task_id = sim.add_task([("PENDING", 0), ("SUCCESS", 0.2)], result_size=SIZE, redirect_result=True)
    async with AsyncCambClient("simulator-key", base_url=sim.url) as client:
        final = await client.tts.wait(task_id)
        assert final.run_id is not None
        run_id = final.run_id
        expected = result_sha256(run_id, SIZE)  # what the simulator serves, computed without it

        target = folder / "speech.wav"
        started = time.monotonic()
        written = await client.tts.download(run_id, target)
        took = time.monotonic() - started
        print(f"download():     {written:,} bytes to {target.name} in {took:.2f} s")
        print(f"                checksum matches: {await sha256_of(target) == expected}")

        url = await client.tts.result(run_id, output_type="file_url")
        print(f"file URL:       {url.output_url}")
        copy = folder / "copy.wav"
        async with await anyio.open_file(copy, "wb") as file:
            written = await client.download_url(url.output_url, file)
        print(f"download_url(): {written:,} bytes to {copy.name} through a file object")
        print(f"                checksum matches: {await sha256_of(copy) == expected}")

    # The file host saw every request for the file, and none carried the API key.
    for request in sim.file_requests:
        print(f"file host got {request.path} {'WITH' if request.had_key else 'without'} the API key")


async def sha256_of(path: pathlib.Path) -> str:
    """The hex SHA-256 of a file, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    async with await anyio.open_file(path, "rb") as file:
        while piece := await file.read(1024 * 1024):
            digest.update(piece)
    return digest.hexdigest()


if __name__ == "__main__":
    anyio.run(main)

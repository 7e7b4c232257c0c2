"""Live-stream dubbing: probe a source, dub it into two languages, follow the stream, stop it.

Runs against the bundled local simulator (no API key, no network):

    python examples/live_stream.py

* ``client.live_streams.probe(url)`` lists the audio streams of the source, to pick the
  one with the speech (``SourceStream.audio_stream``).
* ``client.live_streams.create(...)`` starts the stream and tells where each language
  goes out.
* ``client.live_streams.watch(stream_id)`` yields each state the stream goes through;
  a live stream is followed for as long as it is live (no deadline unless ``timeout=``).
  Here it is stopped with ``delete()`` a moment after it goes live, which ends the watch.
"""

from __future__ import annotations

import time

import anyio

from camb_async import AsyncCambClient, SourceStream, StreamConfig, StreamMixing, TargetStream
from camb_async.testing import Simulator

SOURCE = "srt://ingest.example.com:9000"


async def main() -> None:
    async with (
        Simulator(durations=(0.3, 0.8)) as sim,
        AsyncCambClient("simulator-key", base_url=sim.url) as client,
    ):
        probe = await client.live_streams.probe(SOURCE)
        speech = probe.audio_streams[0]
        print(
            f"source:  {len(probe.audio_streams)} audio streams; dubbing #{speech.index} ({speech.codec_name})"
        )

        created = await client.live_streams.create(
            source_stream=SourceStream(language="en-us", url=SOURCE, audio_stream=speech.index),
            target_streams=[
                TargetStream(languages=["fr-fr"], url="srt://out.example.com:9001", type=2),
                TargetStream(languages=["es-es"], url="srt://out.example.com:9002", type=2),
            ],
            config=StreamConfig(mixing=StreamMixing(original_audio_gain=0.1, background_audio_gain=0.9)),
            name="Keynote",
        )
        for output in created.stream_url_for_languages:
            print(f"output:  languages {output.languages} on {output.url}")

        started = time.monotonic()
        async for stream in client.live_streams.watch(created.stream_id, interval=0.1):
            print(f"{time.monotonic() - started:5.2f} s  {stream.status}")
            if stream.is_live:
                await anyio.sleep(0.5)  # on the air; a real stream runs for hours
                await client.live_streams.delete(created.stream_id)
        print("done")


if __name__ == "__main__":
    anyio.run(main)

"""Live TTS: an LLM's token stream spoken while it is still being written.

Runs against the bundled local simulator (no API key, no network):

    python examples/live_tts.py

``client.live_tts.speak(tokens, ...)`` sends each token as the stream gives it and
hands back the audio of each sentence as soon as the server has voiced it: the
first audio arrives long before the last token. (The simulator's "audio" is the
text's own bytes, so the output is easy to check.)
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import anyio

from camb_async import AsyncCambClient
from camb_async.testing import Simulator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

ANSWER = "Sure! Here is the plan. First, we write the tests. Then we ship it."


async def llm_tokens(times: list[float]) -> AsyncIterator[str]:
    """Stands in for an LLM client's token stream: a word every 50 ms (``times`` notes when)."""
    for word in ANSWER.split(" "):
        await anyio.sleep(0.05)
        times.append(time.perf_counter())
        yield word + " "


async def main() -> None:
    async with Simulator() as sim, AsyncCambClient("any-key", base_url=sim.url) as client:
        tokens: list[float] = []
        spoken: list[bytes] = []
        async with client.live_tts.speak(llm_tokens(tokens), voice_id=20303, language="en-us") as audio:
            async for chunk in audio:
                print(f"{time.perf_counter() - tokens[0]:.2f} s after the first token: {chunk!r}")
                spoken.append(chunk)
        print(f"the last token came {tokens[-1] - tokens[0]:.2f} s after the first")
        assert b" ".join(spoken).decode() == ANSWER
    print("done")


if __name__ == "__main__":
    anyio.run(main)

"""Result files: the stand-in audio, large deterministic results, and ``/_sim/files`` names.

File URLs name a run: ``run-{run_id}.wav`` is the run's audio (a short tone,
or ``result_size`` bytes of :func:`result_bytes`), ``run-{run_id}-{what}.{ext}``
any other file of it (a transcript for ``srt``/``vtt``/``txt``, else the tone).
"""

from __future__ import annotations

import hashlib
import io
import math
import random
import re
import wave
from typing import TYPE_CHECKING

from ._http import Answer, Streamed

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["CHUNK", "TONE", "audio_body", "file_name", "result_bytes", "result_sha256"]

CHUNK = 64 * 1024
"""Size of each piece of a large result, as generated and as sent."""

_FILE = re.compile(r"run-(\d{1,18})(?:-([\w.-]+?))?\.(\w+)")
_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "flac": "audio/flac", "mp4": "video/mp4"}


def result_bytes(run_id: int, size: int) -> Iterator[bytes]:
    """The ``size`` bytes a run seeded with ``result_size=size`` serves, in 64 KiB pieces.

    The content is pseudo-random and depends only on ``run_id`` and ``size``,
    so a test can check a download without the server::

        expected = hashlib.sha256(b"".join(result_bytes(run_id, size))).hexdigest()
    """
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")
    for index, start in enumerate(range(0, size, CHUNK)):
        yield random.Random(f"camb-sim:{run_id}:{index}").randbytes(min(CHUNK, size - start))


def result_sha256(run_id: int, size: int) -> str:
    """The hex SHA-256 of :func:`result_bytes`, computed piece by piece."""
    digest = hashlib.sha256()
    for piece in result_bytes(run_id, size):
        digest.update(piece)
    return digest.hexdigest()


def _make_audio(seconds: float = 0.5, rate: int = 16_000) -> bytes:
    """A short 440 Hz tone as a WAV file, standing in for generated speech."""
    frames = bytearray()
    for i in range(int(seconds * rate)):
        sample = int(8000 * math.sin(2 * math.pi * 440 * i / rate))
        frames += sample.to_bytes(2, "little", signed=True)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


TONE = _make_audio()
"""The audio every run serves unless it was given a ``result_size``."""


def audio_body(run_id: int, result_size: int | None) -> Answer:
    """A run's audio: the tone, or ``result_size`` streamed bytes of :func:`result_bytes`."""
    if result_size is None:
        return Answer(200, TONE, "audio/wav")
    return Answer(200, Streamed(lambda: result_bytes(run_id, result_size), result_size), "audio/wav")


def file_name(name: str) -> tuple[int, str, str] | None:
    """``(run_id, what, ext)`` of a ``/_sim/files`` name (``what`` is ``""`` for the main audio)."""
    match = _FILE.fullmatch(name)
    if match is None:
        return None
    return int(match.group(1)), match.group(2) or "", match.group(3).lower()


def file_type(ext: str) -> str:
    """The content type a file with extension ``ext`` is served as."""
    if ext in ("srt", "vtt", "txt"):
        return "text/plain; charset=utf-8"
    return _TYPES.get(ext, "application/octet-stream")

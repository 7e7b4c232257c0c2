"""Audio a live session sends: bytes, a WAV file, or an (async) iterable of bytes, as chunks.

``transcribe()`` and ``translate()`` take any of these. A WAV (a path, or bytes
starting with a RIFF/WAVE header) is opened before the session connects, so its
header can set or check the session's format and a bad file fails first; only
its audio frames are sent. Other bytes and iterables are sent as they are.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import AsyncIterable, Iterable
from typing import TYPE_CHECKING, TypeAlias, cast

from ._wav import WAV_CHUNK_SIZE, WavAudio, WavFormat, is_wav, open_wav

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

__all__ = ["AudioInput", "AudioSource", "open_audio"]

AudioInput: TypeAlias = "bytes | str | os.PathLike[str] | Iterable[bytes] | AsyncIterable[bytes]"
"""Audio to stream: raw bytes, a WAV's bytes or path, or an (async) iterable of raw chunks."""


@dataclasses.dataclass(frozen=True)
class AudioSource:
    """Audio ready to stream: the WAV header's format (``None`` for raw audio) and its chunks."""

    wav: WavFormat | None
    _wav_audio: WavAudio | None
    _raw: bytes | Iterable[bytes] | AsyncIterable[bytes] | None

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        """The audio in chunks, as read (never a WAV's header)."""
        if self._wav_audio is not None:
            async with contextlib.aclosing(self._wav_audio.chunks()) as frames:  # its file closes with us
                async for chunk in frames:
                    yield chunk
        elif isinstance(self._raw, bytes):
            for at in range(0, len(self._raw), WAV_CHUNK_SIZE):
                yield self._raw[at : at + WAV_CHUNK_SIZE]
        elif isinstance(self._raw, AsyncIterable):
            async for chunk in self._raw:
                yield _checked(chunk)
        elif self._raw is not None:
            for chunk in self._raw:
                yield _checked(chunk)


def _checked(chunk: object) -> bytes:
    data = _as_bytes(chunk)
    if data is None:
        raise TypeError(f"audio chunks must be bytes, got {type(chunk).__name__}")
    return data


def _as_bytes(value: object) -> bytes | None:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return value.tobytes() if isinstance(value, memoryview) else None


async def open_audio(audio: object) -> AudioSource:
    """``audio`` ready to stream, a WAV's header read and checked.

    Raises:
        ValueError: A WAV path or WAV bytes that are not a supported WAV.
        OSError: A path that cannot be read.
        TypeError: ``audio`` is none of the accepted kinds.
    """
    data = _as_bytes(audio)
    if data is not None:
        if is_wav(data):
            wav = await open_wav(data)
            return AudioSource(wav.format, wav, None)
        return AudioSource(None, None, data)
    if isinstance(audio, (str, os.PathLike)):
        wav = await open_wav(cast("str | os.PathLike[str]", audio))
        return AudioSource(wav.format, wav, None)
    if isinstance(audio, (AsyncIterable, Iterable)):
        return AudioSource(None, None, cast("Iterable[bytes] | AsyncIterable[bytes]", audio))
    raise TypeError(
        f"audio must be bytes, a WAV file's path, or an (async) iterable of bytes, not {type(audio).__name__}"
    )

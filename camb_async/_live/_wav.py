"""WAV input for live transcription: the format from the header, then only the audio frames.

The RIFF chunks are walked here rather than with the stdlib ``wave`` module:
on Python 3.10 and 3.11 ``wave`` reads only plain PCM (format tag 1) and
refuses A-law, mu-law and ``WAVE_FORMAT_EXTENSIBLE`` files, all of which the
live transcription endpoint takes. Chunks before ``data`` (``LIST``, ``fact``,
...) are skipped; the header is never part of what :meth:`WavAudio.chunks`
yields. A file is read in chunks as it is sent, never whole.
"""

from __future__ import annotations

import dataclasses
import io
import os
import struct
from typing import IO, TYPE_CHECKING, TypeAlias

import anyio
import anyio.to_thread

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

__all__ = ["WAV_CHUNK_SIZE", "WavAudio", "WavFormat", "WavSource", "is_wav", "open_wav"]

WavSource: TypeAlias = "bytes | str | os.PathLike[str]"
"""A WAV file's content, or its path."""

WAV_CHUNK_SIZE = 32768
"""Bytes of audio per chunk read from a WAV (about 1 s of 16 kHz mono 16-bit PCM)."""

_PCM, _IEEE_FLOAT, _ALAW, _MULAW, _EXTENSIBLE = 0x0001, 0x0003, 0x0006, 0x0007, 0xFFFE
_UNKNOWN_SIZE = 0xFFFFFFFF  # what streaming writers put in a data chunk's size before they know it


@dataclasses.dataclass(frozen=True)
class WavFormat:
    """What a WAV header says about its audio, in live transcription's terms."""

    sample_rate: int
    channels: int
    encoding: str
    """``linear16`` (16-bit PCM), ``linear32`` (32-bit PCM), ``alaw`` or ``mulaw``."""
    data_offset: int
    """Where the audio frames start in the file."""
    data_size: int | None
    """Bytes of audio frames, or ``None``: up to the end of the file (the header did not say)."""


def is_wav(data: bytes) -> bool:
    """Whether ``data`` starts like a RIFF WAVE file."""
    return data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def read_wav_format(file: IO[bytes], *, name: str = "audio") -> WavFormat:
    """The format of the WAV ``file`` (read from its current position, left after the
    ``data`` chunk's header); ``ValueError`` for anything not a supported WAV."""
    riff = file.read(12)
    if not is_wav(riff):
        raise ValueError(f"{name} is not a WAV file (no RIFF/WAVE header)")
    offset = 12
    found: tuple[int, int, str] | None = None
    while True:
        header = file.read(8)
        if len(header) < 8:
            raise ValueError(f"{name} is not a complete WAV file: it has no data chunk")
        chunk_id, size = header[:4], int.from_bytes(header[4:], "little")
        offset += 8
        if chunk_id == b"data":
            if found is None:
                raise ValueError(f"{name} is not a valid WAV file: its data chunk comes before fmt")
            rate, channels, encoding = found
            data_size = None if size == _UNKNOWN_SIZE else size
            return WavFormat(rate, channels, encoding, offset, data_size)
        body = file.read(size + size % 2)  # chunks are padded to an even length
        if len(body) < size:
            raise ValueError(f"{name} is not a complete WAV file: its {chunk_id!r} chunk is cut short")
        if chunk_id == b"fmt ":
            found = _parse_fmt(body[:size], name)
        offset += len(body)


def _parse_fmt(body: bytes, name: str) -> tuple[int, int, str]:
    """``(sample_rate, channels, encoding)`` from a ``fmt `` chunk."""
    if len(body) < 16:
        raise ValueError(f"{name} is not a valid WAV file: its fmt chunk is too short")
    tag, channels, rate, _byte_rate, _align, bits = struct.unpack("<HHIIHH", body[:16])
    if tag == _EXTENSIBLE and len(body) >= 26:
        (tag,) = struct.unpack("<H", body[24:26])  # the sub-format GUID starts with the real tag
    if channels < 1 or rate < 1:
        raise ValueError(f"{name} is not a valid WAV file: {channels} channels at {rate} Hz")
    return rate, channels, _encoding(tag, bits, name)


def _encoding(tag: int, bits: int, name: str) -> str:
    if tag == _PCM and bits in (16, 32):
        return f"linear{bits}"
    if tag in (_ALAW, _MULAW) and bits == 8:
        return "alaw" if tag == _ALAW else "mulaw"
    kinds = {_PCM: "PCM", _IEEE_FLOAT: "float", _ALAW: "A-law", _MULAW: "mu-law"}
    described = f"{bits}-bit {kinds[tag]}" if tag in kinds else f"format {tag:#06x}"
    raise ValueError(
        f"{name} holds {described} audio; live transcription takes 16- or 32-bit PCM, "
        "8-bit A-law or 8-bit mu-law: convert it first (e.g. ffmpeg -c:a pcm_s16le)"
    )


@dataclasses.dataclass(frozen=True)
class WavAudio:
    """A WAV file's format and a way to read its audio frames (never its header)."""

    format: WavFormat
    _content: bytes | None
    _path: str | None

    async def chunks(self, size: int = WAV_CHUNK_SIZE) -> AsyncGenerator[bytes, None]:
        """The audio frames, ``size`` bytes at a time (the last chunk may be shorter)."""
        start, length = self.format.data_offset, self.format.data_size
        if self._content is not None:
            end = len(self._content) if length is None else min(len(self._content), start + length)
            for at in range(start, end, size):
                yield self._content[at : min(at + size, end)]
            return
        assert self._path is not None
        left = length
        async with await anyio.open_file(self._path, "rb") as file:
            await file.seek(start)
            while left is None or left > 0:
                chunk = await file.read(size if left is None else min(size, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk


async def open_wav(source: WavSource) -> WavAudio:
    """The WAV in ``source`` (its bytes or its path), its header read and checked;
    ``ValueError`` for anything not a supported WAV, ``OSError`` for a file that
    cannot be read. A file's header is read in a worker thread."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        content = bytes(source)
        return WavAudio(read_wav_format(io.BytesIO(content)), content, None)
    path = os.fspath(source)
    return WavAudio(await anyio.to_thread.run_sync(_read_path_format, path), None, path)


def _read_path_format(path: str) -> WavFormat:
    with open(path, "rb") as file:
        return read_wav_format(file, name=repr(path))

"""WAV headers for live transcription: the format read, only the audio frames yielded."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

import pytest
from support import pcm_wav

from camb_async._live._wav import WavAudio, WavFormat, is_wav, open_wav

if TYPE_CHECKING:
    import pathlib

pytestmark = pytest.mark.anyio

FRAMES = bytes(range(256)) * 9  # 2304 bytes: whole frames at 1, 2 and 4 channels of 8/16/32 bits


def riff(*chunks: tuple[bytes, bytes], data_size: int | None = None) -> bytes:
    """A RIFF WAVE file of ``chunks`` (id, body), each padded to an even length."""
    body = b""
    for chunk_id, content in chunks:
        size = data_size if chunk_id == b"data" and data_size is not None else len(content)
        body += chunk_id + struct.pack("<I", size) + content + b"\0" * (len(content) % 2)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


def fmt(
    tag: int, *, bits: int, rate: int = 8000, channels: int = 1, extra: bytes = b""
) -> tuple[bytes, bytes]:
    """A ``fmt `` chunk for format ``tag``."""
    align = channels * bits // 8
    return b"fmt ", struct.pack("<HHIIHH", tag, channels, rate, rate * align, align, bits) + extra


async def frames_of(audio: WavAudio, size: int = 1000) -> list[bytes]:
    return [chunk async for chunk in audio.chunks(size)]


@pytest.mark.parametrize(
    ("width", "channels", "rate", "encoding"),
    [(2, 1, 16000, "linear16"), (2, 2, 44100, "linear16"), (4, 1, 48000, "linear32")],
)
async def test_a_pcm_wav_gives_its_format_and_only_its_frames(
    width: int, channels: int, rate: int, encoding: str
) -> None:
    """A PCM WAV's rate, channels and encoding come from its header, and its chunks are the frames."""
    audio = await open_wav(pcm_wav(FRAMES, rate=rate, channels=channels, width=width))
    assert (audio.format.sample_rate, audio.format.channels, audio.format.encoding) == (
        rate,
        channels,
        encoding,
    )
    chunks = await frames_of(audio)
    assert [len(c) for c in chunks] == [1000, 1000, 304]
    assert b"".join(chunks) == FRAMES


@pytest.mark.parametrize(("tag", "encoding"), [(6, "alaw"), (7, "mulaw")])
async def test_a_law_and_mu_law_are_read(tag: int, encoding: str) -> None:
    """8-bit A-law and mu-law WAVs (which the stdlib ``wave`` refuses) give their encodings."""
    audio = await open_wav(riff(fmt(tag, bits=8, extra=b"\0\0"), (b"fact", b"\x10\0\0\0"), (b"data", b"xyz")))
    assert audio.format == WavFormat(8000, 1, encoding, audio.format.data_offset, 3)
    assert await frames_of(audio) == [b"xyz"]


async def test_an_extensible_header_is_read_by_its_sub_format() -> None:
    """WAVE_FORMAT_EXTENSIBLE takes its encoding from the sub-format GUID."""
    extension = struct.pack("<HHI", 22, 16, 3) + struct.pack("<H", 1) + bytes(14)
    audio = await open_wav(riff(fmt(0xFFFE, bits=16, channels=2, extra=extension), (b"data", b"abcd")))
    assert (audio.format.encoding, audio.format.channels) == ("linear16", 2)


async def test_chunks_before_the_data_are_skipped_with_their_padding() -> None:
    """A LIST chunk of odd length (padded) before the data is never yielded."""
    audio = await open_wav(
        riff(fmt(1, bits=16), (b"LIST", b"INFOodd"), (b"data", b"PCMPCM"), (b"junk", b"x"))
    )
    assert await frames_of(audio) == [b"PCMPCM"]


async def test_an_unknown_data_size_reads_to_the_end() -> None:
    """A streaming writer's data size 0xFFFFFFFF means: the frames go to the end of the file."""
    audio = await open_wav(riff(fmt(1, bits=16), (b"data", b"0123456789"), data_size=0xFFFFFFFF))
    assert audio.format.data_size is None
    assert await frames_of(audio, 4) == [b"0123", b"4567", b"89"]


async def test_a_data_size_past_the_end_stops_at_the_end() -> None:
    """A file cut short yields the frames it has."""
    audio = await open_wav(riff(fmt(1, bits=16), (b"data", b"0123"), data_size=100))
    assert await frames_of(audio) == [b"0123"]


async def test_a_path_is_streamed_in_chunks(tmp_path: pathlib.Path) -> None:
    """A WAV path (str or PathLike) is read chunk by chunk, header excluded, up to the data's end."""
    path = tmp_path / "speech.wav"
    path.write_bytes(riff(fmt(1, bits=16, rate=24000), (b"data", FRAMES), (b"LIST", b"trailer!")))
    for source in (path, str(path)):
        audio = await open_wav(source)
        assert audio.format.sample_rate == 24000
        chunks = await frames_of(audio, 1024)
        assert [len(c) for c in chunks] == [1024, 1024, 256]
        assert b"".join(chunks) == FRAMES


async def test_a_path_with_an_unknown_data_size_reads_to_the_end(tmp_path: pathlib.Path) -> None:
    """A file whose data size is unknown is read to its end."""
    path = tmp_path / "live.wav"
    path.write_bytes(riff(fmt(1, bits=16), (b"data", b"0123456789"), data_size=0xFFFFFFFF))
    assert await frames_of(await open_wav(path), 4) == [b"0123", b"4567", b"89"]


async def test_a_missing_path_is_an_os_error(tmp_path: pathlib.Path) -> None:
    """A path that does not exist raises FileNotFoundError."""
    with pytest.raises(FileNotFoundError):
        await open_wav(tmp_path / "missing.wav")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"hello world. this is not a wav", "not a WAV file"),
        (b"RIFF\0\0\0\0WAVE", "has no data chunk"),
        (riff((b"data", b"xx"), fmt(1, bits=16)), "data chunk comes before fmt"),
        (riff((b"fmt ", b"short")), "fmt chunk is too short"),
        (riff(fmt(1, bits=16, channels=0), (b"data", b"")), "0 channels"),
        (riff(fmt(1, bits=16))[:-4], "cut short"),
        (riff(fmt(3, bits=32), (b"data", b"")), "32-bit float"),
        (riff(fmt(1, bits=24), (b"data", b"")), "24-bit PCM"),
        (riff(fmt(1, bits=8), (b"data", b"")), "8-bit PCM"),
        (riff(fmt(6, bits=16), (b"data", b"")), "16-bit A-law"),
        (riff(fmt(0x55, bits=0), (b"data", b"")), "format 0x0055"),
    ],
)
async def test_what_is_not_a_supported_wav_is_a_clear_value_error(content: bytes, message: str) -> None:
    """Non-WAV data, broken headers and unsupported encodings raise ValueError saying which."""
    with pytest.raises(ValueError, match=message):
        await open_wav(content)


async def test_an_unsupported_file_names_its_path(tmp_path: pathlib.Path) -> None:
    """The error for a file says which file."""
    path = tmp_path / "float.wav"
    path.write_bytes(riff(fmt(3, bits=32), (b"data", b"")))
    with pytest.raises(ValueError, match=r"float\.wav.*convert it first"):
        await open_wav(path)


def test_is_wav_looks_at_the_riff_header() -> None:
    """Only data starting RIFF....WAVE is taken for a WAV."""
    assert is_wav(pcm_wav(FRAMES))
    assert not is_wav(b"RIFF\0\0\0\0AVI ")
    assert not is_wav(b"hello world.")

"""Files a multipart create uploads: from a path or a binary file object, streamed.

httpx's multipart encoder reads a file object in 64 KiB chunks as the request
is sent, so a 1 GB upload never sits in memory; it rewinds the file before a
retry (a create is retried only when it surely never left this machine). A
path is opened here, before any request, so a missing file fails at once, and
closed when the call ends.
"""

from __future__ import annotations

import contextlib
import io
import mimetypes
import os
import pathlib
from typing import IO, TYPE_CHECKING, TypeAlias, cast

if TYPE_CHECKING:
    from collections.abc import Generator, Mapping

__all__ = ["FileInput", "FilePart", "open_uploads"]

FileInput: TypeAlias = "str | os.PathLike[str] | IO[bytes]"
"""A file to upload: a path, or a binary file object open for reading (uploaded from its start)."""

FilePart: TypeAlias = "tuple[str, IO[bytes], str]"
"""What httpx's ``files=`` takes for one part: file name, file object, content type."""


@contextlib.contextmanager
def open_uploads(
    files: Mapping[str, FileInput | None], call: str, *, optional: frozenset[str] = frozenset()
) -> Generator[dict[str, FilePart], None, None]:
    """The multipart file parts for ``files`` (form field -> file), paths opened
    for the duration of the ``with`` block. A field in ``optional`` may be
    ``None`` (it is left out); any other ``None`` is a ``TypeError``."""
    with contextlib.ExitStack() as stack:
        parts: dict[str, FilePart] = {}
        for field, value in files.items():
            if value is not None:
                parts[field] = _part(value, field, call, stack)
            elif field not in optional:
                raise TypeError(f"{call}: {field} is required: a path or a binary file object")
        yield parts


def _part(value: object, field: str, call: str, stack: contextlib.ExitStack) -> FilePart:
    if isinstance(value, (str, os.PathLike)):
        path = pathlib.Path(os.fspath(value))  # pyright: ignore[reportUnknownArgumentType]
        if not path.is_file():
            raise FileNotFoundError(f"{call}: {field} {str(path)!r} is not a file")
        file: IO[bytes] = stack.enter_context(path.open("rb"))
        return path.name, file, _content_type(path.name)
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"{call}: {field} takes a path or a binary file object; wrap bytes in io.BytesIO")
    if not callable(getattr(value, "read", None)):
        raise TypeError(f"{call}: {field} must be a path or a binary file object, not {type(value).__name__}")
    if isinstance(value, io.TextIOBase):
        raise TypeError(f"{call}: {field} is a text file; open it in binary mode ('rb')")
    if getattr(value, "closed", False):
        raise ValueError(f"{call}: {field} is a closed file")
    readable = getattr(value, "readable", None)
    if callable(readable) and not readable():
        raise TypeError(f"{call}: {field} is not open for reading; open it with 'rb'")
    name = pathlib.Path(str(getattr(value, "name", "") or field)).name or field
    return name, cast("IO[bytes]", value), _content_type(name)


def _content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"

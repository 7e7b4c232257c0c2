"""A streaming ``multipart/form-data`` reader: file parts are hashed as they arrive, never kept.

It is written here rather than taken from ``python-multipart`` because the
simulator needs only this much (form fields and file parts, no nested parts,
no transfer encodings), wants each file part's size and SHA-256 rather than
its bytes, and so stays free of a dependency. Memory is bounded by the
largest chunk received plus one boundary, whatever the upload's size.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from ._http import Receive

__all__ = ["ClientGoneError", "FormParser", "MultipartError", "add_field", "read_form"]

_MAX_HEADERS = 16 * 1024
_MAX_FIELD = 1024 * 1024
_PARAM = re.compile(r';\s*([\w*.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')


class MultipartError(ValueError):
    """The body is not well-formed ``multipart/form-data``."""


class ClientGoneError(Exception):
    """The client hung up before the whole body arrived."""


def params(header: str) -> dict[str, str]:
    """The ``; key=value`` parameters of a header such as Content-Type or Content-Disposition."""
    found: dict[str, str] = {}
    for match in _PARAM.finditer(header):
        quoted, bare = match.group(2), match.group(3)
        found[match.group(1).lower()] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
    return found


def add_field(form: dict[str, object], name: str, value: object) -> None:
    """Add one field to ``form``; a name seen before maps to the list of its values."""
    if name not in form:
        form[name] = value
        return
    before = form[name]
    form[name] = [*cast("list[object]", before), value] if isinstance(before, list) else [before, value]


class _Part:
    def __init__(self, name: str, filename: str | None) -> None:
        self.name = name
        self.filename = filename
        self.size = 0
        self.digest = hashlib.sha256()
        self.value = bytearray()

    def write(self, data: bytes | bytearray) -> None:
        if self.filename is None:
            if len(self.value) + len(data) > _MAX_FIELD:
                raise MultipartError(f"form field {self.name!r} is larger than {_MAX_FIELD} bytes")
            self.value += data
        else:
            self.size += len(data)
            self.digest.update(data)

    def result(self) -> object:
        if self.filename is None:
            try:
                return self.value.decode()
            except UnicodeDecodeError as exc:
                raise MultipartError(f"form field {self.name!r} is not UTF-8") from exc
        return {"filename": self.filename, "size": self.size, "sha256": self.digest.hexdigest()}


class FormParser:
    """Feed it the body in pieces; :meth:`close` returns the form.

    Form fields come back as strings, file parts as ``{"filename", "size",
    "sha256"}``; a name sent more than once maps to a list of its values.
    """

    def __init__(self, boundary: str) -> None:
        if not boundary:
            raise MultipartError("the content type has no boundary")
        self._first = b"--" + boundary.encode("latin-1")
        self._delimiter = b"\r\n" + self._first
        self._buffer = bytearray()
        self._state = "preamble"
        self._part: _Part | None = None
        self.fields: dict[str, object] = {}

    def feed(self, data: bytes) -> None:
        self._buffer += data
        while self._state != "done" and self._step():
            pass

    def close(self) -> dict[str, object]:
        if self._state != "done":
            raise MultipartError("the body ends before the closing boundary")
        return self.fields

    def _step(self) -> bool:
        """Advance as far as the buffer allows; ``False`` means more data is needed."""
        buffer = self._buffer
        if self._state == "preamble":
            at = buffer.find(self._first)
            if at < 0:
                del buffer[: max(0, len(buffer) - len(self._first))]
                return False
            del buffer[: at + len(self._first)]
            self._state = "after-boundary"
        elif self._state == "after-boundary":
            if len(buffer) < 2:
                return False
            if buffer.startswith(b"--"):
                self._state = "done"
                return False
            if not buffer.startswith(b"\r\n"):
                raise MultipartError("a boundary is followed by neither CRLF nor --")
            del buffer[:2]
            self._state = "headers"
        elif self._state == "headers":
            end = 0 if buffer.startswith(b"\r\n") else buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > _MAX_HEADERS:
                    raise MultipartError("a part's headers are too large")
                return False
            self._part = self._start(bytes(buffer[:end]))
            del buffer[: end + (2 if end == 0 else 4)]
            self._state = "body"
        else:
            return self._body(buffer)
        return True

    def _body(self, buffer: bytearray) -> bool:
        assert self._part is not None
        at = buffer.find(self._delimiter)
        if at < 0:
            keep = len(self._delimiter) - 1
            if len(buffer) > keep:
                self._part.write(buffer[: len(buffer) - keep])
                del buffer[: len(buffer) - keep]
            return False
        self._part.write(buffer[:at])
        del buffer[: at + len(self._delimiter)]
        add_field(self.fields, self._part.name, self._part.result())
        self._part = None
        self._state = "after-boundary"
        return True

    def _start(self, block: bytes) -> _Part:
        disposition = ""
        for line in block.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-disposition":
                disposition = value
        found = params(disposition)
        if "name" not in found:
            raise MultipartError("a part has no Content-Disposition name")
        return _Part(found["name"], found.get("filename"))


async def read_form(receive: Receive, content_type: str) -> dict[str, object]:
    """Read a multipart body from ASGI ``receive`` messages as they come."""
    parser = FormParser(params(content_type).get("boundary", ""))
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGoneError
        parser.feed(bytes(message.get("body", b"")))
        if not message.get("more_body"):
            return parser.close()

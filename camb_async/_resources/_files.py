"""What families whose result is a file (audio) share: ``result`` and ``download``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, overload

import pydantic
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from .._download import download, read_all
from .._paths import run_id_segment
from ._base import TaskResource

if TYPE_CHECKING:
    from .._download import Destination, Progress

__all__ = ["FILE_URL", "FileResults", "FileUrl", "OutputType"]

OutputType = Literal["raw_bytes", "file_url"]
"""How a file result comes back: its bytes, or a URL to it in storage (which expires)."""


class FileUrl(BaseModel):
    """Where a result file can be downloaded (a pre-signed URL that expires).

    Read from ``{"output_url": ...}`` (tts, the batch answers), ``{"file_url": ...}``
    (text-to-sound's reference page) or a bare URL string (batch answers): all
    three give ``output_url``. Download it with ``client.download_url(result.output_url,
    to)``, which never sends the API key to storage.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(extra="allow", frozen=True)

    output_url: Annotated[str, Field(validation_alias=AliasChoices("output_url", "file_url"))]

    @pydantic.model_validator(mode="before")
    @classmethod
    def _bare_url(cls, value: Any) -> Any:
        """Batch answers give some results as a bare URL string."""
        return {"output_url": value} if isinstance(value, str) else value


FILE_URL: pydantic.TypeAdapter[FileUrl] = pydantic.TypeAdapter(FileUrl)


class FileResults(TaskResource):
    """``result`` (bytes or a :class:`FileUrl`) and ``download`` for a family whose result is a file."""

    def _file_path(self, run_id: int) -> str:
        assert self.endpoints.result is not None
        return f"/{self.endpoints.result}/{run_id_segment(run_id)}"

    @overload
    async def result(self, run_id: int, *, output_type: Literal["raw_bytes"] = ...) -> bytes: ...
    @overload
    async def result(self, run_id: int, *, output_type: Literal["file_url"]) -> FileUrl: ...
    async def result(self, run_id: int, *, output_type: OutputType = "raw_bytes") -> bytes | FileUrl:
        """A finished run's file: its bytes (read into memory), or with
        ``output_type="file_url"`` a :class:`FileUrl` to download it from.

        For large files prefer :meth:`download`, which keeps memory bounded.

        Raises:
            NotFoundError: No such run (or a run of another family).
            APIError: The request failed after every retry.
        """
        path = self._file_path(run_id)
        if output_type == "file_url":
            return await self._result(run_id, FILE_URL, params={"output_type": "file_url"}, path=path)
        if output_type != "raw_bytes":
            raise ValueError(f"output_type must be 'raw_bytes' or 'file_url', got {output_type!r}")
        return await read_all(self._requester, path)

    async def download(self, run_id: int, to: Destination, *, progress: Progress | None = None) -> int:
        """Stream a finished run's file to ``to`` and return the bytes written.

        ``to`` is a path (written atomically: a temporary file beside it,
        fsynced, then renamed; on any failure nothing appears under that name
        and a broken transfer starts over) or a binary file object (written as
        the bytes arrive; its ``write`` may be sync or async). Memory stays
        bounded whatever the size.

        ``progress``, when given, is called with ``(bytes so far, total)`` once
        the answer starts and after each chunk: ``total`` is the size the
        server announced, or ``None`` when it announced none. A transfer that
        starts over reports from 0 again. See docs/results.md for tqdm and rich.

        Raises:
            DownloadInterruptedError: The body broke off after every retry
                (``bytes_written`` says how much reached a file object).
            NotFoundError: No such run.
        """
        return await download(self._requester, self._file_path(run_id), to, progress=progress)

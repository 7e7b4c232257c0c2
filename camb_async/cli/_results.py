"""``result``: a finished run's result that is not a file (a transcript, a translation, dubbing
URLs ...), as JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Protocol, cast

import pydantic_core

import camb_async

from ._files import language_of
from ._outcomes import ExitCode, UsageProblem

if TYPE_CHECKING:
    from ._output import Output

__all__ = ["result"]


class _Results(Protocol):
    async def result(self, run_id: int) -> object: ...


async def result(
    client: camb_async.AsyncCambClient,
    family: camb_async.TaskFamily,
    run_id: int,
    output: Output,
    *,
    language: str | None = None,
) -> ExitCode:
    """Fetch run ``run_id``'s result and write it: indented JSON, or with ``--json`` one line
    ``{"family": ..., "run_id": ..., "result": ...}``."""
    resource: object = getattr(client, family)
    if isinstance(resource, camb_async.FileResults):
        raise UsageProblem(
            f"a {family} result is a file: `camb-async download RUN_ID --family {family} -o FILE` writes it"
        )
    if family == "translated_story":
        if language is None:
            raise UsageProblem(
                "a translated_story result needs --language: the language it was translated to"
            )
        value: object = await client.translated_story.result(run_id, target_language=language_of(language))
    else:
        value = await cast("_Results", resource).result(run_id)
    data = pydantic_core.to_jsonable_python(value)
    if output.json_lines:
        output.record({"family": family, "run_id": run_id, "result": data})
    else:
        output.line(json.dumps(data, indent=2, ensure_ascii=False))
    return ExitCode.OK

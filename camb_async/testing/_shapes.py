"""The answers as the API's reference pages show them, where they differ from camb-sdk's.

The simulator serves camb-sdk's shapes by default (``answer_shapes="sdk"``). With
``answer_shapes="docs"`` it reshapes these answers into the reference pages' examples,
so that a client can be tried against either source end to end:

* the status of dub-alt-format and audio-separation is a bare string (``"PENDING"``)
  until the task succeeds (the pages' example carries no run id, so SUCCESS stays an
  object, or the run could never be fetched); translated-story's SUCCESS is
  ``{"run_id": N}`` without a status;
* a dub result is ``{run_id, output_audio_url, output_video_url, transcript}``;
* a transcription result in segments is the bare list of them;
* text-to-sound's URL answer is ``{"file_url": ...}``;
* a project-setup result holds ``run_details`` in place of ``project_details``;
* a folder is ``{team_id, folder_id, folder_name}``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Literal, cast

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._http import Answer, Request

__all__ = ["AnswerShapes", "as_documented"]

AnswerShapes = Literal["sdk", "docs"]
"""Whose answer shapes the simulator serves where the two sources differ."""

_BARE_STATUS = frozenset({"dub-alt-format", "audio-separation"})
_DUB_KEYS = {"audio_url": "output_audio_url", "video_url": "output_video_url"}

Json = dict[str, object]


def as_documented(request: Request, path: Sequence[str], answer: Answer) -> Answer:
    """``answer`` to ``request`` (at ``path``, its unquoted segments after ``/apis``) in the
    reference pages' shape; any other answer as it is."""
    if answer.status != 200 or not path:
        return answer
    payload = answer.payload
    segment, rest = path[0], len(path) - 1
    reshaped: object = payload
    if request.method == "GET" and rest == 1 and isinstance(payload, dict):
        reshaped = _get_one(segment, cast("Json", payload), path[1])
    elif request.method == "POST" and segment == "dubbing-results" and isinstance(payload, dict):
        reshaped = {run_id: _dub(value, int(run_id)) for run_id, value in cast("Json", payload).items()}
    elif request.method == "GET" and segment == "folders" and isinstance(payload, list):
        reshaped = [_renamed(item, {"name": "folder_name"}) for item in cast("list[Json]", payload)]
    return answer if reshaped is payload else dataclasses.replace(answer, payload=reshaped)


def _get_one(segment: str, payload: Json, key: str) -> object:
    """A ``GET /{segment}/{key}`` answer: a status or a single result."""
    status = payload.get("status")
    if segment in _BARE_STATUS and status is not None and status != "SUCCESS":
        return status
    if segment == "translated-story" and status == "SUCCESS":
        return {name: value for name, value in payload.items() if name != "status"}
    if segment == "dub-result":
        return _dub(payload, int(key))
    if segment == "transcription-result" and isinstance(payload.get("transcript"), list):
        return payload["transcript"]
    if segment == "text-to-sound-result":
        return _renamed(payload, {"output_url": "file_url"})
    if segment == "project-setup-result":
        return _renamed(payload, {"project_details": "run_details"})
    return payload


def _dub(value: object, run_id: int) -> Json:
    """One dub result, or one per language, with the endpoint page's key names."""
    fields = cast("Json", value)
    if "audio_url" not in fields:  # one result per language
        return {language: _dub(each, run_id) for language, each in fields.items()}
    return {"run_id": run_id, **_renamed(fields, _DUB_KEYS)}


def _renamed(fields: Json, names: dict[str, str]) -> Json:
    return {names.get(key, key): each for key, each in fields.items()}

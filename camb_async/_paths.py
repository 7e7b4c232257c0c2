"""Turning caller input into URL paths, refusing anything that could reach another URL.

A task id becomes exactly one percent-encoded path segment: ids that are
empty, blank, ``.``/``..``, or hold ``/``, ``\\``, ``?``, ``#`` or control
characters are refused with a ``ValueError`` before any request is built.
"""

from __future__ import annotations

from typing import Literal, get_args
from urllib.parse import quote

__all__ = ["FAMILIES", "TaskFamily", "result_path", "status_path", "validate_task_id"]

TaskFamily = Literal[
    "tts",
    "dub",
    "translate",
    "transcribe",
    "text-to-sound",
    "text-to-voice",
    "audio-separation",
    "sub",
    "story",
    "project-setup",
    "translated-tts",
]
"""The CAMB.AI task families; each has its status endpoint at ``GET /{family}/{task_id}``."""

FAMILIES: frozenset[str] = frozenset(get_args(TaskFamily))

_MAX_ID_LENGTH = 512
_FORBIDDEN = frozenset("/\\?#")


def validate_task_id(task_id: object) -> str:
    """Return ``task_id`` if it is a usable task id, else raise ``ValueError``/``TypeError``."""
    if not isinstance(task_id, str):
        raise TypeError(f"task_id must be a str, not {type(task_id).__name__}")
    if not task_id.strip():
        raise ValueError("task_id must not be empty or blank")
    if len(task_id) > _MAX_ID_LENGTH:
        raise ValueError(f"task_id is longer than {_MAX_ID_LENGTH} characters")
    if task_id in (".", ".."):
        raise ValueError(f"task_id must not be {task_id!r}: it would address another URL")
    if task_id.isprintable() and _FORBIDDEN.isdisjoint(task_id):  # the usual case, checked in C
        return task_id
    bad = next(c for c in task_id if c in _FORBIDDEN or not c.isprintable())
    raise ValueError(f"task_id {task_id[:64]!r} contains {bad!r}; a task id is one URL path segment")


def status_path(family: str, task_id: object) -> str:
    """The path of a task's status endpoint, e.g. ``/tts/abc``."""
    if family not in FAMILIES:
        raise ValueError(f"unknown task family {family!r}; expected one of {sorted(FAMILIES)}")
    return f"/{family}/{quote(validate_task_id(task_id), safe='')}"


def result_path(run_id: object) -> str:
    """The path of a finished TTS run's audio, ``/tts-result/{run_id}``."""
    if isinstance(run_id, bool) or not isinstance(run_id, int):
        raise TypeError(f"run_id must be an int, not {type(run_id).__name__}")
    if run_id < 0:
        raise ValueError(f"run_id must not be negative, got {run_id}")
    return f"/tts-result/{run_id}"

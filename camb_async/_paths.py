"""Turning caller input into URL path segments, refusing anything that could reach another URL.

A task id becomes exactly one percent-encoded path segment: ids that are
empty, blank, ``.``/``..``, or hold ``/``, ``\\``, ``?``, ``#`` or control
characters are refused with a ``ValueError`` before any request is built.
"""

from __future__ import annotations

import re
from urllib.parse import quote

__all__ = ["path_segment", "run_id_segment", "task_id_segment", "validate_task_id"]

_MAX_ID_LENGTH = 512
_FORBIDDEN = frozenset("/\\?#")
_MAX_RUN_ID_BITS = 1024  # far beyond any real id; keeps the path (and messages) short
# What ``quote(..., safe="")`` leaves as it is (RFC 3986 unreserved): such an id needs no encoding.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]+")


def validate_task_id(task_id: object) -> str:
    """Return ``task_id`` if it is a usable task id, else raise ``ValueError``/``TypeError``."""
    if not isinstance(task_id, str):
        raise TypeError(f"task_id must be a str, not {type(task_id).__name__}")
    # Check and encode the plain string value: a str subclass may override the very
    # methods (strip, __iter__, encode) that the checks and the encoding rely on.
    task_id = str.__str__(task_id)
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


def task_id_segment(task_id: object) -> str:
    """``task_id`` as one percent-encoded URL path segment (``ValueError``/``TypeError`` if unusable)."""
    # The usual id (a UUID) is checked, and needs no quoting, at once: only unreserved
    # characters (so none that is forbidden, blank or unprintable), and not "." or "..".
    if (
        type(task_id) is str
        and _UNRESERVED.fullmatch(task_id)
        and len(task_id) <= _MAX_ID_LENGTH
        and task_id not in (".", "..")
    ):
        return task_id
    segment = validate_task_id(task_id)
    if not _UNRESERVED.fullmatch(segment):  # ids are usually UUIDs: skip quote()'s work for them
        segment = quote(segment, safe="")
    return segment


def path_segment(value: object, name: str) -> str:
    """A caller's string (a language) or int as one percent-encoded URL path segment."""
    if isinstance(value, int) and not isinstance(value, bool):
        return run_id_segment(value, name)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be an int or a str, not {type(value).__name__}")
    text = str.__str__(value)
    if not text.strip() or text in (".", "..") or not text.isprintable() or not _FORBIDDEN.isdisjoint(text):
        raise ValueError(f"{name} {text[:64]!r} is not usable as one URL path segment")
    return quote(text, safe="")


def run_id_segment(run_id: object, name: str = "run_id") -> str:
    """A run id (or another numeric id) as a URL path segment, e.g. ``"123"``."""
    if isinstance(run_id, bool) or not isinstance(run_id, int):
        raise TypeError(f"{name} must be an int, not {type(run_id).__name__}")
    # The plain int value: an int subclass may override __str__/__format__ (and so the path).
    value = int.__index__(run_id)
    if value.bit_length() > _MAX_RUN_ID_BITS:
        raise ValueError(f"{name} is out of range ({value.bit_length()} bits, at most {_MAX_RUN_ID_BITS})")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return str(value)

"""The public surface: __all__ lists exactly what the packages show, under their public names."""

from __future__ import annotations
import __future__

import importlib
import importlib.metadata
import inspect
from typing import TYPE_CHECKING, get_origin

import pytest

import camb_async
import camb_async.testing

if TYPE_CHECKING:
    import types

MODULES = [camb_async, camb_async.testing]


def public_names(module: types.ModuleType) -> list[str]:
    """Names a user sees on ``module``: no modules, no private or dunder names except __version__.

    ``annotations`` (bound by ``from __future__ import annotations``) and ``TYPE_CHECKING``
    are compile-time helpers, not API, and are left out.
    """
    names: list[str] = []
    for name in dir(module):
        value = getattr(module, name)
        if name.startswith("_") and name != "__version__":
            continue
        if inspect.ismodule(value) or isinstance(value, __future__._Feature) or name == "TYPE_CHECKING":
            continue
        names.append(name)
    return sorted(names)


def isort_key(name: str) -> tuple[int, str]:
    """ruff's RUF022 (isort-style) order: CONSTANTS, then Classes, then the rest (functions, dunders)."""
    if name.isupper():
        return (0, name)
    return (1 if name[0].isupper() else 2, name)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_all_lists_exactly_the_public_names(module: types.ModuleType) -> None:
    """__all__ holds every public name of the module, each once, and nothing else."""
    exported: list[str] = list(module.__all__)
    assert len(exported) == len(set(exported))
    assert sorted(exported) == public_names(module)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_all_is_sorted_isort_style(module: types.ModuleType) -> None:
    """__all__ is in isort-style order (constants, then the rest, then dunders), as ruff checks."""
    exported: list[str] = list(module.__all__)
    assert exported == sorted(exported, key=isort_key)


@pytest.mark.parametrize(
    ("module", "name"),
    [(module, name) for module in MODULES for name in module.__all__],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
def test_every_exported_name_is_importable_under_its_public_module(
    module: types.ModuleType, name: str
) -> None:
    """Every name in __all__ can be imported, and a class says it lives in the public module."""
    imported = importlib.import_module(module.__name__)
    value = getattr(imported, name)
    # A generic alias such as Timeline passes isinstance(..., type) on Python 3.10 only.
    if isinstance(value, type) and get_origin(value) is None:
        assert value.__module__ == module.__name__
    assert value is getattr(module, name)


def test_the_documented_names_are_exported() -> None:
    """The client, the error tree, the models, the constants and the live sessions' classes are all
    part of the top-level API."""
    assert {
        "AsyncCambClient",
        "CambError",
        "APIError",
        "APIStatusError",
        "WatchTimeoutError",
        "TaskStatus",
        "TaskState",
        "PollSchedule",
        "DEFAULT_WATCH_TIMEOUT",
        "CambEvent",
        "EventHook",
        "RequestEnded",
        "WatchEnded",
        "RawResponse",
        "capture_responses",
        "__version__",
        "LiveEvent",
        "LiveSessionError",
        "LiveConnectionError",
        "LiveSessionStarted",
        "LiveSessionReady",
        "LiveSessionEnded",
        "LiveSessionRef",
        "LiveTTS",
        "LiveTTSSession",
        "LiveTTSAudio",
        "LiveTTSSegmentStarted",
        "LiveTTSSegmentDone",
        "LiveTTSSegmentSkipped",
        "LiveTTSSessionDone",
        "LiveTranscription",
        "Realtime",
    } <= set(camb_async.__all__)
    assert {"Simulator", "set_testing", "is_testing"} <= set(camb_async.testing.__all__)


def test_version_matches_installed_distribution() -> None:
    """__version__ equals the installed distribution's version."""
    assert camb_async.__version__ == importlib.metadata.version("camb-async")

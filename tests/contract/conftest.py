"""camb-sdk 1.6.6 against camb-async's simulator: asyncio only (camb-sdk's sessions are asyncio code).

``camb.live_transcription`` imports ``sounddevice`` for its ``Microphone`` helper, and
``sounddevice`` needs the PortAudio system library when it is imported. Where that
library is missing, a stand-in module takes its place before camb-sdk is imported:
the sessions under test never touch a microphone, and using the stand-in raises the
original error.
"""

from __future__ import annotations

import importlib
import sys
import types

import pytest


def _stand_in_for_sounddevice() -> None:
    """Put a module raising PortAudio's error on use in place of ``sounddevice`` when it cannot load."""
    try:
        importlib.import_module("sounddevice")
    except OSError as exc:
        error = str(exc)
        module = types.ModuleType("sounddevice", "A stand-in: the PortAudio library is missing.")

        def missing(name: str) -> object:
            raise OSError(f"sounddevice.{name} is unavailable: {error}")

        module.__getattr__ = missing  # type: ignore[method-assign]
        sys.modules["sounddevice"] = module


_stand_in_for_sounddevice()


@pytest.fixture
def anyio_backend() -> str:
    """camb-sdk runs on asyncio only."""
    return "asyncio"

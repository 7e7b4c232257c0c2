"""Fixtures of the fault suite: a fresh simulator per test, DEBUG logs checked for the API key."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest

from camb_async import AsyncCambClient
from camb_async.testing import Simulator

from .harness import FIGURES, SecretWatch

if TYPE_CHECKING:
    from collections.abc import Iterator

_LOGGERS = ("camb_async", "httpx", "httpcore", "uvicorn")


@pytest.fixture(scope="session")
def secret_watch() -> Iterator[SecretWatch]:
    """DEBUG logging of camb_async, httpx, httpcore and uvicorn for the whole suite, watched for the key."""
    handler = SecretWatch()
    saved: list[tuple[logging.Logger, int]] = []
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level))
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger, level in saved:
            logger.removeHandler(handler)
            logger.setLevel(level)
        FIGURES.add("logs", records=handler.records, leaks=len(handler.leaks))
        FIGURES.write()


@pytest.fixture(autouse=True)
def no_key_in_logs(secret_watch: SecretWatch) -> Iterator[None]:
    """Every test of the suite runs with DEBUG logs on and fails if a record shows the key."""
    yield
    assert not secret_watch.leaks, secret_watch.leaks[:3]


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """A fresh simulator per test, so its request log and fault counts are the test's own."""
    with Simulator(seed=11) as simulator:
        yield simulator


@pytest.fixture
def short_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff without a server hint of 20 ms doubling to 100 ms, instead of 0.5 s to 8 s.

    Poll intervals, Retry-After waits and timeouts stay real; only the
    no-hint backoff is shortened, so that 1,000 watches through 500s and
    503s (each 503 pauses the whole client) finish in seconds.
    """
    defaults = AsyncCambClient.__init__.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "retry_backoff", 0.02)
    monkeypatch.setitem(defaults, "max_retry_backoff", 0.1)

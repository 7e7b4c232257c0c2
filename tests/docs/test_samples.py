"""Every Python sample in README.md and docs/*.md runs, in page order, against the bundled simulator.

Sybil finds the samples: MyST and plain Markdown ``python`` fences, plus ``invisible-code-block``
comments that give a fragment what it assumes (``% invisible-code-block: python`` in MyST pages,
an HTML comment in README.md) and ``skip`` comments. The samples of one page share a namespace
and one asyncio event loop, run by an anyio blocking portal: a sample with a top-level ``await``
runs on that loop, any other sample in the test's own thread, so a complete program may call
``anyio.run()`` itself.

Each page starts with what a reader is told to have:

* ``CAMB_API_KEY``, ``CAMB_BASE_URL`` and ``CAMB_REALTIME_URL`` set for a fresh simulator, so
  ``AsyncCambClient()`` reaches it (its live sessions too), never the real API;
* ``client``: an open client bound to that simulator, for the fragments that use one, and
  ``sim``, the simulator itself; a client a sample leaves open in the namespace is closed
  after the page's last sample;
* a temporary working directory, for the files the samples download;
* testing mode (``set_testing()``): no SDK sleeps, and the simulator's tasks end within 0.1 s.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import pathlib
from typing import TYPE_CHECKING, Any

import pytest
from anyio.from_thread import start_blocking_portal
from markdown_it import MarkdownIt
from sybil import Document, Example
from sybil.evaluators.python import pad
from sybil.parsers.myst import CodeBlockParser, SkipParser

from camb_async import AsyncCambClient
from camb_async.testing import Simulator, set_testing

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from anyio.from_thread import BlockingPortal

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
# What a reader may write for Python; Sybil evaluates the fences that say exactly "python".
PYTHON_NAMES = frozenset({"python", "py", "python3", "py3", "pycon", "ipython", "ipython3"})


def _parse(page: pathlib.Path, evaluator: Callable[[Example], None]) -> Document:
    return Document.parse(str(page), CodeBlockParser("python", evaluator), SkipParser())


def _not_run(example: Example) -> None:
    raise AssertionError(f"{example.path}: a sample ran while only being counted")


def _python_fence_lines(page: pathlib.Path) -> list[int]:
    """The first line (1-based) of each fenced block whose language is Python, as markdown-it sees them."""
    tokens = MarkdownIt("commonmark").parse(page.read_text(encoding="utf-8"))
    return [
        token.map[0] + 1
        for token in tokens
        if token.type == "fence" and token.map and token.info.partition(" ")[0] in PYTHON_NAMES
    ]


def _sample_pages() -> list[pathlib.Path]:
    return [page for page in PAGES if any(True for _ in _parse(page, _not_run))]


def _runner(portal: BlockingPortal) -> Callable[[Example], None]:
    """An evaluator that allows a top-level ``await``, ``async for`` and ``async with``."""

    def evaluate(example: Example) -> None:
        __tracebackhide__ = True
        source = pad(example.parsed, example.line + example.parsed.line_offset)
        code = compile(source, example.path, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
        result = eval(code, example.namespace)  # a coroutine when the sample awaits at top level
        if inspect.iscoroutine(result):
            portal.call(_finish, result)
        example.namespace.pop("__builtins__", None)

    return evaluate


async def _finish(coroutine: Any) -> None:
    await coroutine


@pytest.fixture
def page_setup(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The namespace a page's first sample starts with, and the loop its samples share."""
    with contextlib.ExitStack() as stack:
        sim = stack.enter_context(Simulator(durations=(0.0, 0.1), seed=1))
        monkeypatch.setenv("CAMB_API_KEY", "docs-samples-key")
        monkeypatch.setenv("CAMB_BASE_URL", sim.url)
        monkeypatch.setenv("CAMB_REALTIME_URL", sim.realtime_url)
        monkeypatch.chdir(tmp_path)
        stack.enter_context(set_testing())
        portal = stack.enter_context(start_blocking_portal("asyncio"))
        client = stack.enter_context(portal.wrap_async_context_manager(AsyncCambClient()))
        yield {"client": client, "sim": sim, "__portal": portal}


@pytest.mark.parametrize("page", _sample_pages(), ids=lambda page: str(page.relative_to(ROOT)))
def test_samples_run(page: pathlib.Path, page_setup: dict[str, Any]) -> None:
    """Each sample of the page runs without an error, after the page's earlier samples."""
    portal: BlockingPortal = page_setup.pop("__portal")
    document = _parse(page, _runner(portal))
    document.namespace.update(page_setup)
    try:
        for example in document:
            example.evaluate()
    finally:  # a sample may leave a client open for the next ones, as a reader's program would
        for value in list(document.namespace.values()):
            if isinstance(value, AsyncCambClient):
                portal.call(value.aclose)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_python_fence_is_run(page: pathlib.Path) -> None:
    """Each fenced block in Python is a sample Sybil runs: none hides behind another spelling."""
    found = {example.line for example in _parse(page, _not_run)}
    missed = sorted(set(_python_fence_lines(page)) - found)
    assert not missed, f'{page.name}: the Python fences at lines {missed} are not run; write "python" alone'

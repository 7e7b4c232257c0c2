"""The code docs/fastapi.md and docs/workers.md show is the code of examples/, which CI runs.

Those pages show it inline, so that it reads on the repository's page too (a Sphinx
``literalinclude`` shows there as the bare directive). Each copy follows a MyST comment that
names its source, ``% inlined: examples/FILE PART``, where ``PART`` is ``docs:NAME`` (the lines
between ``# [docs:NAME]`` and ``# [docs:NAME-end]``) or the name of a top-level function or
class; these tests hold each copy equal to its source.
"""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "docs").glob("*.md"))
INLINED = re.compile(
    r"^% inlined: (?P<file>\S+) (?P<part>\S+)\n(?:(?:%[^\n]*)?\n)*```python\n(?P<code>.*?)^```$",
    re.MULTILINE | re.DOTALL,
)


def source_of(file: str, part: str) -> str:
    """The text of ``part`` of ``file``: a ``docs:NAME`` region or a top-level object, with a final newline."""
    text = (ROOT / file).read_text(encoding="utf-8")
    if part.startswith("docs:"):
        name = part.removeprefix("docs:")
        region = text.split(f"# [docs:{name}]\n", 1)[1].split(f"# [docs:{name}-end]\n", 1)[0]
        return region.strip("\n") + "\n"
    lines = text.splitlines(keepends=True)
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == part:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            return "".join(lines[first - 1 : node.end_lineno])
    raise LookupError(f"{file} has no top-level {part}")


def copies() -> list[tuple[pathlib.Path, str, str, str]]:
    """``(page, file, part, inlined code)`` of every inlined copy in the docs."""
    return [
        (page, found["file"], found["part"], found["code"])
        for page in PAGES
        for found in INLINED.finditer(page.read_text(encoding="utf-8"))
    ]


@pytest.mark.parametrize(
    ("page", "file", "part", "code"),
    [pytest.param(*copy, id=f"{copy[0].name}-{copy[2]}") for copy in copies()],
)
def test_an_inlined_copy_equals_its_source(page: pathlib.Path, file: str, part: str, code: str) -> None:
    """The copy on the page is the example's code, line for line."""
    assert code == source_of(file, part), f"{page.name}: the copy of {file} {part} is stale"


def test_the_pages_that_show_examples_inline_them() -> None:
    """No page shows code through literalinclude (invisible on the repository's page), and
    the FastAPI and worker pages inline each part they show."""
    for page in PAGES:
        assert "literalinclude" not in page.read_text(encoding="utf-8"), page.name
    shown = {(page.name, part) for page, _, part, _ in copies()}
    assert {
        ("fastapi.md", "docs:client"),
        ("fastapi.md", "docs:speech"),
        ("fastapi.md", "docs:events"),
        ("fastapi.md", "docs:live"),
    } <= shown
    assert {
        ("workers.md", name) for name in ("startup", "shutdown", "WorkerSettings", "speak", "Batch", "main")
    } <= shown

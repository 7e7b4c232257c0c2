"""README's links work where README is shown alone (PyPI), and the intersphinx inventories
under docs/_inventories are what their script writes."""

from __future__ import annotations

import pathlib
import re
import runpy
import zlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
INVENTORIES = ROOT / "docs" / "_inventories"
REPOSITORY_FILES = "https://github.com/camb-async/camb-async/blob/main/"


def test_readme_links_are_absolute() -> None:
    """Every link in README.md is a full URL, and each into the repository names a file that exists."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", readme)
    assert targets, "README.md has no links: the pattern no longer matches"
    relative = [target for target in targets if not target.startswith(("https://", "http://"))]
    assert not relative, f"README.md links that break on PyPI: {relative}"
    for target in targets:
        if target.startswith(REPOSITORY_FILES):
            path = target.removeprefix(REPOSITORY_FILES).partition("#")[0]
            assert (ROOT / path).is_file(), f"README.md links to {path}, which does not exist"


def _body(inventory: bytes) -> bytes:
    """The objects of a Sphinx inventory, decompressed (the header is 4 lines)."""
    lines = inventory.split(b"\n", 4)
    return b"\n".join(lines[:4]) + zlib.decompress(lines[4])


def test_inventories_match_their_script(tmp_path: pathlib.Path) -> None:
    """The committed .inv files list exactly the names make_inventories.py gives them."""
    script = runpy.run_path(str(INVENTORIES / "make_inventories.py"))
    script["main"](tmp_path)
    written = sorted(path.name for path in tmp_path.glob("*.inv"))
    assert written == sorted(path.name for path in INVENTORIES.glob("*.inv"))
    for name in written:
        assert _body((INVENTORIES / name).read_bytes()) == _body((tmp_path / name).read_bytes()), (
            f"docs/_inventories/{name} is stale: run python docs/_inventories/make_inventories.py"
        )

"""Sphinx configuration: furo, MyST Markdown pages, autodoc with napoleon (Google style).

Links to Python, anyio, httpx and pydantic go through intersphinx, offline: see
``intersphinx_mapping`` below.
"""

from __future__ import annotations

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Build from a checkout even when camb_async is not installed in the docs environment.
sys.path.insert(0, str(ROOT))

import camb_async  # after the path is set above

project = "camb-async"
author = "camb-async developers"
copyright = "camb-async developers"  # the name Sphinx reads
version = release = camb_async.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.napoleon",
]

source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# -- MyST ---------------------------------------------------------------------
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3  # lets pages link to sections: [deadline](polling.md#the-deadline)

# -- autodoc / napoleon ---------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
# Show these aliases by name in signatures instead of spelling out what they stand for.
autodoc_type_aliases = {"TaskFamily": "TaskFamily"}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# -- cross-references -------------------------------------------------------------
# The build must not fetch anything (CI reaches only package registries), and httpx and
# pydantic publish no objects.inv (MkDocs). So each project's inventory is a small local file,
# docs/_inventories/<project>.inv, written by the committed make_inventories.py with the names
# we refer to and their real public URLs; giving the file as the second element means Sphinx
# reads it and never downloads. A name missing there stays plain text: add it to the script.
_INVENTORIES = pathlib.Path(__file__).resolve().parent / "_inventories"
intersphinx_mapping = {
    project: (url, str(_INVENTORIES / f"{project}.inv"))
    for project, url in {
        "python": "https://docs.python.org/3/",
        "anyio": "https://anyio.readthedocs.io/en/stable/",
        "httpx": "https://www.python-httpx.org/",
        "pydantic": "https://docs.pydantic.dev/latest/",
    }.items()
}

nitpicky = False
# With `sphinx-build -n`: the names our small inventories leave out.
nitpick_ignore_regex = [
    (r"py:.*", r"(collections\.abc|typing|types)\..*"),
    (r"py:.*", r"(httpx|anyio|pydantic)\..*"),
    (r"py:class", r"camb_async\.testing\._TestingMode"),  # what set_testing() returns
    (r"py:class", r"TimeoutTypes"),  # seconds, an httpx.Timeout, or None: see the client's Args
]

# -- HTML ---------------------------------------------------------------------------
html_theme = "furo"
html_title = f"camb-async {release}"

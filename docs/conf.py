"""Sphinx configuration: furo, MyST Markdown pages, autodoc with napoleon (Google style).

The build runs offline, so there is no intersphinx: references to httpx, anyio,
pydantic and the standard library's abstract types stay plain text (see
``nitpick_ignore_regex`` below, for builds run with ``-n``).
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
nitpicky = False
# With `sphinx-build -n`: names from other projects have no target without intersphinx.
nitpick_ignore_regex = [
    (r"py:.*", r"(collections\.abc|typing|types)\..*"),
    (r"py:.*", r"(httpx|anyio|pydantic)\..*"),
    (r"py:class", r"camb_async\.testing\._TestingMode"),  # what set_testing() returns
    (r"py:class", r"TimeoutTypes"),  # seconds, an httpx.Timeout, or None: see the client's Args
]

# -- HTML ---------------------------------------------------------------------------
html_theme = "furo"
html_title = f"camb-async {release}"

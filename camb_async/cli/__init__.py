"""``camb-async``: follow and fetch CAMB.AI tasks from the shell.

The command line is an optional extra (``pip install 'camb-async[cli]'``: typer
and rich). Importing ``camb_async`` never imports it; :func:`main`, the console
script's entry point, says in one line how to install the extra when it is missing.
The CLI uses the public API only, as any program would.
"""

from __future__ import annotations

import sys

__all__ = ["main"]

_EXTRA_MODULES = frozenset({"typer", "click", "rich"})
_INSTALL_HINT = "camb-async: the command line needs its extra: pip install 'camb-async[cli]'"


def main() -> None:
    """Run the ``camb-async`` command on ``sys.argv`` and exit with its code."""
    try:
        from ._app import run
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] not in _EXTRA_MODULES:
            raise
        print(_INSTALL_HINT, file=sys.stderr)
        raise SystemExit(2) from None
    raise SystemExit(run())

"""``python -m camb_async.cli``: the ``camb-async`` command."""

from __future__ import annotations

from . import main

if __name__ == "__main__":
    main()

"""Write the intersphinx inventories in this folder: ``python docs/_inventories/make_inventories.py``
(needs sphobjinv).

The docs build offline, so docs/conf.py points intersphinx at these files instead of the
projects' own ``objects.inv``. Each holds only the names our docs and docstrings refer to,
each mapped to its page in that project's public documentation (httpx and pydantic are built
with MkDocs and publish no inventory). To link one more name, add it below and run this
again; tests/docs checks that the files match this script.
"""

from __future__ import annotations

import pathlib

import sphobjinv

HERE = pathlib.Path(__file__).resolve().parent

# project -> (version, [(name, domain:role, uri relative to the project's docs root)]).
# "$" at the end of a uri stands for the name, as in Sphinx's own inventories.
INVENTORIES: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "python": (
        "3",
        [
            *(
                (f"collections.abc.{name}", "py:class", "library/collections.abc.html#$")
                for name in (
                    "AsyncGenerator",
                    "AsyncIterable",
                    "AsyncIterator",
                    "Awaitable",
                    "Callable",
                    "Iterable",
                    "Iterator",
                    "Mapping",
                    "Sequence",
                )
            ),
            ("asyncio.gather", "py:function", "library/asyncio-task.html#$"),
            ("asyncio.timeout", "py:function", "library/asyncio-task.html#$"),
            ("contextlib.aclosing", "py:class", "library/contextlib.html#$"),
            ("os.PathLike", "py:class", "library/os.html#$"),
            ("random.Random", "py:class", "library/random.html#$"),
            ("ResourceWarning", "py:exception", "library/exceptions.html#$"),
            ("TimeoutError", "py:exception", "library/exceptions.html#$"),
        ],
    ),
    "anyio": (
        "4",
        [
            ("anyio.run", "py:function", "api.html#$"),
            ("anyio.fail_after", "py:function", "api.html#$"),
            ("anyio.move_on_after", "py:function", "api.html#$"),
            ("anyio.create_task_group", "py:function", "api.html#$"),
            ("anyio.CancelScope", "py:class", "api.html#$"),
            ("anyio.Semaphore", "py:class", "api.html#$"),
            ("anyio.from_thread.start_blocking_portal", "py:function", "api.html#$"),
        ],
    ),
    "httpx": (
        "0.28",
        [
            ("httpx.AsyncClient", "py:class", "api/#asyncclient"),
            ("httpx.Response", "py:class", "api/#response"),
            ("httpx.Request", "py:class", "api/#request"),
            ("httpx.URL", "py:class", "api/#url"),
            ("httpx.Timeout", "py:class", "advanced/timeouts/"),
            ("httpx.Limits", "py:class", "advanced/resource-limits/"),
            ("httpx.ASGITransport", "py:class", "advanced/transports/"),
            ("httpx.MockTransport", "py:class", "advanced/transports/"),
            *(
                (f"httpx.{name}", "py:exception", "exceptions/")
                for name in (
                    "HTTPError",
                    "TransportError",
                    "TimeoutException",
                    "ReadTimeout",
                    "RemoteProtocolError",
                )
            ),
        ],
    ),
    "pydantic": (
        "2",
        [
            ("pydantic.BaseModel", "py:class", "api/base_model/#$"),
            ("pydantic.main.BaseModel", "py:class", "api/base_model/#pydantic.BaseModel"),
            ("pydantic.ConfigDict", "py:class", "api/config/#pydantic.config.ConfigDict"),
            # A type alias, which signatures refer to as a class.
            ("pydantic.JsonValue", "py:class", "api/types/#pydantic.types.JsonValue"),
            ("pydantic.types.JsonValue", "py:class", "api/types/#$"),
        ],
    ),
}


def inventory(project: str) -> sphobjinv.Inventory:
    """The inventory of ``project``, built from INVENTORIES."""
    version, entries = INVENTORIES[project]
    inv = sphobjinv.Inventory()
    inv.project = project
    inv.version = version
    for name, kind, uri in entries:
        domain, role = kind.split(":")
        inv.objects.append(
            sphobjinv.DataObjStr(name=name, domain=domain, role=role, priority="1", uri=uri, dispname="-")
        )
    return inv


def main(folder: pathlib.Path = HERE) -> None:
    """Write ``<project>.inv`` for every project into ``folder``."""
    for project in INVENTORIES:
        sphobjinv.writebytes(folder / f"{project}.inv", sphobjinv.compress(inventory(project).data_file()))


if __name__ == "__main__":
    main()

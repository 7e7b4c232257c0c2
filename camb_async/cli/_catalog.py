"""``voices`` and ``languages``: the catalog as rich tables, or JSON lines."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._outcomes import ExitCode

if TYPE_CHECKING:
    from collections.abc import Sequence

    import camb_async

    from ._output import Output

__all__ = ["languages", "voices"]


def _table(output: Output, title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left")
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(Text(output.scrub(cell)) for cell in row))
    output.console().print(table)


async def voices(client: camb_async.AsyncCambClient, output: Output) -> ExitCode:
    """List the voices the key may speak with."""
    found = await client.voices.list()
    if output.json_lines:
        for voice in found:
            output.record(voice.model_dump(mode="json"))
        return ExitCode.OK
    rows = [
        [
            str(voice.id),
            voice.voice_name,
            "" if voice.gender is None else str(voice.gender),
            "" if voice.age is None else str(voice.age),
            "" if voice.language is None else str(voice.language),
            voice.description or "",
        ]
        for voice in found
    ]
    _table(output, f"{len(found)} voices", ["id", "name", "gender", "age", "language", "description"], rows)
    return ExitCode.OK


async def languages(client: camb_async.AsyncCambClient, output: Output, *, target: bool) -> ExitCode:
    """List the source languages, or with ``target`` the target languages."""
    found = await (client.languages.target() if target else client.languages.source())
    if output.json_lines:
        for language in found:
            output.record(language.model_dump(mode="json"))
        return ExitCode.OK
    rows = [[str(language.id), language.language, language.short_name] for language in found]
    kind = "target" if target else "source"
    _table(output, f"{len(found)} {kind} languages", ["id", "language", "locale"], rows)
    return ExitCode.OK

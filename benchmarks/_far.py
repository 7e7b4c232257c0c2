"""Scenario 3's Markdown: the same watches of a near and of a distant server, and what the distance costs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._report import WATCH_LABELS, watch_table

if TYPE_CHECKING:
    from ._report import WatchResult

Rows = list[tuple[str, "WatchResult"]]

TARGET = 1.5
"""The most a distant server's p99 lag may be, as a multiple of a near one's (issue 12)."""


def tables(
    runs: dict[float, Rows],
    low: float,
    high: float,
    interval: float,
    *,
    title: str,
    server: str | None = None,
) -> str:
    """One table per latency (the first is the near server's), then the ratios of lag between them."""
    (near, near_rows), *far = runs.items()
    served = "" if server is None else f" The server is the simulator's app on hypercorn (`{server}`)."
    parts = [
        f"### {title}",
        "",
        (
            "The same tasks, followed by the same clients, first from a server that answers at once and "
            f"then from one that holds every answer (a distant API's round trip).{served}"
        ),
    ]
    for latency, rows in runs.items():
        table = watch_table(rows, low, high, interval, title=f"{title}: {_ms(latency)}", latency=latency)
        parts += ["", table.replace("### ", "#### ", 1)]
    lines = [
        "",
        f"| client | round trip | lag p50 | lag p99 | polls a second | p99 / p99 at {_ms(near)} | target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for latency, rows in [(near, near_rows), *far]:
        for kind, result in rows:
            reference = dict(near_rows).get(kind)
            ratio = "-"
            p99 = result.lag(0.99)
            if reference is not None and p99 is not None and (base := reference.lag(0.99)):
                ratio = f"{p99 / base:.2f}x"
            lines.append(
                f"| {WATCH_LABELS.get(kind, kind)} | {_ms(latency)} | {_seconds(result.lag(0.50))} | {_seconds(p99)} "
                f"| {result.requests / result.wall_s if result.wall_s > 0 else 0:,.0f} | {ratio} "
                f"| {'' if latency == near else f'<= {TARGET:g}x'} |"
            )
    return "\n".join(parts + lines)


def _ms(latency: float) -> str:
    return f"{1000 * latency:g} ms"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"

"""Print the figures of a fault-suite run as the Markdown table docs/reliability.md shows.

CAMB_FAULTS_REPORT=faults.json python -m pytest tests/faults
python tests/faults/report.py faults.json
"""

from __future__ import annotations

import json
import sys
from typing import Any

from camb_async.testing import FAULT_KINDS

ORDER = [*FAULT_KINDS, "mix", "mix (trio)", "restart", "restart (trio)"]


def render(report: dict[str, Any]) -> str:
    runs: dict[str, dict[str, Any]] = report["runs"]
    lines = [
        (
            "| run | watches | requests | faults injected | true final status | ridden out | typed errors "
            "| lost | seconds |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in [n for n in ORDER if n in runs]:
        run = runs[name]
        errors = ", ".join(f"{count} {kind}" for kind, count in sorted(run["errors"].items())) or "0"
        restarts = f"restart x{run['restarts']}"
        label = name.replace("restart", restarts) if name.startswith("restart") else f"`{name}`"
        lines.append(
            f"| {label} | {run['tasks']:,} | {run['requests']:,} | {run['faults_injected']:,} "
            f"| {run['resolved']:,} | {run.get('ridden_out', 0)} | {errors} | {run['lost']} | {run['seconds']} |"
        )
    totals = report["totals"]
    lines.append(
        f"| **total** | {totals['tasks']:,} | {totals['requests']:,} | {totals['faults_injected']:,} "
        f"| {totals['resolved']:,} | | {totals['typed_errors']} | {totals['lost']} | |"
    )
    for name in [n for n in ORDER if n.startswith("restart") and n in runs]:
        retries: dict[str, int] = runs[name].get("retries", {})
        reasons = ", ".join(f"{count} after {why}" for why, count in sorted(retries.items()))
        lines.append("")
        lines.append(f"Retries the restarts caused ({name}), all invisible to the watches: {reasons}.")
    for name in sorted(n for n in runs if n.startswith("backpressure-")):
        run = runs[name]
        lines.append("")
        lines.append(
            f"Back-pressure ({name.removeprefix('backpressure-')}): {run['requests_in_second_before']} "
            f"requests in the second before the 429, {run['requests_during_pause']} during its "
            f"{run['retry_after']:g} s pause ({run['requests_late_in_pause']} in its second half), "
            f"{run['requests_in_second_after']} in the second after."
        )
    logs = runs.get("logs")
    if logs:
        lines.append("")
        lines.append(
            f"Log records checked for the API key: {logs['records']:,}; records showing it: {logs['leaks']}."
        )
    lines.append("")
    lines.append(f"Produced {report['produced']}; the suite took {report['suite_seconds']} s.")
    return "\n".join(lines)


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as source:
        print(render(json.load(source)))

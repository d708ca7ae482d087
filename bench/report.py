"""The benchmark's table, as printed by ``make bench`` and pasted into the README.

For: turning the results of ``bench.run`` (the same dict that goes to ``bench/results.json``)
into aligned text. Not for: measuring or judging anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MB = 1024  # ru_maxrss is in KiB


def table(results: dict[str, Any]) -> str:
    parts = [_title(results)]
    if results["plan"]:
        parts += [_plan_table(results["plan"]), _phases(results["plan"])]
    if results["apply"]:
        parts.append(_apply_table(results["apply"]))
    if results.get("saved_plan"):
        parts.append(_saved_plan_table(results["saved_plan"]))
    parts.append(_bounds(results["bounds"]))
    return "\n\n".join(parts)


def _title(results: dict[str, Any]) -> str:
    box = results["machine"]
    return (
        f"cce-reconciler benchmark: emulator latency {results['latency_ms']:g} ms per request, "
        f"in its own process ({box['cpus']} CPUs, Python {box['python']})"
    )


def _rows(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    )


def _plan_table(plans: list[dict[str, Any]]) -> str:
    header = [
        "N",
        "requests",
        "list pages",
        "wall s",
        "CPU s",
        "CPU/resource",
        "peak RSS",
        "|",
        "1 GET each",
        "wall s",
        "slower",
    ]
    rows = [_plan_row(row) for row in plans]
    title = "plan, everything in sync (median of the runs) | the same refresh with one GET per resource on 10 threads"
    return title + "\n" + _rows(header, rows)


def _plan_row(row: dict[str, Any]) -> list[str]:
    plan, terraform = row["plan"], row["terraform"]
    cells = [
        f"{row['n']:,}",
        f"{plan['emulator_requests']:,}",
        f"{row['list_pages']:,}",
        f"{plan['wall_s']:.2f}",
        f"{plan['cpu_s']:.2f}",
        f"{plan['cpu_s'] / row['n'] * 1e6:.0f} us",
        f"{plan['peak_rss_kb'] / MB:.0f} MB",
    ]
    if terraform is None:
        return [*cells, "|", "-", "-", "-"]
    ratio = terraform["wall_s"] / plan["wall_s"]
    return [
        *cells,
        "|",
        f"{terraform['emulator_requests']:,}",
        f"{terraform['wall_s']:.2f}",
        f"{ratio:.0f}x",
    ]


def _phases(plans: list[dict[str, Any]]) -> str:
    largest = max(plans, key=lambda row: row["n"])
    phases = largest["plan"]["phases"]
    text = ", ".join(
        f"{name} {spent['wall_s']:.2f} / {spent['cpu_s']:.2f}" for name, spent in phases.items()
    )
    emulator = largest["plan"].get("emulator_cpu_s")
    served = f"; the emulator's CPU: {emulator:.2f} s" if emulator is not None else ""
    return f"plan phases at N = {largest['n']:,} (wall / CPU, s): {text}{served}"


def _apply_table(applies: list[dict[str, Any]]) -> str:
    first = applies[0]
    header = [
        "--rate",
        "wall s",
        "ideal s",
        "x ideal",
        "requests",
        "achieved/s",
        "peak in 1 s",
        "CPU s",
        "emulator CPU s",
    ]
    rows = [_apply_row(row) for row in applies]
    title = (
        f"apply: {first['creates']:,} repository creates at parallelism {first['parallelism']} "
        "(wall of the creates; ideal = creates x latency / parallelism, or creates / rate)"
    )
    return title + "\n" + _rows(header, rows)


def _apply_row(row: dict[str, Any]) -> list[str]:
    apply = row["apply"]
    wall = apply["phases"]["execute"]["wall_s"]
    ideal = (
        row["ideal_s"] if row["rate"] is None else max(row["ideal_s"], row["creates"] / row["rate"])
    )
    emulator = apply.get("emulator_cpu_s")
    return [
        "none" if row["rate"] is None else f"{row['rate']:g}",
        f"{wall:.2f}",
        f"{ideal:.2f}",
        f"{wall / ideal:.2f}x",
        f"{apply['emulator_mutating']:,}",
        f"{row['achieved_rate']:.0f}",
        f"{row['peak_1s_requests']:,}",
        f"{apply['phases']['execute']['cpu_s']:.2f}",
        "-" if emulator is None else f"{emulator:.2f}",
    ]


def _saved_plan_table(rows: list[dict[str, Any]]) -> str:
    header = ["N managed", "requests", "mutating", "wall s", "CPU s", "peak RSS", "phases (wall s)"]
    body = []
    for row in rows:
        apply = row["apply"]
        phases = ", ".join(
            f"{name} {spent['wall_s']:.2f}" for name, spent in apply["phases"].items()
        )
        body.append(
            [
                f"{row['n']:,}",
                f"{apply['emulator_requests']:,}",
                f"{apply['emulator_mutating']:,}",
                f"{apply['wall_s']:.2f}",
                f"{apply['cpu_s']:.2f}",
                f"{apply['peak_rss_kb'] / MB:.0f} MB",
                phases,
            ]
        )
    title = (
        "apply --plan FILE: a saved plan changing one repository's description (median of the runs)"
    )
    return title + "\n" + _rows(header, body)


def _bounds(checks: list[dict[str, Any]]) -> str:
    lines = ["bounds"]
    for check in checks:
        verdict = "ok    " if check["ok"] else "MISSED"
        lines.append(
            f"  {verdict}  {check['bound']}: {_number(check['value'])} (limit {_number(check['limit'])})"
        )
    return "\n".join(lines)


def _number(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.2f}"

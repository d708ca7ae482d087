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
    if results.get("versus_terraform"):
        parts.append(_versus_table(results["versus_terraform"]))
    if results["plan"]:
        parts += [_plan_table(results["plan"]), _phases_table(results["plan"])]
    saved = [row for row in results["plan"] if row.get("saved_plan")]
    if saved:
        parts.append(_saved_plan_table(saved))
    changes = [row for row in results["plan"] if row.get("changes")]
    if changes:
        parts.append(_changes_table(changes))
    if results["apply"]:
        parts.append(_apply_table(results["apply"]))
    parts.append(_bounds(results["bounds"]))
    return "\n\n".join(parts)


def _title(results: dict[str, Any]) -> str:
    box = results["machine"]
    load = box.get("load_average")
    after = box.get("load_average_after")
    busy = ""
    if load:
        busy = f"; load average {load[0]:.1f} at the start"
        busy += f", {after[0]:.1f} at the end" if after else ""
    return (
        f"cce-reconciler benchmark: emulator latency {results['latency_ms']:g} ms per request, "
        f"in its own process ({box['cpus']} CPUs, Python {box['python']}{busy})"
    )


def _versus_table(row: dict[str, Any]) -> str:
    title = (
        f"whole processes: reconciler plan over {row['n']:,} resources in sync (start-up, HTTP "
        f"refresh, output) | Terraform core planning {row['n']:,} terraform_data (no I/O)"
    )
    if "skipped" in row:
        return f"{title}\n  skipped: {row['skipped']}"
    ours, theirs = row["ours"], row["terraform"]
    header = ["", "wall s", "CPU s", "runs"]
    rows = [
        [
            "reconciler plan",
            f"{ours['wall_s']:.3f}",
            f"{ours['cpu_s']:.3f}",
            f"{len(ours['runs'])}",
        ],
        [
            row["terraform_version"] or "terraform",
            f"{theirs['wall_s']:.3f}",
            f"{theirs['cpu_s']:.3f}",
            f"{len(theirs['runs'])}",
        ],
        ["ratio (median of pairs)", f"{row['ratio_wall']:.3f}", f"{row['ratio_cpu']:.3f}", ""],
    ]
    load = ", ".join(f"{value:.1f}" for value in row["load_average"])
    return f"{title}\nmedians, run in turn; load average before, after: {load}\n" + _rows(
        header, rows
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


PLAN_PHASES = ("load", "state", "refresh", "plan", "render")


def _phases_table(plans: list[dict[str, Any]]) -> str:
    header = ["N", *PLAN_PHASES, "CPU/resource: load", "state", "refresh", "plan", "emulator CPU"]
    rows = []
    for row in plans:
        plan = row["plan"]
        phases = plan["phases"]
        cells = [f"{row['n']:,}"]
        cells += [_wall_cpu(phases.get(name)) for name in PLAN_PHASES]
        cells += [_per_resource(phases.get(name), row["n"]) for name in PLAN_PHASES[:4]]
        emulator = plan.get("emulator_cpu_s")
        cells.append("-" if emulator is None else f"{emulator:.2f} s")
        rows.append(cells)
    title = "plan phases, the median run (wall / CPU, s; CPU per declared resource)"
    return title + "\n" + _rows(header, rows)


def _wall_cpu(spent: dict[str, float] | None) -> str:
    return "-" if spent is None else f"{spent['wall_s']:.2f} / {spent['cpu_s']:.2f}"


def _per_resource(spent: dict[str, float] | None, n: int) -> str:
    return "-" if spent is None else f"{spent['cpu_s'] / n * 1e6:.1f} us"


def _phase_list(phases: dict[str, dict[str, float]]) -> str:
    return ", ".join(f"{name} {spent['wall_s']:.2f}" for name, spent in phases.items())


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
        apply = row["saved_plan"]["apply"]
        body.append(
            [
                f"{row['n']:,}",
                f"{apply['emulator_requests']:,}",
                f"{apply['emulator_mutating']:,}",
                f"{apply['wall_s']:.2f}",
                f"{apply['cpu_s']:.2f}",
                f"{apply['peak_rss_kb'] / MB:.0f} MB",
                _phase_list(apply["phases"]),
            ]
        )
    saves = [
        f"{row['n']:,}: {_wall_cpu(row['saved_plan']['apply']['saved']['phases'].get('save'))}"
        f" ({row['saved_plan']['apply']['plan_file_bytes'] / 1e6:.1f} MB; the state "
        f"{row['saved_plan']['apply']['state_file_bytes'] / 1e6:.1f} MB)"
        for row in rows
    ]
    title = (
        "apply --plan FILE: a saved plan changing one repository's description (median of the runs)"
    )
    return (
        title
        + "\n"
        + _rows(header, body)
        + "\nwriting the saved plan (plan --out, wall / CPU s): "
        + "; ".join(saves)
    )


def _changes_table(rows: list[dict[str, Any]]) -> str:
    header = [
        "N managed",
        "updates",
        "wall s",
        "ideal s",
        "x ideal",
        "requests",
        "peak RSS",
        "phases (wall / CPU s)",
    ]
    body = []
    for row in rows:
        changes = row["changes"]
        apply = changes["apply"]
        wall = apply["phases"]["execute"]["wall_s"]
        phases = ", ".join(f"{name} {_wall_cpu(spent)}" for name, spent in apply["phases"].items())
        body.append(
            [
                f"{row['n']:,}",
                f"{changes['changes']:,}",
                f"{wall:.2f}",
                f"{changes['ideal_s']:.2f}",
                f"{wall / changes['ideal_s']:.2f}x",
                f"{apply['emulator_requests']:,}",
                f"{apply['peak_rss_kb'] / MB:.0f} MB",
                phases,
            ]
        )
    first = rows[0]["changes"]
    title = (
        f"apply: repository updates among N managed at parallelism {first['parallelism']} "
        "(wall of the updates; ideal = updates x latency / parallelism; median of the runs)"
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

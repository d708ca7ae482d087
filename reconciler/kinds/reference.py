"""The kinds' reference tables as Markdown, for docs/configuration.md and the README.

For: the per-kind table of docs/configuration.md (every key: required, format, what a change
does, what removing it does), the "Removing an optional field" table and the README's list of
what can change in place, all read from the kinds' field tables; and rewriting the regions of a
Markdown file that hold them. A region is marked in the file::

    <!-- generated: kind namespace (python -m reconciler.kinds.reference) -->
    ...
    <!-- end generated -->

``python -m reconciler.kinds.reference [--check] [FILE ...]`` rewrites them (default
docs/configuration.md and README.md); a test fails when a committed region is not what this
module writes.
Not for: the JSON Schemas (``reconciler schema``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from reconciler.kinds import REGISTRY, Kind, kind_named
from reconciler.kinds.fields import CREATE_ONLY, IN_PLACE, REFUSED, REPLACE, Field, walk

FILES = ("docs/configuration.md", "README.md")
BEGIN = re.compile(
    r"<!-- generated: (?P<what>[^()]+?) \(python -m reconciler\.kinds\.reference\) -->"
)
END = "<!-- end generated -->"
LIFECYCLE = "`{protect: true\\|false, reconcile: observe\\|warn\\|enforce}`"


def code(value: object) -> str:
    """A value as YAML would spell it, in backquotes."""
    text = value if isinstance(value, str) else json.dumps(value)
    return f"`{text}`" if text != "" else '`""`'


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# --- one kind ---------------------------------------------------------------------------------


def change_of(kind: Kind, path: str, one: Field) -> str:
    if path in kind.identity:
        return "a new address (the old object is deleted)"
    if one.fields and any(inner.change is not REPLACE for _, inner in walk(one.fields)):
        return "see its keys"
    words = {
        IN_PLACE: "in place",
        REPLACE: "replaces it",
        CREATE_ONLY: "nothing: create-only",
        REFUSED: "refused",
    }[one.change]
    return f"{words} ({one.why})" if one.why and one.change is not REPLACE else words


def removal_of(kind: Kind, path: str, one: Field) -> str:
    """What removing the key from the YAML does ("" when it cannot be removed)."""
    if one.required or path in kind.identity:
        return ""
    if one.secret:
        return "nothing changes" if one.change is CREATE_ONLY else "the secret is forgotten"
    if one.has_default:
        effect = {
            IN_PLACE: "an update",
            REPLACE: "a replacement",
            REFUSED: "refused",
            CREATE_ONLY: "nothing",
        }[one.change]
        return f"back to {code(one.default)}: {effect}"
    return (
        f"no longer managed: {kind.api_name} cannot reset it; the cloud keeps its value and "
        "the plan warns"
    )


def kind_table(kind: Kind) -> str:
    rows = [
        "| key | required | format | a change | removed from the YAML |",
        "|---|---|---|---|---|",
    ]
    for path, one in walk(kind.fields):
        if not one.declared:
            continue
        removal = removal_of(kind, path, one) or "-"
        cells = [
            f"`{path}`",
            "yes" if one.required else "no",
            one.doc or one.description,
            change_of(kind, path, one),
            removal,
        ]
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    rows.append(
        f"| `lifecycle` | no | {LIFECYCLE} | in place (state only) | keeps what state recorded |"
    )
    return "\n".join(rows)


# --- across kinds -----------------------------------------------------------------------------


def removal_table(kinds: Iterable[Kind]) -> str:
    rows = ["| kind | field | when removed |", "|---|---|---|"]
    for kind in kinds:
        groups: dict[str, list[str]] = {}
        for path, one in walk(kind.fields):
            top = path.split(".", 1)[0]
            parent = kind.field_at(top)
            if "." in path and parent is not None and not parent.required:
                continue  # said by its mapping
            text = removal_of(kind, path, one) if one.declared else ""
            label = f"`{path}`"
            if text and one.has_default:
                text = "back to the default:" + text.split(":", 1)[1]
                label += f" ({code(one.default)})"
            if text:
                groups.setdefault(text, []).append(label)
        for text, paths in groups.items():
            rows.append(f"| {kind.name} | {', '.join(paths)} | {_cell(text)} |")
    rows.append(
        "| any | `lifecycle.protect` | keeps what state recorded (remove the block and the "
        "protection stays; set `protect: false` to lift it) |"
    )
    return "\n".join(rows)


def _changing(kind: Kind) -> Iterable[tuple[str, Field]]:
    """(path, field) of the kind's declared fields as a change is told: a mapping whose keys
    all change in place is one entry (with its own note), its keys are not."""
    whole: set[str] = set()
    for path, one in walk(kind.fields):
        if any(path.startswith(w + ".") for w in whole) or not one.declared:
            continue
        if one.fields:
            if one.change is IN_PLACE and all(i.change is IN_PLACE for _, i in walk(one.fields)):
                whole.add(path)
                yield path, one
            continue
        yield path, one


def in_place_list(kinds: Iterable[Kind]) -> str:
    lines = []
    for kind in kinds:
        groups: list[tuple[list[str], str]] = []  # fields with the same note, in table order
        for path, one in _changing(kind):
            if one.change is not IN_PLACE or path in kind.identity:
                continue
            if groups and groups[-1][1] == one.why:
                groups[-1][0].append(f"`{path}`")
            else:
                groups.append(([f"`{path}`"], one.why))
        if groups:
            said = [", ".join(paths) + (f" ({why})" if why else "") for paths, why in groups]
            lines.append(f"- {kind.name}: {', '.join(said)}")
    lines.append("- every kind: `lifecycle.protect` (state only)")
    return "\n".join(lines)


def changes_table(kinds: Iterable[Kind]) -> str:
    """Per kind: what changes in place, what the plan refuses and what replaces the object,
    each with its reason (the README's day-2 table)."""
    rows = [
        "| kind | changes in place | refused by the plan | replaces the object |",
        "|---|---|---|---|",
    ]
    for kind in kinds:
        # per column: note -> the keys it explains, in table order
        cells: dict[object, dict[str, list[str]]] = {IN_PLACE: {}, REFUSED: {}, REPLACE: {}}
        for path, one in _changing(kind):
            if path in kind.identity or one.change is CREATE_ONLY:
                continue
            note = one.why or (f"{kind.api_name} cannot change it" if one.change is REPLACE else "")
            cells[one.change].setdefault(note, []).append(f"`{path}`")
        said = [
            "; ".join(", ".join(keys) + (f" ({note})" if note else "") for note, keys in by.items())
            or "-"
            for by in (cells[IN_PLACE], cells[REFUSED], cells[REPLACE])
        ]
        rows.append("| " + " | ".join(_cell(c) for c in [kind.name, *said]) + " |")
    return "\n".join(rows)


# --- the regions of a file ----------------------------------------------------------------------


def region(what: str) -> str:
    """The text of the region named ``what``: ``kind NAME``, ``removals``, ``in place`` or
    ``changes``."""
    declared = [k for k in REGISTRY if k.section is not None]
    if what.startswith("kind "):
        return kind_table(kind_named(what.removeprefix("kind ")))
    makers: dict[str, Callable[[Iterable[Kind]], str]] = {
        "removals": removal_table,
        "in place": in_place_list,
        "changes": changes_table,
    }
    return makers[what](declared)


def rewritten(text: str) -> str:
    """``text`` with every generated region as this module writes it."""
    out: list[str] = []
    lines = iter(text.split("\n"))
    for line in lines:
        out.append(line)
        match = BEGIN.fullmatch(line.strip())
        if match is None:
            continue
        for inner in lines:
            if inner.strip() == END:
                break
        else:
            raise ValueError(f"{match.group('what')}: no {END!r} after {line!r}")
        out.extend([region(match.group("what")), END])
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reconciler.kinds.reference")
    parser.add_argument("files", nargs="*", default=list(FILES))
    parser.add_argument("--check", action="store_true", help="exit 1 when a file would change")
    args = parser.parse_args(argv)
    stale = []
    for name in args.files:
        path = Path(name)
        text = path.read_text(encoding="utf-8")
        new = rewritten(text)
        if new != text:
            stale.append(name)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    if args.check and stale:
        print(f"out of date: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

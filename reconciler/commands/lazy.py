"""A click group that imports a command's module only when that command runs.

``reconciler --version`` or ``reconciler validate`` must not pay for the executor, the HTTP
client, PostgreSQL or the emulator. Each entry names the module, the attribute and the one-line
help shown by ``--help``, so listing the commands imports none of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import click

from reconciler.errors import closest
from reconciler.gcpause import paused_gc


class LazyGroup(click.Group):
    def __init__(
        self, *args: Any, lazy: Mapping[str, tuple[str, str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, attr, _ = self.lazy[cmd_name]
            with paused_gc():  # importing a command makes ~100,000 objects and no garbage
                command = getattr(importlib.import_module(module), attr)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Click's, with the closest command suggested among every command, lazy ones too
        (click suggests only among those already imported)."""
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            name = args[0] if args else ""
            close = None if name.startswith("-") else closest(name, self.list_commands(ctx))
            if close is None:
                raise
            raise click.UsageError(
                f"No such command {name!r}. Did you mean {close!r}?", ctx
            ) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy and name not in self.commands:
                rows.append((name, self.lazy[name][2]))
            else:
                command = self.commands[name]
                if not command.hidden:
                    rows.append((name, command.get_short_help_str(limit=formatter.width)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

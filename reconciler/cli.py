"""The command line: argument parsing, exit codes, and the one place errors reach the user.

Each command lives in ``reconciler/commands/<name>.py`` and does its work through the engine
modules; this module only assembles them and turns exceptions into messages and exit codes.
No Python traceback reaches a user unless ``--debug`` is given.
"""

from __future__ import annotations

import logging
import sys
import traceback

import click

from reconciler import __version__
from reconciler.commands import apply, emulator, plan, state, state_migrate, validate
from reconciler.errors import EXIT_ERROR, ConfigError, ReconcilerError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--debug",
    is_flag=True,
    help="Show tracebacks and DEBUG logs (canonical requests; never secrets).",
)
@click.version_option(__version__, prog_name="reconciler")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Declare CCE registry users, namespaces, repositories and clusters in YAML; plan and apply."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


state.group.add_command(state_migrate.command)

for _command in (
    validate.command,
    plan.command,
    apply.command,
    apply.destroy_command,
    state.import_command,
    state.group,
    state.force_unlock_command,
    emulator.command,
):
    cli.add_command(_command)


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(args)
    try:
        code = cli.main(args=args, prog_name="reconciler", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):  # click turns Ctrl-C into Abort
        click.echo(
            "interrupted; the journal lets the next run pick up where this one stopped", err=True
        )
        code = 130
    except click.ClickException as exc:  # usage errors exit 1 so that 2 keeps one meaning
        exc.show()
        code = EXIT_ERROR
    except ConfigError as exc:
        for line in exc.diagnostics:
            click.echo(line, err=True)
        code = exc.exit_code
    except ReconcilerError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"error: {exc}", err=True)
        code = exc.exit_code
    except Exception as exc:  # a bug: say so, keep the traceback for --debug
        if debug:
            traceback.print_exc()
        click.echo(
            f"error: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
            err=True,
        )
        code = EXIT_ERROR
    sys.exit(code if isinstance(code, int) else 0)

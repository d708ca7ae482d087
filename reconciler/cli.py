"""The command line: argument parsing, exit codes, and the one place errors reach the user.

Each command lives in ``reconciler/commands/<name>.py`` and does its work through the engine
modules; this module only assembles them and turns exceptions into messages and exit codes.
No Python traceback reaches a user unless ``--debug`` is given.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback

import click

from reconciler import __version__
from reconciler.commands.lazy import LazyGroup
from reconciler.errors import EXIT_ERROR, ConfigError, ReconcilerError

# name -> (module, attribute, one-line help); a command's module is imported only when it runs
COMMANDS = {
    "validate": (
        "reconciler.commands.validate",
        "command",
        "Check the YAML configuration in PATH (files or directories; default: the current directory).",
    ),
    "plan": ("reconciler.commands.plan", "command", "Show what apply would change."),
    "apply": (
        "reconciler.commands.apply",
        "command",
        "Make the cloud match the configuration (or apply a saved plan).",
    ),
    "destroy": (
        "reconciler.commands.apply",
        "destroy_command",
        "Delete every resource this state manages (protected ones refuse, exit 3).",
    ),
    "import": (
        "reconciler.commands.state",
        "import_command",
        "Adopt an existing cloud object ID as ADDR (ownership: adopted).",
    ),
    "state": (
        "reconciler.commands.state",
        "group",
        "Inspect or edit the state (what this tool manages).",
    ),
    "force-unlock": (
        "reconciler.commands.state",
        "force_unlock_command",
        "Release a state lock left by a run that hangs or died (give the lock's id).",
    ),
    "show": (
        "reconciler.commands.show",
        "command",
        "Print a saved plan (from `plan --out`) as text, JSON or Markdown.",
    ),
    "schema": (
        "reconciler.commands.schema",
        "command",
        "Write the configuration's JSON Schemas to a folder, for editor completion.",
    ),
    "export": (
        "reconciler.commands.export",
        "command",
        "Write YAML declaring the live objects of the target, to adopt an existing account.",
    ),
    "import-terraform": (
        "reconciler.commands.import_terraform",
        "command",
        "Write YAML declaring the CCE resources of a Terraform state, to adopt them by id.",
    ),
    "output": (
        "reconciler.commands.output",
        "command",
        "Print the ids and attributes of managed objects (clusters are read live).",
    ),
    "kubeconfig": (
        "reconciler.commands.kubeconfig",
        "command",
        "Write a running cluster's kubeconfig to a 0600 file and print the file's path.",
    ),
    "doctor": (
        "reconciler.commands.doctor",
        "command",
        "Check the target before a first run: credentials, clock, answer shapes.",
    ),
    "watch": (
        "reconciler.commands.watch",
        "command",
        "Reconcile continuously: report or repair drift every --interval until SIGTERM.",
    ),
    "emulator": (
        "reconciler.commands.emulator",
        "command",
        "Serve the local CCE emulator, v1 and v2 APIs (Ctrl-C stops it).",
    ),
}


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--debug",
    is_flag=True,
    help="Show tracebacks and DEBUG logs (canonical requests; never secrets). Also "
    "RECONCILER_LOG=debug; accepted before or after the command.",
)
@click.option(
    "--no-color",
    "no_color",
    is_flag=True,
    help="Never colour the output (also NO_COLOR=1); accepted before or after the command.",
)
@click.version_option(__version__, prog_name="reconciler")
@click.pass_context
def cli(ctx: click.Context, debug: bool, no_color: bool) -> None:
    """Declare CCE registry users, namespaces, repositories and clusters in YAML; plan and apply."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["no_color"] = no_color
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


GLOBAL_FLAGS = ("--debug", "--no-color")


def global_flags_first(argv: list[str]) -> tuple[list[str], bool]:
    """Move ``--debug`` / ``--no-color`` given after the command to before it (click reads
    group options there), leaving anything after ``--`` alone; say whether to debug."""
    end = argv.index("--") if "--" in argv else len(argv)
    found = [a for a in argv[:end] if a in GLOBAL_FLAGS]
    rest = [a for a in argv[:end] if a not in GLOBAL_FLAGS] + argv[end:]
    debug = "--debug" in found or os.environ.get("RECONCILER_LOG", "").lower() == "debug"
    flags = sorted(set(found) | ({"--debug"} if debug else set()))
    return flags + rest, debug


def one_dash_option(args: list[str]) -> str | None:
    """Terraform's one-dash spelling of an option (``-refresh-only``, ``-chdir=DIR``), which
    click would read as short options (``-r``; ``-c`` with the rest as its value): the message
    to say instead, naming our spelling when we have the option."""
    end = args.index("--") if "--" in args else len(args)
    for arg in args[:end]:
        word = arg[1:].split("=", 1)[0]
        if arg.startswith("-") and len(word) >= 3 and word[0].isalpha():
            if all(c.isalpha() or c == "-" for c in word):
                spelled = f"--{word}"
                hint = f" Did you mean {spelled}?" if spelled in _long_options(args[:end]) else ""
                return f"Error: No such option: {arg}.{hint} Options take two dashes here."
    return None


def _long_options(args: list[str]) -> set[str]:
    """The options of the command ``args`` name (and the group's)."""
    ctx = click.Context(cli)
    command: click.Command = cli
    names = {name for param in cli.params for name in getattr(param, "opts", ())}
    for arg in args:
        if arg.startswith("-"):
            continue
        if not isinstance(command, click.Group):
            break
        found = command.get_command(ctx, arg)
        if found is None:
            break
        command = found
        names |= {name for param in command.params for name in getattr(param, "opts", ())}
    return names


def _output_failed(exc: OSError, debug: bool) -> int:
    """Say that the output could not be written (every file the tool writes itself reports
    its own errors, so an OSError that reaches here is the output's), and make sure the
    interpreter's last flush of the same output cannot fail again on the way out."""
    if debug:
        traceback.print_exc()
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (captured in a test): nothing is flushed at exit
    try:
        click.echo(f"error: cannot write the output: {exc.strerror or exc}", err=True)
    except (OSError, ValueError):
        pass  # stderr is gone too: the exit code says it
    return EXIT_ERROR


def main(argv: list[str] | None = None) -> None:
    args, debug = global_flags_first(list(sys.argv[1:] if argv is None else argv))
    one_dash = one_dash_option(args)
    if one_dash:  # before click, which would read it as short options
        click.echo(one_dash, err=True)
        sys.exit(EXIT_ERROR)
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
    except OSError as exc:  # writing the output failed (a full disk, a closed pipe)
        code = _output_failed(exc, debug)
    except Exception as exc:  # a bug: say so, keep the traceback for --debug
        if debug:
            traceback.print_exc()
        click.echo(
            f"error: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
            err=True,
        )
        code = EXIT_ERROR
    sys.exit(code if isinstance(code, int) else 0)

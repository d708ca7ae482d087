"""Options and helpers shared by the commands that talk to the cloud.

The options of one concern reach a command as one typed value (:func:`option_group`):
``choice`` (:class:`~reconciler.model.ConfigChoice`: --env, --var-file, --var), ``state``
(:class:`~reconciler.context.StateChoice`: --state, --workspace), ``run_options``
(:class:`~reconciler.session.RunOptions`: --parallelism, --rate, --retry-budget) and ``options``
(:class:`~reconciler.session.PlanOptions`: the mode, --target, --replace, --adopt,
--allow-deletes, --lock-timeout; shared by plan, apply and destroy).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler.errors import ReconcilerError
from reconciler.model import ConfigChoice, PlanMode
from reconciler.options import PlanOptions, RunOptions, StateChoice
from reconciler.safefiles import replace_file

F = TypeVar("F", bound=Callable[..., Any])
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def option_group(name: str, build: Callable[..., Any], *options: Decorator) -> Decorator:
    """Click ``options`` whose values reach the command as one argument, ``name``: what
    ``build`` makes of them (called with their parameter names). The options show in
    ``--help`` in the order given."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        names: list[str] = []

        @functools.wraps(func)
        def command(*args: Any, **kwargs: Any) -> Any:
            kwargs[name] = build(**{key: kwargs.pop(key) for key in names})
            return func(*args, **kwargs)

        params: list[click.Parameter] = list(getattr(func, "__click_params__", []))
        command.__click_params__ = params  # type: ignore[attr-defined]
        before = len(params)
        decorated: Any = command
        for option in reversed(options):
            decorated = option(decorated)
        names.extend(str(param.name) for param in params[before:])
        return decorated

    return decorate


def config_choice_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--env, --var-file and --var: which environment and variable values to load (``choice``)."""
    return option_group(
        "choice",
        ConfigChoice,
        click.option(
            "--env",
            "env",
            default=None,
            envvar="RECONCILER_ENV",
            metavar="NAME",
            help="Load environments/NAME.yaml under the configuration root: its variable values, "
            "target and state.",
        ),
        click.option(
            "--var-file",
            "var_files",
            multiple=True,
            type=click.Path(dir_okay=False),
            metavar="FILE",
            help="Variable values from a YAML file (repeatable; later files win).",
        ),
        click.option(
            "--var",
            "var_args",
            multiple=True,
            metavar="NAME=VALUE",
            help="Set a variable (repeatable; wins over --var-file, the environment file, "
            "RECONCILER_VAR_NAME and the default).",
        ),
    )(func)


config_option = click.option(
    "-c",
    "--config",
    "config",
    multiple=True,
    type=click.Path(),
    help="Config path: the state is found from it, and any read goes to its target.",
)


def paths_argument(func: Callable[..., Any]) -> Callable[..., Any]:
    """``[PATH ...]`` and ``-c/--config PATH`` (repeatable), merged into ``paths``: every command
    takes the configuration as ``-c PATH`` (output, kubeconfig and state, whose positionals are
    addresses, take only that), and those that plan or read it take it positionally too."""

    @functools.wraps(func)
    def merged(*args: Any, config: tuple[str, ...] = (), **kwargs: Any) -> Any:
        kwargs["paths"] = (*kwargs.get("paths", ()), *config)
        return func(*args, **kwargs)

    return click.argument("paths", nargs=-1, type=click.Path())(config_option(merged))


def located_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """-c PATH, --env, --var-file, --var and --state/--workspace: for the commands that find a
    state (and perhaps a target) from a configuration without planning it."""
    return config_option(config_choice_options(state_options(func)))


def state_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--state and --workspace (``state``)."""
    return option_group(
        "state",
        lambda state_spec, workspace: StateChoice(state_spec, workspace),
        click.option(
            "--state",
            "state_spec",
            default=None,
            envvar="RECONCILER_STATE",
            metavar="PATH|URL",
            help="State file path or postgresql:// URL (default: .reconciler/state.json under "
            "the configuration root, or .reconciler/envs/ENV/state.json with --env).",
        ),
        click.option(
            "--workspace",
            default="default",
            show_default=True,
            envvar="RECONCILER_WORKSPACE",
            metavar="NAME",
            help="State workspace: on PostgreSQL one database holds many; on files, "
            ".reconciler/workspaces/NAME/state.json under the configuration root.",
        ),
    )(func)


def _lock_timeout() -> Decorator:
    return click.option(
        "--lock-timeout",
        type=DURATION,
        default="0s",
        show_default=True,
        metavar="DURATION",
        help="Wait this long for a state lock held by another run (e.g. 10m) before exit 4.",
    )


def plan_options(refresh_only_help: str) -> Decorator:
    """--refresh-only, --target, --replace, --adopt, --allow-deletes and --lock-timeout, as
    the :class:`PlanOptions` of plan and apply (``options``)."""

    def build(
        refresh_only: bool,
        targets: tuple[str, ...],
        replaces: tuple[str, ...],
        adopt: bool,
        allow_deletes: int | None,
        lock_timeout: float,
    ) -> PlanOptions:
        mode = PlanMode.REFRESH_ONLY if refresh_only else PlanMode.NORMAL
        return PlanOptions(mode, targets, replaces, adopt, allow_deletes, lock_timeout)

    return option_group(
        "options",
        build,
        click.option("--refresh-only", "refresh_only", is_flag=True, help=refresh_only_help),
        click.option(
            "--target",
            "targets",
            multiple=True,
            metavar="ADDR",
            help="Only this address and what it depends on.",
        ),
        click.option(
            "--replace",
            "replaces",
            multiple=True,
            metavar="ADDR",
            help="Allow replacing this address.",
        ),
        click.option(
            "--adopt",
            is_flag=True,
            help="Adopt declared objects that already exist unmanaged (no request is sent for "
            "them).",
        ),
        click.option(
            "--allow-deletes",
            type=click.IntRange(0, 1_000_000),
            default=None,
            metavar="N",
            help="Allow a plan deleting, replacing or forgetting up to N resources past the guard.",
        ),
        _lock_timeout(),
    )


def destroy_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--lock-timeout, as the :class:`PlanOptions` of destroy (``options``)."""
    return option_group(
        "options",
        lambda lock_timeout: PlanOptions(PlanMode.DESTROY, lock_timeout=lock_timeout),
        _lock_timeout(),
    )(func)


class Duration(click.ParamType):
    """``90``, ``90s``, ``10m``, ``1.5h`` -> seconds (0 to 24 hours)."""

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, int | float):
            return float(value)
        text = str(value).strip()
        unit = {"s": 1, "m": 60, "h": 3600}.get(text[-1:], 0)
        number = text[:-1] if unit else text
        try:
            seconds = float(number) * (unit or 1)
        except ValueError:
            self.fail(f"{value!r} is not a duration such as 90s, 10m or 1h", param, ctx)
        if not 0 <= seconds <= 86400:
            self.fail(f"{value!r} must be between 0s and 24h", param, ctx)
        return seconds


DURATION = Duration()


def timeout_option(func: F) -> F:
    return click.option(
        "--timeout",
        "timeouts",
        multiple=True,
        metavar="KIND=DURATION",
        help="Wait limit per kind, e.g. cluster=30m.",
    )(func)


def _finite(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and value != value:  # NaN passes every range comparison
        raise click.BadParameter("nan is not a number of requests per second", ctx, param)
    return value


def _no_color(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta["no_color"] = True


def run_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--parallelism, --rate and --retry-budget (``run_options``)."""
    # `--no-color` after the command is moved before it (cli.global_flags_first); this hidden
    # option takes it when a command is invoked on its own
    func = click.option(
        "--no-color", is_flag=True, hidden=True, expose_value=False, callback=_no_color
    )(func)
    return option_group(
        "run_options",
        RunOptions,
        click.option(
            "--parallelism",
            type=click.IntRange(1, 256),
            default=10,
            show_default=True,
            help="Concurrent operations.",
        ),
        click.option(
            "--rate",
            type=click.FloatRange(min=0, min_open=True, max=10_000),
            default=None,
            callback=_finite,
            help="Maximum API requests per second (more than 0).",
        ),
        click.option(
            "--retry-budget",
            type=click.IntRange(0),
            default=50,
            show_default=True,
            envvar="RECONCILER_RETRY_BUDGET",
            help="Retries allowed for the whole run before it stops (a dead endpoint stops fast).",
        ),
    )(func)


def use_color(no_color: bool = False) -> bool:
    """Colour only on a terminal, and never with --no-color (anywhere) or NO_COLOR set."""
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root().obj if ctx is not None else None
    asked_not = (
        no_color
        or bool(isinstance(root, dict) and root.get("no_color"))
        or bool(ctx is not None and ctx.meta.get("no_color"))
    )
    tty = bool(getattr(sys.stdout, "isatty", lambda: False)())
    return tty and not asked_not and not os.environ.get("NO_COLOR")


force_option = click.option(
    "--force",
    is_flag=True,
    help="With --out: replace files of the same names already in DIR (default: refuse).",
)


def emit_files(files: Mapping[str, str], out: str | None, force: bool = False) -> None:
    """YAML files written by export or import-terraform: into ``out`` (created if need be), or
    printed one after the other, each after a ``# --- NAME`` line. A file already in ``out``
    is replaced only with ``force``: otherwise nothing is written (exit 1, naming them)."""
    if out is None:
        for name, text in files.items():
            click.echo(f"# --- {name}\n{text}")
        return
    folder = Path(out)
    present = sorted(name for name in files if os.path.lexists(folder / name))
    if present and not force:
        raise ReconcilerError(
            f"{out}: would overwrite {', '.join(present)}; nothing written "
            "(give --force to replace them, or another --out)"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            replace_file(folder / name, text.encode("utf-8"))  # never through a link
    except OSError as exc:
        raise ReconcilerError(f"{out}: cannot write the files: {exc.strerror}") from None


def progress_printer() -> Callable[[str], None]:
    def emit(message: str) -> None:
        click.echo(message, err=False)

    return emit

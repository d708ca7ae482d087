"""`reconciler kubeconfig ADDR [--type TYPE] [--out FILE]`: fetch a running cluster's kubeconfig
into a file only its owner can read, and print the file's path (nothing else), so that
``kubectl --kubeconfig "$(reconciler kubeconfig cluster.prod)" get nodes`` works.

The kubeconfig holds a credential: it is written with mode 0600 (``--out -`` prints it instead),
never printed otherwise, never logged and never stored in state. The engine is
``reconciler.outputs``; this module parses arguments and prints.
"""

from __future__ import annotations

import click

from reconciler import outputs
from reconciler.commands.common import located_options
from reconciler.errors import EXIT_OK
from reconciler.model import ConfigChoice
from reconciler.options import RunOptions, StateChoice
from reconciler.session import check_target, load, open_client, open_store, parse_addresses

STDOUT = "-"


@click.command(name="kubeconfig")
@click.argument("address", metavar="ADDR")
@click.option(
    "--type",
    "kind",
    type=click.Choice(outputs.KUBECONFIG_TYPES),
    default=None,
    help="Which API-server address the kubeconfig points at: public (EIP), internal, or "
    "intraVpc (alias vpc). Default: public for cluster.NAME, intraVpc for k8s_cluster.NAME.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, allow_dash=True),
    default=None,
    metavar="FILE",
    help="Where to write it (mode 0600; - prints it). Default: "
    ".reconciler/kubeconfig/ADDR.yaml beside the config.",
)
@located_options
def command(
    address: str,
    kind: str | None,
    out: str | None,
    config: tuple[str, ...],
    choice: ConfigChoice,
    state: StateChoice,
) -> int:
    """Write a running cluster's kubeconfig to a 0600 file and print the file's path.

    ADDR is cluster.NAME (v1) or k8s_cluster.NAME (v2) and must be in state. The cluster's
    status is read first: it must be RUNNING (v1) or running (v2). The file is replaced
    atomically; the kubeconfig is printed only with --out - and never stored in state.
    """
    (addr,) = parse_addresses((address,), "ADDR")
    outputs.cluster_access(addr)  # "not a cluster" before anything is read
    _, context = load(config, choice, state)
    store = open_store(context)
    managed = store.read()
    entry = outputs.managed_entry(managed, addr, store.describe())
    check_target(store, managed, context.target)  # before a client or an embedded emulator
    with open_client(context, RunOptions()) as client:
        text = outputs.fetch_kubeconfig(client, addr, entry, kind)
    if out == STDOUT:
        click.echo(text, nl=not text.endswith("\n"))
        return EXIT_OK
    path = outputs.write_private(
        out or outputs.default_kubeconfig_path(context.config_root, addr), text
    )
    if outputs.read_as_config(path, config):
        click.echo(
            f"warning: {path} is in the configuration folder: plan recognises it as a "
            "kubeconfig and skips it (with a warning), but it holds a credential that should not "
            "be committed; write it elsewhere, such as the default .reconciler/kubeconfig/",
            err=True,
        )
    click.echo(str(path))
    return EXIT_OK

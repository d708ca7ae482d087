"""examples/watch: the Kubernetes Deployment and the systemd unit run a watch the CLI accepts."""

from __future__ import annotations

import shlex
from pathlib import Path

import click
import yaml

from reconciler.commands.watch import command

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "watch"


def parses(args: list[str]) -> dict[str, object]:
    assert args[0] == "watch"
    with command.make_context("watch", list(args[1:])) as ctx:
        return dict(ctx.params)


def test_the_deployment_runs_two_workers_with_probes_on_the_health_server() -> None:
    manifest = yaml.safe_load((EXAMPLE / "deployment.yml").read_text())
    assert manifest["kind"] == "Deployment" and manifest["spec"]["replicas"] == 2
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    params = parses(container["args"])
    assert params["all_envs"] and params["mode"] == "enforce"
    assert params["listen"] == "0.0.0.0:9464"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    names = {e["name"] for e in container["env"]}
    assert {"RECONCILER_STATE", "BCE_ACCESS_KEY_ID", "BCE_SECRET_ACCESS_KEY"} <= names


def test_the_systemd_unit_runs_the_same_watch() -> None:
    unit = (EXAMPLE / "reconciler-watch.service").read_text().replace("\\\n", " ")
    start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    argv = shlex.split(start.removeprefix("ExecStart="))
    assert Path(argv[0]).name == "reconciler"
    params = parses(argv[1:])
    assert params["mode"] == "enforce" and params["webhook"] == "env:WATCH_WEBHOOK_URL"
    assert "KillSignal=SIGTERM" in unit


def test_an_unknown_option_in_an_example_would_be_caught() -> None:
    try:
        parses(["watch", "--no-such-option"])
    except click.NoSuchOption:
        return
    raise AssertionError("click accepted an unknown option")

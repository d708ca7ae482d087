"""Whatever the input, loading ends in a value or in diagnostics, never in another exception."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.config import load_desired_state
from reconciler.config.yamlload import LoadError, read_document
from reconciler.errors import ConfigError

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEYS = [
    "target",
    "users",
    "namespaces",
    "repositories",
    "clusters",
    "name",
    "namespace",
    "tags",
    "username",
    "password",
    "env",
    "file",
    "region",
    "endpoint",
    "workers",
    "count",
    "public",
    "lifecycle",
    "protect",
    "containerNet",
    "version",
    "variables",
    "x",
    "type",
    "default",
    "k8s_clusters",
    "instance_groups",
    "cluster",
    "networkMode",
    "podCIDR",
    "serviceCIDR",
    "replicas",
    "adminPassword",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 100),
    st.sampled_from(
        ["team-a", "9abc", "", "local", "172.16.0.1/16", "latest", "bj", "kubenet", "10.0.0.0/8"]
    ),
    st.sampled_from(["${var.x}", "a-${var.x}", "${var.", "${x}", "$${", "integer", "list"]),
    st.text(max_size=8),
)
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)


def load_file(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.yaml"
        path.write_bytes(content)
        try:
            read_document(str(path))
        except LoadError as exc:
            assert exc.diagnostics and all(str(d).startswith(str(path)) for d in exc.diagnostics)


@FAST
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_escape_as_another_exception(content: bytes) -> None:
    load_file(content)


@FAST
@given(st.text(alphabet=st.sampled_from(list("ab: -[]{}&*!|>'\"#\t\n,?<%@`")), max_size=80))
def test_yaml_punctuation_soup_never_escapes_as_another_exception(text: str) -> None:
    load_file(text.encode("utf-8"))


@FAST
@given(st.dictionaries(st.sampled_from(KEYS), values, max_size=5))
def test_arbitrary_structures_give_a_state_or_diagnostics(data: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.yaml"
        path.write_text(yaml.safe_dump(data))
        try:
            load_desired_state([str(path)])
        except ConfigError as exc:
            assert exc.diagnostics and all(
                line.startswith(f"{path}:") and ": error: " in line for line in exc.diagnostics
            )

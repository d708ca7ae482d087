"""``make bench-terraform``: how long ``import-terraform`` takes on a large Terraform state.

``python -m bench.terraform_import [--clusters 200] [--groups 5] [--repeats 3]``

Builds a v4 state of the baiducloud provider's latest attribute sets (``tests/e2e/
terraform_states.py``, the same builder the tests use): CLUSTERS ``baiducloud_ccev2_cluster``
in one module, each with GROUPS counted ``baiducloud_ccev2_instance_group`` and a tainted copy,
plus a kubeconfig data source per cluster; then times, in this process, reading it
(``read_state``), converting it (``convert``) and writing the YAML text
(``declaration_files``), and prints the state's size, the instances per second and the median
of the runs. Nothing is written to disk and no cloud is read: the command needs neither.
Not for: pass/fail (it prints figures only).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

from reconciler.export import declaration_files
from reconciler.model import Target
from reconciler.terraform_state import convert, read_state
from tests.e2e import terraform_states as tf


def build(clusters: int, groups: int) -> str:
    resources: list[dict[str, Any]] = []
    for c in range(clusters):
        cluster_id = f"cce-{c:08d}"
        module = f'module.k8s["c{c}"]'
        attrs = tf.k8s_cluster(f"c{c}", podCIDR=f"10.{c % 250}.0.0/16")
        resources.append(
            tf.resource(
                "baiducloud_ccev2_cluster",
                "this",
                [tf.instance(tf.ccev2_cluster(cluster_id, attrs))],
                module=module,
            )
        )
        pool = [
            tf.instance(
                tf.ccev2_instance_group(f"cce-ig-{g:08d}", cluster_id, tf.instance_group(f"w{g}")),
                g,
                sensitive=[tf.ADMIN_PASSWORD_PATH],
                status="tainted" if g == groups else None,
            )
            for g in range(groups + 1)
        ]
        resources.append(tf.resource("baiducloud_ccev2_instance_group", "w", pool, module=module))
        resources.append(
            tf.resource(
                "baiducloud_cce_kubeconfig",
                "admin",
                [tf.instance(tf.kubeconfig_data_source(cluster_id), data_source=True)],
                module=module,
                mode="data",
            )
        )
    return tf.dumps(tf.state(resources))


def once(text: str) -> dict[str, float]:
    started = time.perf_counter()
    state = read_state(text, "bench.tfstate")
    read = time.perf_counter()
    conversion = convert(state)
    converted = time.perf_counter()
    files = declaration_files(
        conversion.entries(),
        Target(region="bj"),
        "import-terraform",
        "the {what} in Terraform state bench.tfstate",
        imports=conversion.imports(),
    )
    written = time.perf_counter()
    assert files and conversion.converted
    return {
        "read_s": read - started,
        "convert_s": converted - read,
        "yaml_s": written - converted,
        "total_s": written - started,
        "instances": len(state.instances),
        "converted": len(conversion.converted),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.terraform_import")
    parser.add_argument("--clusters", type=int, default=200)
    parser.add_argument("--groups", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args(argv)
    text = build(options.clusters, options.groups)
    runs = [once(text) for _ in range(options.repeats)]
    best = sorted(runs, key=lambda r: r["total_s"])[(len(runs) - 1) // 2]
    print(
        f"state: {len(text) / 1e6:.1f} MB, {best['instances']} instances, "
        f"{best['converted']} converted"
    )
    for key in ("read_s", "convert_s", "yaml_s", "total_s"):
        print(f"  {key[:-2]:8} {statistics.median(r[key] for r in runs):8.3f} s")
    print(f"  {best['instances'] / best['total_s']:,.0f} instances/s (median of {len(runs)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

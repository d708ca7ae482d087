"""What the emulated CCE v2 offers: node component versions and the add-on catalogue.

For: the data behind ``component_upgrade_versions`` and the add-on list, and the small rules
over it (which versions a node component may be upgraded to). The Kubernetes versions are the
SDK's (:data:`.specs.K8S_VERSIONS`); the runtime versions and every add-on version are the
emulator's choice (docs/api-contract.md "CCE v2: day 2" [GUESS]); the add-on names are the
docs' list [DOC 组件名称列表].
Not for: what is installed or running (:mod:`.models`, :mod:`.addons`, :mod:`.workflows`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .specs import K8S_VERSIONS

KUBELET, CONTAINER_RUNTIME = "kubelet", "containerRuntime"
COMPONENTS = (KUBELET, CONTAINER_RUNTIME, "nvidiaContainerToolkit", "xpuContainerToolkit",
              "gpuDriver")  # fmt: skip
# A runtime type's versions, oldest first; the first is what a new node runs [GUESS].
RUNTIME_CATALOGUE = {
    "containerd": ("1.6.28", "1.6.36", "1.7.13"),
    "docker": ("18.9.2", "20.10.24"),
    "bci": ("",),
}


def version_key(version: str) -> tuple[int, ...]:
    """``1.28.8`` -> (1, 28, 8); a suffix (``-arm64``) is ignored for ordering."""
    return tuple(int(part) for part in re.findall(r"\d+", version.split("-")[0]))


def oldest(versions: Sequence[str]) -> str:
    return min(versions, key=version_key)


def kubelet_targets(current: str, master: str) -> tuple[str, ...]:
    """Newer kubelet versions of the SDK's list, never past the master's [DOC console guide:
    workers follow the master]; only plain versions (no ``-arm64`` builds)."""
    return tuple(
        v
        for v in K8S_VERSIONS
        if "-" not in v and version_key(current) < version_key(v) <= version_key(master)
    )


def runtime_targets(runtime_type: str, current: str) -> tuple[str, ...]:
    return tuple(
        v
        for v in RUNTIME_CATALOGUE.get(runtime_type, ())
        if v and version_key(v) > version_key(current)
    )


# --- add-ons ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddonEntry:
    """One add-on of the catalogue; ``versions`` oldest first, the last is the latest."""

    name: str
    addon_type: str
    versions: tuple[str, ...]
    default_params: str = "# No Params\n"
    upgradable: bool = True
    updatable: bool = True
    introduction: str = ""

    @property
    def latest(self) -> str:
        return self.versions[-1]


ADDONS = {
    entry.name: entry
    for entry in (
        AddonEntry("cce-gpu-manager", "CloudNativeAI", ("1.5.2", "1.6.0"),
                   "EnableSGPU: false\nGPUShareMemoryUnit: GiB\n", introduction="GPU sharing"),
        AddonEntry("cce-volcano", "CloudNativeAI", ("1.7.0", "1.8.2", "1.9.1"),
                   "Binpack: false\nReclaimgang: false\nPreemptgang: false\n",
                   introduction="AI Job Scheduler"),
        AddonEntry("cce-rdma-plugin", "CloudNativeAI", ("1.2.0",)),
        AddonEntry("cce-paddleflow", "CloudNativeAI", ("0.14.6",)),
        AddonEntry("cce-fluid", "CloudNativeAI", ("0.8.5", "0.9.2")),
        AddonEntry("cce-aibox", "CloudNativeAI", ("1.0.3",)),
        AddonEntry("cce-image-accelerate", "Image", ("1.1.0", "1.2.1")),
        AddonEntry("cce-hybrid-manager", "HybridSchedule", ("1.0.0",)),
        AddonEntry("cce-ingress-nginx-controller", "Networking", ("1.3.0", "1.9.4"),
                   "replicaCount: 2\n"),
        # the docs' example: no upgrade and no parameter update ("暂不支持升级版本")
        AddonEntry("cce-ingress-controller", "Networking", ("2022.11.08.1552",),
                   upgradable=False, updatable=False),
        AddonEntry("cce-csi-cds-plugin", "Storage", ("1.3.1", "1.4.0"),
                   "maxVolumesPerNode: 5\n"),
        AddonEntry("cce-csi-bos-plugin", "Storage", ("1.2.0", "1.3.0"),
                   "maxVolumesPerNode: 5\n"),
        AddonEntry("cce-csi-pfs-plugin", "Storage", ("1.0.2",)),
        AddonEntry("cce-npu-manager", "CloudNativeAI", ("1.0.1",),
                   "XPUUseSriov: false\nXPUSriovNumVfs: 1\n"),
        AddonEntry("cce-log-operator", "Observability", ("1.2.3", "1.3.0")),
    )
}  # fmt: skip

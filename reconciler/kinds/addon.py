"""Add-ons (组件) of CCE v2 clusters (``addon.CLUSTER/NAME``): the official add-ons a cluster
installs, such as the Volcano scheduler or the CDS CSI plugin (cce-v2-day2-api.md 6).

An add-on lives in its ``k8s_cluster``, which it depends on and which contains it (deleting the
cluster takes its add-ons with it). Its name is checked against the docs' list when the file is
validated; what the cluster offers (the list answer's catalogue: whether it may be installed,
upgraded to which version, its parameters updated) is checked by the plan. ``version`` changes
in place by an upgrade, ``params`` (a YAML text) by an update; the API acts asynchronously, so
each call is followed by a wait for the add-on's phase (``Running``) and for the value asked.
A refusal the service answers in a 200 body carrying ``code`` is an error like any other.

The cloud id is ``CLUSTER_ID/NAME``: an add-on is one per cluster and has no id of its own. An
install has no client token: a lost answer is settled by listing the cluster's add-ons first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from reconciler import waiters
from reconciler.errors import NotFoundError, UsageError
from reconciler.kinds.base import (
    BROKEN,
    FAILED_CREATE,
    HEALTHY,
    V2_CLUSTER_KIND,
    Kind,
    LiveObject,
    Operations,
    PlanView,
    RefreshContext,
    TaintedError,
    create_once,
    in_cluster_id,
    in_parallel,
    in_v2_cluster,
    split_in_cluster_id,
    status_of,
    v2_client,
)
from reconciler.kinds.fields import IN_PLACE, Field, Section, choice, text
from reconciler.model import Address, Spec
from reconciler.probes import SKIPPED, Check, Doctor, Phase, Probe, v2_cluster, v2_object

if TYPE_CHECKING:
    from reconciler.client.v1 import CceClient
    from reconciler.client.v2 import CceV2Client
    from reconciler.client.v2_types import Addon
    from reconciler.plan import Change
    from reconciler.state import ResourceState

CLUSTER_GONE = frozenset({"deleting", "deleted"})  # as k8s_cluster says
NAME = "^[A-Za-z][A-Za-z0-9_.-]{0,64}$"
# The add-ons the docs list (组件名称列表 [DOC]); the cluster's own catalogue has the final say.
ADDON_NAMES = (
    "cce-gpu-manager",
    "cce-volcano",
    "cce-rdma-plugin",
    "cce-paddleflow",
    "cce-fluid",
    "cce-aibox",
    "cce-image-accelerate",
    "cce-hybrid-manager",
    "cce-ingress-nginx-controller",
    "cce-ingress-controller",
    "cce-csi-cds-plugin",
    "cce-csi-bos-plugin",
    "cce-csi-pfs-plugin",
    "cce-npu-manager",
    "cce-log-operator",
)
RUNNING = "Running"
FAILED_PHASES = frozenset({"Failed"})
ABNORMAL_PHASES = frozenset({"Abnormal"})
CATALOGUE_FACT = "addon.catalogue"  # RefreshContext.facts: cluster name -> {name: Addon}

READY = waiters.Waiter(
    "installing",
    {
        RUNNING: waiters.SUCCESS,
        "Failed": waiters.FAILURE,
        "Abnormal": waiters.FAILURE,
        waiters.GONE: waiters.FAILURE,
    },
)
UNINSTALLED = waiters.Waiter(
    "uninstalling", {waiters.GONE: waiters.SUCCESS, "Failed": waiters.FAILURE}
)

FIELDS = (
    Field(
        "cluster",
        "Cluster",
        "The name of the k8s_cluster the add-on is installed in; it must be declared under "
        "k8s_clusters.",
        text(NAME),
        required=True,
        address_only=True,
        refers_to=V2_CLUSTER_KIND,
        wire="clusterID (by the cluster's name)",
        doc="the `name` of a `k8s_cluster` declared in any file",
    ),
    Field(
        "name",
        "Add-on",
        "One of the official add-ons: " + ", ".join(ADDON_NAMES) + ".",
        choice(*ADDON_NAMES),
        required=True,
        wire="name",
        doc="an official add-on: " + ", ".join(f"`{n}`" for n in ADDON_NAMES),
    ),
    Field(
        "version",
        "Version",
        'The add-on\'s version, quoted, e.g. "1.9.1". Left out, the install takes the latest '
        "and later versions are not managed; a change upgrades it in place.",
        text(min_length=1),
        change=IN_PLACE,
        why="POST .../addon/upgrade (to the version the cluster offers next, or its latest)",
        wire="instance.installedVersion; upgrade targetVersion",
        doc='quoted, `"1.9.1"`; left out: the latest at install',
    ),
    Field(
        "params",
        "Parameters",
        "The add-on's parameters, as YAML text (use a block scalar, `params: |`); what they "
        "are depends on the add-on. Left out, its defaults; a change updates them in place.",
        text(),
        change=IN_PLACE,
        why="PUT .../addon",
        wire="instance.params",
        doc="YAML text (a `|` block), add-on specific",
    ),
)


def split_cloud_id(cloud_id: str) -> tuple[str, str]:
    return split_in_cluster_id(cloud_id, "add-on", "CLUSTER_ID/NAME (cce-xxxxxxxx/cce-volcano)")


def _probe_addons(doctor: Doctor) -> None:
    """The add-on list of the cluster doctor reads: a GET with a JSON body, as the SDK sends."""
    from reconciler.client.v2_types import Addon as AddonInfo  # when doctor runs

    cluster = v2_cluster(doctor)
    if cluster is None:
        doctor.add(Check("v2 add-ons", SKIPPED, "", "no running v2 cluster to read"))
        return
    path = f"{doctor.client.v2.prefix}/cluster/{cluster.cluster_id}/addon"
    with doctor.answer("v2 add-ons", f"GET {path}"):
        v2_object(
            doctor,
            "v2 add-ons",
            path,
            lambda r: [AddonInfo.read(i) for i in r.objects("items")],
            lambda items: (
                f"items: {len(items)} add-ons, {sum(1 for a in items if a.instance)} installed"
            ),
            body={"clusterID": cluster.cluster_id, "addons": ""},
        )


class AddonKind(Kind):
    name = "addon"
    section = Section(
        "addons",
        "Add-ons (CCE v2)",
        "Official add-ons of k8s_clusters (组件): schedulers, storage plugins, ingress.",
    )
    identity = ("cluster", "name")
    title = "Add-on (CCE v2)"
    summary = (
        "An official add-on of a k8s_cluster (address addon.<cluster>/<name>). version "
        "(upgrade) and params (update) change in place; deleting the cluster takes its "
        "add-ons with it."
    )
    fields = FIELDS
    read_with = (V2_CLUSTER_KIND,)
    api_name = "the CCE v2 API"
    default_timeout = 900.0

    def probes(self) -> tuple[Probe, ...]:
        return (Probe("v2 add-ons", Phase.DETAILS, _probe_addons),)

    # --- planning ----------------------------------------------------------------------------

    def container_of(self, address: Address) -> Address | None:
        return in_v2_cluster(address)

    def is_ready(self, live: LiveObject) -> bool:
        return live.status == RUNNING or self.health(live) != HEALTHY

    def health(self, live: LiveObject) -> str:
        if live.status in FAILED_PHASES:
            return FAILED_CREATE
        if live.status in ABNORMAL_PHASES:
            return BROKEN
        return HEALTHY

    def refusal(self, spec: Spec, view: PlanView) -> str | None:
        """What the cluster's catalogue says against it: an add-on it does not offer or that
        may not be installed now, a version it does not upgrade to, parameters it does not
        let change."""
        cluster = in_v2_cluster(spec.address)
        catalogue = view.facts.get(CATALOGUE_FACT, {}).get(cluster.name)
        if catalogue is None:
            return None  # a new cluster: nothing to ask yet
        name = spec.attrs["name"]
        offered: Addon | None = catalogue.get(name)
        if offered is None:
            return f"{cluster} does not offer the add-on {name} (its list: {', '.join(catalogue)})"
        live = next(
            (o for o in view.live_objects.get(self.name, []) if o.address == spec.address), None
        )
        if live is None or offered.instance is None:
            if offered.allow_install:
                return None
            return f"{cluster} may not install {name} now: {offered.install_message or 'refused'}"
        return _change_refusal(spec.attrs, live, offered)

    # --- reading -----------------------------------------------------------------------------

    def live_object(self, cluster: LiveObject, addon: Addon) -> LiveObject | None:
        instance = addon.instance
        if instance is None:
            return None
        attrs = {
            "name": addon.name,
            "version": instance.installed_version,
            "params": instance.params,
        }
        return LiveObject(
            Address(self.name, f"{cluster.address.name}/{addon.name}"),
            in_cluster_id(cluster.cloud_id, addon.name),
            attrs,
            instance.phase,
        )

    def read_all(self, ctx: RefreshContext) -> list[LiveObject]:
        """One add-on list per cluster that declares or (in state) has add-ons: it answers the
        whole catalogue, installed or not, which the plan's checks use."""
        v2 = v2_client(ctx.client)
        clusters = self._clusters_to_list(ctx)
        listed = in_parallel(ctx.parallelism, lambda c: _addons(v2, c.cloud_id), clusters)
        out: list[LiveObject] = []
        catalogue = ctx.facts.setdefault(CATALOGUE_FACT, {})
        for cluster, addons in zip(clusters, listed, strict=True):
            if addons is None:
                continue  # deleted since it was listed
            catalogue[cluster.address.name] = {a.name: a for a in addons}
            out.extend(o for a in addons if (o := self.live_object(cluster, a)) is not None)
        return out

    def _clusters_to_list(self, ctx: RefreshContext) -> list[LiveObject]:
        """The running clusters whose add-ons are declared or managed: a plan without add-ons
        costs no request more. A managed cluster wins over an unmanaged one of its name."""
        wanted = {in_v2_cluster(a).name for a in ctx.state.resources if a.kind == self.name}
        if ctx.desired is not None:
            wanted |= {in_v2_cluster(s.address).name for s in ctx.desired.of_kind(self.name)}
        running = [
            c
            for c in ctx.found.get(V2_CLUSTER_KIND, [])
            if c.status == "running" and c.address.name in wanted
        ]
        managed = ctx.managed_ids(V2_CLUSTER_KIND)
        owned = {c.address.name for c in running if c.cloud_id in managed}
        return [c for c in running if c.cloud_id in managed or c.address.name not in owned]

    def read_one(self, client: CceClient, address: Address, cloud_id: str) -> LiveObject | None:
        cluster_id, name = split_cloud_id(cloud_id)
        addons = _addons(v2_client(client), cluster_id, name)
        found = next((a for a in addons or () if a.name == name), None)
        if found is None:
            return None
        cluster = LiveObject(in_v2_cluster(address), cluster_id, {})
        return self.live_object(cluster, found)

    # --- changing ----------------------------------------------------------------------------

    def create(self, ops: Operations, change: Change, entry: ResourceState) -> ResourceState:
        from reconciler.client.v2_types import AddonInstall  # when used: see k8s_cluster

        after = change.after or {}
        v2 = v2_client(ops.client)
        cluster_id = self._cluster_id(ops, v2, change.address)
        name = str(after["name"])
        request = AddonInstall(name, str(after.get("version", "")), str(after.get("params", "")))

        def installed() -> list[str]:
            found = _installed(v2, cluster_id, name)
            return [] if found is None else [in_cluster_id(cluster_id, name)]

        cloud_id = create_once(
            ops,
            change,
            lambda: (v2.install_addon(cluster_id, request), in_cluster_id(cluster_id, name))[1],
            installed,
        )
        ops.record_cloud_id(cloud_id)
        entry = entry.evolve(cloud_id=cloud_id)
        try:
            want = {k: after[k] for k in ("version", "params") if k in after}
            ops.wait(change.address, READY, self._phase(v2, cluster_id, name, want))
        except waiters.WaitFailed as exc:
            if exc.last_status in FAILED_PHASES | ABNORMAL_PHASES:
                raise TaintedError(
                    f"{change.address} failed to install (phase {exc.last_status}); it is marked "
                    "tainted and the next plan installs it again",
                    entry.evolve(tainted=True),
                ) from None
            raise
        return entry

    def settle(self, ops: Operations, change: Change, entry: ResourceState) -> None:
        cluster_id, name = split_cloud_id(entry.cloud_id)
        ops.wait(change.address, READY, self._phase(v2_client(ops.client), cluster_id, name, {}))

    def update(self, ops: Operations, change: Change, entry: ResourceState) -> None:
        """An upgrade to the declared version, then new parameters: each waited for."""
        from reconciler.client.v2_types import AddonUpdate, AddonUpgrade  # see create

        after = change.after or {}
        changed = {f.path.split(".")[0] for f in change.fields}
        cluster_id, name = split_cloud_id(entry.cloud_id)
        v2 = v2_client(ops.client)
        if "version" in changed and "version" in after:
            v2.upgrade_addon(cluster_id, AddonUpgrade(name, str(after["version"])))
            want = {"version": after["version"]}
            ops.wait(change.address, READY, self._phase(v2, cluster_id, name, want))
        if "params" in changed and "params" in after:
            v2.update_addon(cluster_id, AddonUpdate(name, str(after["params"])))
            want = {"params": after["params"]}
            ops.wait(change.address, READY, self._phase(v2, cluster_id, name, want))

    def delete(self, ops: Operations, address: Address, cloud_id: str) -> None:
        from reconciler.client.v2_types import AddonUninstall  # see create

        cluster_id, name = split_cloud_id(cloud_id)
        v2 = v2_client(ops.client)
        if _installed(v2, cluster_id, name) is None:
            return  # already gone: a delete's goal
        v2.uninstall_addon(cluster_id, AddonUninstall(name))
        ops.wait(address, UNINSTALLED, self._phase(v2, cluster_id, name, {}))

    def _cluster_id(self, ops: Operations, v2: CceV2Client, address: Address) -> str:
        """The id of the add-on's cluster: the live cluster of that name this state owns."""
        cluster = in_v2_cluster(address)
        owned = ops.owned_ids(V2_CLUSTER_KIND)
        found = [
            c.cluster_id
            for c in v2.find_clusters(cluster.name)
            if c.cluster_id in owned and c.phase not in CLUSTER_GONE
        ]
        if len(found) != 1:
            raise UsageError(
                f"{address}: its cluster {cluster} is not in state or not alive "
                f"({len(found)} managed clusters named {cluster.name}); apply the cluster first"
            )
        return found[0]

    def _phase(
        self, v2: CceV2Client, cluster_id: str, name: str, want: Mapping[str, Any]
    ) -> Callable[[], str]:
        """The add-on's phase; ``waiters.GONE`` once it is not installed. Running with a value
        other than ``want`` reads as still changing (the call has not shown yet)."""

        def read() -> str:
            found = _installed(v2, cluster_id, name)
            if found is None:
                return waiters.GONE
            instance = found.instance
            assert instance is not None
            now = {"version": instance.installed_version, "params": instance.params}
            if instance.phase == RUNNING and any(now[k] != v for k, v in want.items()):
                return "changing"
            return instance.phase or "unknown"

        return status_of(read)


def _change_refusal(attrs: Mapping[str, Any], live: LiveObject, offered: Addon) -> str | None:
    instance = offered.instance
    assert instance is not None
    name = offered.name
    version = attrs.get("version")
    if version is not None and version != live.attrs.get("version"):
        allowed = {v for v in (instance.next_version, offered.latest_version) if v}
        if not instance.allow_upgrade or version not in allowed:
            why = (
                "it may not be upgraded now"
                if not instance.allow_upgrade
                else (f"offered: {', '.join(sorted(allowed)) or 'none'}")
            )
            return (
                f"{name} cannot be upgraded from {live.attrs.get('version')} to {version} ({why}; "
                "the API cannot downgrade)"
            )
    params = attrs.get("params")
    if params is not None and params != live.attrs.get("params") and not instance.allow_update:
        return f"{name}'s parameters may not be updated (the cluster's catalogue says so)"
    return None


def _addons(v2: CceV2Client, cluster_id: str, *names: str) -> tuple[Addon, ...] | None:
    """The cluster's add-ons (its whole catalogue, or ``names``); None once it is not found."""
    try:
        return v2.list_addons(cluster_id, names)
    except NotFoundError:
        return None


def _installed(v2: CceV2Client, cluster_id: str, name: str) -> Addon | None:
    found = next((a for a in _addons(v2, cluster_id, name) or () if a.name == name), None)
    return found if found is not None and found.instance is not None else None

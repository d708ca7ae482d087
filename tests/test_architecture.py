"""The layering of ARCHITECTURE.md, checked on the import statements of the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "reconciler"
PURE = [
    "model",
    "diff",
    "plan",
    "planner",
    "guards",
    "recovery",
    "graph",
    "render",
    "markdown",
    "waiters",
    "watch/policy",
    "ownership",
]
# What every kind module may import from its package; the rest of kinds/ are kinds.
KIND_SUPPORT = ("__init__", "base", "fields", "reference")
KIND_MODULES = sorted(
    p.stem for p in (PACKAGE / "kinds").glob("*.py") if p.stem not in KIND_SUPPORT
)
FORBIDDEN_FOR_PURE = (
    "reconciler.client",
    "reconciler.emulator",
    "reconciler.cli",
    "reconciler.commands",
    "reconciler.session",
    "reconciler.apply",
    "reconciler.refresh",
    "requests",
    "werkzeug",
    "psycopg",
    "click",
)


def within(module: str, packages: tuple[str, ...]) -> bool:
    """True when ``module`` is one of ``packages`` or inside one (``reconciler.cli`` does not
    contain ``reconciler.client``)."""
    return any(module == p or module.startswith(p + ".") for p in packages)


def imports_of(path: Path, with_names: bool = False) -> set[str]:
    """The modules ``path`` imports, wherever the import stands; ``with_names``: also each
    ``module.name`` of a ``from module import name`` (it may be a submodule)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if with_names:
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_do_not_import_io_layers(module: str) -> None:
    bad = sorted(i for i in imports_of(PACKAGE / f"{module}.py") if within(i, FORBIDDEN_FOR_PURE))
    assert bad == [], f"reconciler/{module}.py imports {bad}"


def test_only_client_speaks_http() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(("client/", "emulator/")):
            continue
        if any(i == "requests" or i.startswith("requests.") for i in imports_of(path)):
            offenders.append(rel)
    assert offenders == []


def test_data_modules_import_nothing_from_the_engine() -> None:
    for name in ("error_codes.py", "client/signer.py", "endpoints.py", "records.py"):
        internal = [i for i in imports_of(PACKAGE / name) if i.startswith("reconciler")]
        assert internal == [], f"{name} imports {internal}"


@pytest.mark.parametrize(
    "module", [*(f"kinds/{k}" for k in KIND_SUPPORT), *(f"kinds/{k}" for k in KIND_MODULES)]
)
def test_kinds_reach_the_cloud_only_through_the_client_they_are_given(module: str) -> None:
    forbidden = tuple(f for f in FORBIDDEN_FOR_PURE if f != "reconciler.client") + (
        "reconciler.planner",
    )
    bad = sorted(i for i in imports_of(PACKAGE / f"{module}.py") if within(i, forbidden))
    assert bad == [], f"reconciler/{module}.py imports {bad}"


def test_plan_types_import_nothing_from_the_engine() -> None:
    """Not even the kinds (``kinds.base`` imports ``plan``: no cycle, not even for types)."""
    allowed = {"reconciler.diff", "reconciler.model", "reconciler.records"}
    internal = {i for i in imports_of(PACKAGE / "plan.py") if i.startswith("reconciler")}
    assert internal <= allowed, f"plan.py imports {sorted(internal - allowed)}"


def module_path(module: str) -> Path | None:
    """The file of ``reconciler.a.b`` (``a/b.py`` or ``a/b/__init__.py``); None outside the
    package or for a name that is no module (``from reconciler.kinds import REGISTRY``)."""
    parts = module.split(".")
    if parts[0] != "reconciler":
        return None
    base = PACKAGE.joinpath(*parts[1:])
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def package_imports(path: Path) -> set[Path]:
    """Every file of the package that ``path`` imports, wherever the import stands (at the
    top, inside a function, under ``TYPE_CHECKING``), with the packages it passes through."""
    names = imports_of(path, with_names=True)
    found = set()
    for name in names:
        parts = name.split(".")
        for end in range(1, len(parts) + 1):  # reconciler.a.b imports reconciler.a first
            file = module_path(".".join(parts[:end]))
            if file is not None:
                found.add(file)
    return found


def below_the_kinds() -> set[Path]:
    """The files the kinds import, directly or through one another: the layers below them."""
    kinds = PACKAGE / "kinds"
    seen: set[Path] = set()
    todo = sorted(kinds.glob("*.py"))
    while todo:
        for file in package_imports(todo.pop()):
            if file not in seen:
                seen.add(file)
                todo.append(file)
    return {f for f in seen if kinds not in f.parents}


def test_nothing_below_the_kinds_imports_them() -> None:
    """The kinds sit on the data layers (model, plan, state, probes, the client): none of what
    they import may import ``reconciler.kinds``, not even inside a function or for a type, so
    the registry is not a circle. What needs the kinds' names below them (an address of a known
    kind, a state entry) is given them by its caller (``Address.parse(text, kinds)``, a store's
    ``kinds``)."""
    below = below_the_kinds()
    assert {"model.py", "plan.py", "probes.py", "state/document.py"} <= {
        f.relative_to(PACKAGE).as_posix() for f in below
    }
    kinds = PACKAGE / "kinds"
    offenders = sorted(
        f.relative_to(PACKAGE).as_posix()
        for f in below
        if any(kinds in i.parents for i in package_imports(f))
    )
    assert offenders == []


# What the state package may import from the rest of the package: the layers below it.
STATE_MAY_IMPORT = (
    "errors.py",
    "gcpause.py",
    "jsontext.py",
    "model.py",
    "records.py",
    "safefiles.py",
)


def test_the_state_imports_only_what_lies_below_it() -> None:
    """The state (``state/``) is read and written below the configuration, ownership and the
    kinds: what reads the other states of a configuration (``other_states.py``) stands above."""
    offenders = []
    for path in sorted((PACKAGE / "state").glob("*.py")):
        for file in package_imports(path):
            rel = file.relative_to(PACKAGE).as_posix()
            if rel.startswith("state/") or rel in STATE_MAY_IMPORT or rel == "__init__.py":
                continue
            offenders.append(f"state/{path.name} imports {rel}")
    assert offenders == []


@pytest.mark.parametrize("module", KIND_MODULES)
def test_a_kind_module_imports_no_other_kind(module: str) -> None:
    """What two kinds share lives in ``kinds.base`` (or ``kinds.fields``), never in one of them."""
    allowed = {"reconciler.kinds.base", "reconciler.kinds.fields"}
    kinds = {
        i
        for i in imports_of(PACKAGE / "kinds" / f"{module}.py")
        if within(i, ("reconciler.kinds",))
    }
    assert kinds <= allowed, f"kinds/{module}.py imports {sorted(kinds - allowed)}"


# Modules that may name kinds: the kinds themselves, the client and the emulator (an API has
# its objects), the CLI's help texts and the seed's error table (data).
MAY_NAME_KINDS = ("kinds/", "client/", "emulator/", "commands/", "cli.py", "error_codes.py")


def kind_words() -> tuple[set[str], set[str]]:
    """(strings that are a kind on their own, text that names one wherever it stands)."""
    from reconciler.kinds import REGISTRY

    alone = (
        {k.name for k in REGISTRY}
        | {k.plural for k in REGISTRY}
        | {k.config_section for k in REGISTRY}
    )
    anywhere = (
        {k.noun for k in REGISTRY if k.noun != k.name}
        | {w for w in alone if "_" in w}
        | {f"{k.name}." for k in REGISTRY}
    )
    return alone, anywhere


def docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def test_the_engine_spells_no_kind() -> None:
    """No string of the engine is a kind's name, plural or section, or holds a kind's address
    prefix (``user.``), a name with an underscore (``k8s_cluster``) or a noun (``registry
    user``): what differs between kinds is asked of the kind (Terraform core never names a
    resource's attribute)."""
    alone, anywhere = kind_words()
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(MAY_NAME_KINDS):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = docstrings(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
                continue
            if id(node) in skip:
                continue
            text = node.value
            if text.strip() in alone or any(word in text for word in anywhere):
                offenders.append(f"{rel}:{node.lineno}: {text[:60]!r}")
    assert offenders == []


def test_the_plan_command_does_not_import_the_executor() -> None:
    imported = imports_of(PACKAGE / "commands" / "plan.py")
    assert not {i for i in imported if i in ("reconciler.apply", "reconciler.graph")}


# Names that exist only on the wire: request bodies and response fields of the API.
WIRE_NAMES = (
    "clusterName",
    "clusterUuid",
    "orderContent",
    "adminPass",
    "purchaseNum",
    "instanceShortId",
    "slaveVmCount",
    "instanceGroupName",
    "clusterSpec",
)


def test_only_kinds_and_the_client_know_wire_field_names() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(("client/", "emulator/", "kinds/")):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in WIRE_NAMES:
                offenders.append(f"{rel}:{node.lineno}: {node.value}")
    assert offenders == []


def test_no_kind_dispatch_in_the_engine() -> None:
    """The planner, refresh, recovery, graph and apply never ask which kind they hold."""
    offenders = []
    for name in ("planner", "refresh", "recovery", "graph", "apply"):
        source = (PACKAGE / f"{name}.py").read_text(encoding="utf-8")
        for needle in (
            "isinstance(spec",
            'getattr(self, f"',
            "UserSpec",
            "ClusterSpec",
            'kind == "',
        ):
            if needle in source:
                offenders.append(f"{name}.py: {needle}")
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and any(
                isinstance(c, ast.Constant)
                and c.value in ("user", "namespace", "repository", "cluster")
                for c in node.comparators
            ):
                offenders.append(f"{name}.py:{node.lineno}: compares with a kind name")
    assert offenders == []

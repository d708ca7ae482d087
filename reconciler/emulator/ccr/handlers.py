"""Thin HTTP handlers for CCR Enterprise: read parameters, call :class:`.models.Ccr`, answer in
the shapes the official Go SDK decodes (``services/eccr/model.go``).

For: paged lists as ``{total, pageNo, pageSize, <key>}`` with the SDK's list key per resource
(``instances``, ``projects``, ``items``, ``robots``); a project's ``public``/``autoScan`` as the
strings ``"true"``/``"false"``; times as RFC 3339; a create-registry answer with both the
listed type's camel-case times and its own snake-case ones; an empty 200 where the SDK reads
nothing. Errors are the BCE body ``{code, message, requestId}`` (:mod:`.errors`).
Not for: the rules (the model's).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..call import Call, Reply
from ..clock import rfc3339
from ..models import Model
from .errors import invalid
from .models import (
    Ccr,
    StoredInstance,
    StoredLink,
    StoredProject,
    StoredRegistry,
    StoredRepository,
    StoredRobot,
    page_ask,
)

T = TypeVar("T")
DOMAIN = "{instance}{suffix}.cnc.{region}.baidubce.com"  # GUESS: the pull host's shape


def ccr(model: Model) -> Ccr:
    return model.ccr


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _int_arg(call: Call, key: str) -> int | None:
    value = call.arg(key)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise invalid(f"{key} must be an integer") from None


def _path_int(call: Call, key: str) -> int:
    value = call.path[key]
    if not value.isdigit():
        raise invalid(f"{key} {value!r} is not a numeric id")
    return int(value)


def _page(call: Call, key: str, rows: Sequence[T], shape: Callable[[T], Any]) -> Reply:
    ask = page_ask(_int_arg(call, "pageNo"), _int_arg(call, "pageSize"))
    return {
        "total": len(rows),
        "pageNo": ask.page_no,
        "pageSize": ask.page_size,
        key: [shape(row) for row in ask.cut(rows)],
    }


def _domain(model: Ccr, instance_id: str, suffix: str) -> str:
    return DOMAIN.format(instance=instance_id, suffix=suffix, region=model.region)


# -- serialisation (the SDK's structs) ------------------------------------------------------


def instance_json(model: Ccr, instance: StoredInstance) -> dict[str, Any]:
    return {
        "id": instance.instance_id,
        "instanceType": instance.type,
        "name": instance.name,
        "status": instance.status,
        "createTime": rfc3339(instance.created),
        "expireTime": rfc3339(instance.expires),
        "region": model.region,
        "publicURL": _domain(model, instance.instance_id, "-pub"),
        "tags": [{"tagKey": k, "tagValue": v} for k, v in instance.tags],
    }


def project_json(project: StoredProject) -> dict[str, Any]:
    return {
        "projectName": project.name,
        "projectId": project.seq,
        "public": _flag(project.public),
        "autoScan": _flag(project.auto_scan),
        "repoCount": project.repo_count,
        "chartCount": 0,
        "creationTime": rfc3339(project.created),
        "updateTime": rfc3339(project.updated),
    }


def repository_json(model: Ccr, repository: StoredRepository) -> dict[str, Any]:
    path = f"{repository.project}/{repository.name}"
    instance = repository.instance_id
    return {
        "repositoryName": repository.name,
        "projectName": repository.project,
        "description": repository.description,
        "tagCount": repository.tag_count,
        "pullCount": 0,
        "creationTime": rfc3339(repository.created),
        "updateTime": rfc3339(repository.updated),
        "repositoryPath": f"{_domain(model, instance, '-pub')}/{path}",
        "privateRepositoryPath": f"{_domain(model, instance, '-vpc')}/{path}",
    }


def robot_json(robot: StoredRobot) -> dict[str, Any]:
    return {
        "id": robot.seq,
        "name": robot.name,
        "level": robot.level,
        "disable": robot.disabled,
        "description": robot.description,
        "duration": robot.duration,
        "expiresAt": robot.expires_at,
        "creationTime": rfc3339(robot.created),
        "updateTime": rfc3339(robot.updated),
        "editable": True,
        "permissions": list(robot.permissions),
    }


def link_json(link: StoredLink) -> dict[str, Any]:
    item = {
        "vpcID": link.vpc_id,
        "subnetID": link.subnet_id,
        "serviceNetID": f"sn-{link.seq:08d}",
        "status": link.status,
        "resourceSource": "user",
    }
    if link.ip_address:
        item["ipAddress"] = link.ip_address
    return item


def registry_json(registry: StoredRegistry) -> dict[str, Any]:
    credential = registry.credential
    return {
        "id": registry.seq,
        "name": registry.name,
        "type": registry.type,
        "url": registry.url,
        "description": registry.description,
        "insecure": registry.insecure,
        "status": registry.status,
        # the secret is never shown again
        "credential": None
        if credential is None
        else {"type": credential["type"], "accessKey": credential["accessKey"]},
        "creationTime": rfc3339(registry.created),
        "updateTime": rfc3339(registry.updated),
    }


# -- instances ------------------------------------------------------------------------------


def list_instances(call: Call) -> Reply:
    model = ccr(call.model)
    found = model.list_instances(call.arg("keywordType") or "", call.arg("keyword") or "")
    return _page(call, "instances", found, lambda i: instance_json(model, i))


def create_instance(call: Call) -> Reply:
    instance_id = ccr(call.model).create_instance(call.json())
    return {"instanceID": instance_id, "orderID": f"order-{instance_id}"}


def get_instance(call: Call) -> Reply:
    model = ccr(call.model)
    instance = model.instance(call.path["instance"])
    return {
        "info": instance_json(model, instance),
        "statistic": model.statistic(instance.instance_id),
        "quota": {"repo": 1000, "chart": 1000, "namespace": 100},
        "bucket": instance.bucket,
        "region": model.region,
    }


def update_instance(call: Call) -> Reply:
    model = ccr(call.model)
    info = instance_json(model, model.rename_instance(call.path["instance"], call.json()))
    del info["tags"]  # the SDK's UpdateInstanceResponse has none
    return info


def set_instance_tags(call: Call) -> Reply:
    ccr(call.model).set_tags(call.path["instance"], call.json())
    return None


# -- projects -------------------------------------------------------------------------------


def list_projects(call: Call) -> Reply:
    found = ccr(call.model).list_projects(call.path["instance"], call.arg("projectName") or "")
    return _page(call, "projects", found, project_json)


def create_project(call: Call) -> Reply:
    return project_json(ccr(call.model).create_project(call.path["instance"], call.json()))


def get_project(call: Call) -> Reply:
    return project_json(ccr(call.model).project(call.path["instance"], call.path["project"]))


def update_project(call: Call) -> Reply:
    model, path = ccr(call.model), call.path
    return project_json(model.update_project(path["instance"], path["project"], call.json()))


def delete_project(call: Call) -> Reply:
    ccr(call.model).delete_project(call.path["instance"], call.path["project"])
    return None


# -- repositories ---------------------------------------------------------------------------


def list_repositories(call: Call) -> Reply:
    model, path = ccr(call.model), call.path
    found = model.list_repositories(
        path["instance"], path["project"], call.arg("repositoryName") or ""
    )
    return _page(call, "items", found, lambda r: repository_json(model, r))


def get_repository(call: Call) -> Reply:
    model, path = ccr(call.model), call.path
    found = model.repository(path["instance"], path["project"], path["repository"])
    return repository_json(model, found)


def update_repository(call: Call) -> Reply:
    model, path = ccr(call.model), call.path
    found = model.update_repository(
        path["instance"], path["project"], path["repository"], call.json()
    )
    return repository_json(model, found)


def delete_repository(call: Call) -> Reply:
    path = call.path
    ccr(call.model).delete_repository(path["instance"], path["project"], path["repository"])
    return None


# -- robot accounts -------------------------------------------------------------------------


def list_robots(call: Call) -> Reply:
    found = ccr(call.model).list_robots(call.path["instance"], call.arg("status") or "")
    return _page(call, "robots", found, robot_json)


def create_robot(call: Call) -> Reply:
    robot, secret = ccr(call.model).create_robot(call.path["instance"], call.json())
    return {**robot_json(robot), "secret": secret}


def update_robot(call: Call) -> Reply:
    ccr(call.model).update_robot(call.path["instance"], _path_int(call, "robot"), call.json())
    return None


def delete_robot(call: Call) -> Reply:
    ccr(call.model).delete_robot(call.path["instance"], _path_int(call, "robot"))
    return None


def refresh_robot_secret(call: Call) -> Reply:
    model = ccr(call.model)
    secret = model.refresh_secret(call.path["instance"], _path_int(call, "robot"), call.json())
    return {"secret": secret}


# -- network access -------------------------------------------------------------------------


def get_public_network(call: Call) -> Reply:
    model, instance = ccr(call.model), call.path["instance"]
    status, whitelist = model.public_network(instance)
    return {
        "domain": _domain(model, instance, "-pub"),
        "status": status,
        "whitelist": [{"ipAddr": ip, "description": d} for ip, d in whitelist],
    }


def switch_public_network(call: Call) -> Reply:
    ccr(call.model).switch_public(call.path["instance"], call.json())
    return None


def add_whitelist(call: Call) -> Reply:
    ccr(call.model).add_whitelist(call.path["instance"], call.json())
    return None


def delete_whitelist(call: Call) -> Reply:
    ccr(call.model).delete_whitelist(call.path["instance"], call.json())
    return None


def list_private_networks(call: Call) -> Reply:
    model, instance = ccr(call.model), call.path["instance"]
    links = model.private_links(instance)
    return {"domain": _domain(model, instance, "-vpc"), "items": [link_json(x) for x in links]}


def create_private_network(call: Call) -> Reply:
    ccr(call.model).create_private_link(call.path["instance"], call.json())
    return None  # the SDK's decoder fails on any answer; an empty 200 is the kindest


def delete_private_network(call: Call) -> Reply:
    ccr(call.model).delete_private_link(call.path["instance"], call.json())
    return None


# -- remote registries ----------------------------------------------------------------------


def list_registries(call: Call) -> Reply:
    model = ccr(call.model)
    found = model.list_registries(
        call.path["instance"], call.arg("registryName") or "", call.arg("registryType") or ""
    )
    return _page(call, "items", found, registry_json)


def create_registry(call: Call) -> Reply:
    registry = ccr(call.model).create_registry(call.path["instance"], call.json())
    answer = registry_json(registry)
    # CreateRegistryResponse spells its times in snake case (GUESS: both are sent)
    answer["creation_time"] = answer["creationTime"]
    answer["update_time"] = answer["updateTime"]
    return answer


def get_registry(call: Call) -> Reply:
    model = ccr(call.model)
    return registry_json(model.registry(call.path["instance"], _path_int(call, "registry")))


def update_registry(call: Call) -> Reply:
    model = ccr(call.model)
    found = model.update_registry(call.path["instance"], _path_int(call, "registry"), call.json())
    return registry_json(found)


def delete_registry(call: Call) -> Reply:
    ccr(call.model).delete_registry(call.path["instance"], _path_int(call, "registry"))
    return None


def ping_registry(call: Call) -> Reply:
    ccr(call.model).ping_registry(call.path["instance"], call.json())
    return None


# -- the admin state dump -------------------------------------------------------------------


def dump(model: Model) -> dict[str, Any]:
    """Every instance with what it holds, in the API's shapes (secrets only as hashes)."""
    service = ccr(model)
    out = []
    for instance in service.everything()["instances"]:
        i = instance.instance_id
        status, whitelist = service.public_network(i)
        projects = service.list_projects(i, "")
        out.append(
            {
                **instance_json(service, instance),
                "publicNetwork": {
                    "status": status,
                    "whitelist": [{"ipAddr": ip, "description": d} for ip, d in whitelist],
                },
                "privateLinks": [link_json(x) for x in service.private_links(i)],
                "projects": [project_json(p) for p in projects],
                "repositories": [
                    repository_json(service, r)
                    for p in projects
                    for r in service.list_repositories(i, p.name, "")
                ],
                "robots": [
                    {**robot_json(r), "secretSha256": r.secret_sha256}
                    for r in service.list_robots(i, "")
                ],
                "registries": [registry_json(r) for r in service.list_registries(i, "", "")],
            }
        )
    return {"instances": out}

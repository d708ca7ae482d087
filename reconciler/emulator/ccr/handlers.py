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

from collections.abc import Callable
from typing import Any, TypeVar

from ..call import Call, Reply
from ..clock import rfc3339
from .errors import invalid
from .models import (
    DEFAULT_INSTANCE,
    PAGING,
    Ccr,
    StoredInstance,
    StoredLink,
    StoredProject,
    StoredRegistry,
    StoredRepository,
    StoredRobot,
)

T = TypeVar("T")
CcrCall = Call[Ccr]
DOMAIN = "{instance}{suffix}.cnc.{region}.baidubce.com"  # GUESS: the pull host's shape


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _path_int(call: CcrCall, key: str) -> int:
    value = call.path[key]
    if not value.isdigit():
        raise invalid(f"{key} {value!r} is not a numeric id")
    return int(value)


def _page(call: CcrCall, key: str, rows: list[T], shape: Callable[[T], Any]) -> Reply:
    page = call.numbered_page(PAGING)
    return {
        "total": len(rows),
        "pageNo": page.page_no,
        "pageSize": page.page_size,
        key: [shape(row) for row in page.cut(rows)],
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


def list_instances(call: CcrCall) -> Reply:
    model = call.model
    found = model.list_instances(call.arg("keywordType") or "", call.arg("keyword") or "")
    return _page(call, "instances", found, lambda i: instance_json(model, i))


def create_instance(call: CcrCall) -> Reply:
    instance_id = call.model.create_instance(call.json())
    return {"instanceID": instance_id, "orderID": f"order-{instance_id}"}


def get_instance(call: CcrCall) -> Reply:
    model = call.model
    instance = model.instance(call.path["instance"])
    return {
        "info": instance_json(model, instance),
        "statistic": model.statistic(instance.instance_id),
        "quota": {"repo": 1000, "chart": 1000, "namespace": 100},
        "bucket": instance.bucket,
        "region": model.region,
    }


def update_instance(call: CcrCall) -> Reply:
    model = call.model
    info = instance_json(model, model.rename_instance(call.path["instance"], call.json()))
    del info["tags"]  # the SDK's UpdateInstanceResponse has none
    return info


def set_instance_tags(call: CcrCall) -> Reply:
    call.model.set_tags(call.path["instance"], call.json())
    return None


# -- projects -------------------------------------------------------------------------------


def list_projects(call: CcrCall) -> Reply:
    found = call.model.list_projects(call.path["instance"], call.arg("projectName") or "")
    return _page(call, "projects", found, project_json)


def create_project(call: CcrCall) -> Reply:
    return project_json(call.model.create_project(call.path["instance"], call.json()))


def get_project(call: CcrCall) -> Reply:
    return project_json(call.model.project(call.path["instance"], call.path["project"]))


def update_project(call: CcrCall) -> Reply:
    model, path = call.model, call.path
    return project_json(model.update_project(path["instance"], path["project"], call.json()))


def delete_project(call: CcrCall) -> Reply:
    call.model.delete_project(call.path["instance"], call.path["project"])
    return None


# -- repositories ---------------------------------------------------------------------------


def list_repositories(call: CcrCall) -> Reply:
    model, path = call.model, call.path
    found = model.list_repositories(
        path["instance"], path["project"], call.arg("repositoryName") or ""
    )
    return _page(call, "items", found, lambda r: repository_json(model, r))


def get_repository(call: CcrCall) -> Reply:
    model, path = call.model, call.path
    found = model.repository(path["instance"], path["project"], path["repository"])
    return repository_json(model, found)


def update_repository(call: CcrCall) -> Reply:
    model, path = call.model, call.path
    found = model.update_repository(
        path["instance"], path["project"], path["repository"], call.json()
    )
    return repository_json(model, found)


def delete_repository(call: CcrCall) -> Reply:
    path = call.path
    call.model.delete_repository(path["instance"], path["project"], path["repository"])
    return None


# -- robot accounts -------------------------------------------------------------------------


def list_robots(call: CcrCall) -> Reply:
    found = call.model.list_robots(call.path["instance"], call.arg("status") or "")
    return _page(call, "robots", found, robot_json)


def create_robot(call: CcrCall) -> Reply:
    robot, secret = call.model.create_robot(call.path["instance"], call.json())
    return {**robot_json(robot), "secret": secret}


def update_robot(call: CcrCall) -> Reply:
    call.model.update_robot(call.path["instance"], _path_int(call, "robot"), call.json())
    return None


def delete_robot(call: CcrCall) -> Reply:
    call.model.delete_robot(call.path["instance"], _path_int(call, "robot"))
    return None


def refresh_robot_secret(call: CcrCall) -> Reply:
    model = call.model
    secret = model.refresh_secret(call.path["instance"], _path_int(call, "robot"), call.json())
    return {"secret": secret}


# -- network access -------------------------------------------------------------------------


def get_public_network(call: CcrCall) -> Reply:
    model, instance = call.model, call.path["instance"]
    status, whitelist = model.public_network(instance)
    return {
        "domain": _domain(model, instance, "-pub"),
        "status": status,
        "whitelist": [{"ipAddr": ip, "description": d} for ip, d in whitelist],
    }


def switch_public_network(call: CcrCall) -> Reply:
    call.model.switch_public(call.path["instance"], call.json())
    return None


def add_whitelist(call: CcrCall) -> Reply:
    call.model.add_whitelist(call.path["instance"], call.json())
    return None


def delete_whitelist(call: CcrCall) -> Reply:
    call.model.delete_whitelist(call.path["instance"], call.json())
    return None


def list_private_networks(call: CcrCall) -> Reply:
    model, instance = call.model, call.path["instance"]
    links = model.private_links(instance)
    return {"domain": _domain(model, instance, "-vpc"), "items": [link_json(x) for x in links]}


def create_private_network(call: CcrCall) -> Reply:
    call.model.create_private_link(call.path["instance"], call.json())
    return None  # the SDK's decoder fails on any answer; an empty 200 is the kindest


def delete_private_network(call: CcrCall) -> Reply:
    call.model.delete_private_link(call.path["instance"], call.json())
    return None


# -- remote registries ----------------------------------------------------------------------


def list_registries(call: CcrCall) -> Reply:
    model = call.model
    found = model.list_registries(
        call.path["instance"], call.arg("registryName") or "", call.arg("registryType") or ""
    )
    return _page(call, "items", found, registry_json)


def create_registry(call: CcrCall) -> Reply:
    registry = call.model.create_registry(call.path["instance"], call.json())
    answer = registry_json(registry)
    # CreateRegistryResponse spells its times in snake case (GUESS: both are sent)
    answer["creation_time"] = answer["creationTime"]
    answer["update_time"] = answer["updateTime"]
    return answer


def get_registry(call: CcrCall) -> Reply:
    model = call.model
    return registry_json(model.registry(call.path["instance"], _path_int(call, "registry")))


def update_registry(call: CcrCall) -> Reply:
    model = call.model
    found = model.update_registry(call.path["instance"], _path_int(call, "registry"), call.json())
    return registry_json(found)


def delete_registry(call: CcrCall) -> Reply:
    call.model.delete_registry(call.path["instance"], _path_int(call, "registry"))
    return None


def ping_registry(call: CcrCall) -> Reply:
    call.model.ping_registry(call.path["instance"], call.json())
    return None


# -- the admin state dump -------------------------------------------------------------------


def push(model: Ccr, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /__emulator/ccr/push``: what ``docker push`` leaves (a repository and a tag)."""
    values = [body.get(k) for k in ("project", "repository", "tag")]
    instance = body.get("instance", DEFAULT_INSTANCE)
    project, repository, tag = (v if isinstance(v, str) and v else "" for v in values)
    if not (project and repository and tag and isinstance(instance, str)):
        raise invalid("project, repository and tag must be strings")
    model.push(instance, project, repository, tag)
    return {"pushed": f"{instance}/{project}/{repository}:{tag}"}


def dump(model: Ccr) -> dict[str, Any]:
    """Every instance with what it holds, in the API's shapes (secrets only as hashes)."""
    service = model
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
    return {"ccr": {"instances": out}}

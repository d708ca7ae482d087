"""Thin HTTP handlers for the image (registry) API: read parameters, call the model, serialise.

The shapes here are the PROVISIONAL image API of docs/api-contract.md (only the user
endpoints are documented by Baidu); they live in this one module, like the client's
``reconciler/client/v1.py``, so that a correction is one edit in each. Cluster endpoints are
in :mod:`.cluster_handlers`.

Not for: validation rules (the model's) or HTTP mechanics (:mod:`.app`).
"""

from __future__ import annotations

from typing import Any

from . import params
from .call import Call, Handler, Reply
from .clock import rfc3339
from .paging import Page
from .registry import Image, Namespace, Tag


def paging_fields(page: Page[Any]) -> dict[str, Any]:
    return {
        "marker": page.marker,
        "isTruncated": page.is_truncated,
        "nextMarker": page.next_marker,
        "maxKeys": page.max_keys,
    }


def namespace_json(namespace: Namespace) -> dict[str, Any]:
    return {
        "namespace": namespace.name,
        "public": namespace.public,
        "createTime": rfc3339(namespace.created),
    }


def image_json(image: Image) -> dict[str, Any]:
    return {
        "namespace": image.namespace,
        "repository": image.repository,
        "tags": list(image.tags),
        "description": image.description,
        "createTime": rfc3339(image.created),
    }


def tag_json(tag: Tag) -> dict[str, Any]:
    return {
        "namespace": tag.namespace,
        "repository": tag.repository,
        "tag": tag.tag,
        "description": tag.description,
        "createTime": rfc3339(tag.created),
    }


# -- user -----------------------------------------------------------------------------------


def create_user(call: Call) -> Reply:
    body = call.json()
    call.model.registry.create_user(*_user_fields(body))
    return None


def get_user(call: Call) -> Reply:
    user = call.model.registry.get_user()
    return {
        "username": user.username,
        "createTime": rfc3339(user.created),
        "updateTime": rfc3339(user.updated),
    }


def update_user(call: Call) -> Reply:
    body = call.json()
    call.model.registry.update_user(*_user_fields(body))
    return None


def _user_fields(body: params.Json) -> tuple[str | None, str | None, str | None]:
    return (
        params.opt_str(body, "username"),
        params.opt_str(body, "password"),
        params.opt_str(body, "passwordConfirmation"),
    )


# -- namespaces -----------------------------------------------------------------------------


def create_namespace(call: Call) -> Reply:
    body = call.json()
    call.model.registry.create_namespace(
        params.opt_str(body, "namespace"),
        params.opt_bool(body, "public"),
        params.opt_str(body, "user"),
    )
    return None


def list_namespaces(call: Call) -> Reply:
    page = call.model.registry.list_namespaces(call.arg("user"), call.page())
    return {"namespaces": [namespace_json(ns) for ns in page.items], **paging_fields(page)}


def get_namespace(call: Call) -> Reply:
    return namespace_json(call.model.registry.get_namespace(call.path["namespace"]))


def delete_namespace(call: Call) -> Reply:
    call.model.registry.delete_namespace(call.path["namespace"])
    return None


# -- repositories and tags ------------------------------------------------------------------


def create_meta(call: Call) -> Reply:
    body = call.json()
    call.model.registry.put_tag(
        params.opt_str(body, "namespace"),
        params.opt_str(body, "repository"),
        params.opt_str(body, "tag"),
        params.opt_str(body, "description"),
    )
    return None


def get_meta(call: Call) -> Reply:
    tag = call.model.registry.get_tag(
        call.arg("namespace"), call.arg("repository"), call.arg("tag")
    )
    return tag_json(tag)


def delete_meta(call: Call) -> Reply:
    registry = call.model.registry
    registry.delete_meta(call.arg("namespace"), call.arg("repository"), call.arg("tag"))
    return None


def list_images(call: Call) -> Reply:
    page = call.model.registry.list_images(call.arg("user"), call.arg("namespace"), call.page())
    return {"images": [image_json(image) for image in page.items], **paging_fields(page)}


HANDLERS: dict[str, Handler] = {
    "user.create": create_user,
    "user.get": get_user,
    "user.update": update_user,
    "namespace.create": create_namespace,
    "namespace.list": list_namespaces,
    "namespace.get": get_namespace,
    "namespace.delete": delete_namespace,
    "meta.create": create_meta,
    "meta.get": get_meta,
    "meta.delete": delete_meta,
    "image.list": list_images,
}

"""Thin HTTP handlers for the image (registry) API: read parameters, call the model, serialise.

The shapes here are the PROVISIONAL image API of docs/api-contract.md (only the user
endpoints are documented by Baidu); they live in this one module, like the client's
``reconciler/client/v1.py``, so that a correction is one edit in each.
Not for: validation rules (the model's) or HTTP mechanics (:mod:`..app`).
"""

from __future__ import annotations

from typing import Any

from ..call import Call, Reply
from ..clock import rfc3339
from ..paging import marker_fields
from .errors import READ
from .models import Image, Namespace, Registry, Tag

RegistryCall = Call[Registry]


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


def create_user(call: RegistryCall) -> Reply:
    call.model.create_user(*_user_fields(call))
    return None


def get_user(call: RegistryCall) -> Reply:
    user = call.model.get_user()
    return {
        "username": user.username,
        "createTime": rfc3339(user.created),
        "updateTime": rfc3339(user.updated),
    }


def update_user(call: RegistryCall) -> Reply:
    call.model.update_user(*_user_fields(call))
    return None


def _user_fields(call: RegistryCall) -> tuple[str | None, str | None, str | None]:
    body = call.json()
    return (
        READ.opt_str(body, "username"),
        READ.opt_str(body, "password"),
        READ.opt_str(body, "passwordConfirmation"),
    )


# -- namespaces -----------------------------------------------------------------------------


def create_namespace(call: RegistryCall) -> Reply:
    body = call.json()
    call.model.create_namespace(
        READ.opt_str(body, "namespace"),
        READ.opt_bool(body, "public"),
        READ.opt_str(body, "user"),
    )
    return None


def list_namespaces(call: RegistryCall) -> Reply:
    page = call.model.list_namespaces(call.arg("user"), call.page())
    return {"namespaces": [namespace_json(ns) for ns in page.items], **marker_fields(page)}


def get_namespace(call: RegistryCall) -> Reply:
    return namespace_json(call.model.get_namespace(call.path["namespace"]))


def delete_namespace(call: RegistryCall) -> Reply:
    call.model.delete_namespace(call.path["namespace"])
    return None


# -- repositories and tags ------------------------------------------------------------------


def create_meta(call: RegistryCall) -> Reply:
    body = call.json()
    call.model.put_tag(
        READ.opt_str(body, "namespace"),
        READ.opt_str(body, "repository"),
        READ.opt_str(body, "tag"),
        READ.opt_str(body, "description"),
    )
    return None


def get_meta(call: RegistryCall) -> Reply:
    tag = call.model.get_tag(call.arg("namespace"), call.arg("repository"), call.arg("tag"))
    return tag_json(tag)


def delete_meta(call: RegistryCall) -> Reply:
    call.model.delete_meta(call.arg("namespace"), call.arg("repository"), call.arg("tag"))
    return None


def list_images(call: RegistryCall) -> Reply:
    page = call.model.list_images(call.arg("user"), call.arg("namespace"), call.page())
    return {"images": [image_json(image) for image in page.items], **marker_fields(page)}


def dump(registry: Registry) -> dict[str, Any]:
    """The registry's part of ``GET /__emulator/state``."""
    user = registry.find_user()
    return {
        "user": None
        if user is None
        else {
            "username": user.username,
            "createTime": rfc3339(user.created),
            "updateTime": rfc3339(user.updated),
            "passwordSha256": user.password_sha256,
        },
        "namespaces": [
            {**namespace_json(ns), "user": ns.owner} for ns in registry.all_namespaces()
        ],
        "images": [image_json(image) for image in registry.all_images()],
    }

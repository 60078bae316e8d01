"""Groups and organizer API keys: create, authenticate, revoke."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from chalicelib import deps, errors, ids
from chalicelib.models import ApiKey, Group, GroupIn, GroupPatch

_KEY_PREFIX = "pl"


@dataclass(frozen=True)
class NewKey:
    key_id: str
    group_id: str
    secret: str  # the whole bearer key, shown once


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_group(data: GroupIn) -> tuple[Group, NewKey]:
    """Create a group and its first API key (the key is returned once, stored only as a hash)."""
    group = Group(group_id=ids.new_id("grp"), created_at=deps.now(), **data.model_dump())
    deps.store().groups.create(group)
    return group, create_key(group.group_id)


def create_key(group_id: str) -> NewKey:
    deps.store().groups.require(group_id)
    key_id = ids.new_id("key")
    bearer = f"{_KEY_PREFIX}.{key_id}.{secrets.token_urlsafe(32)}"
    deps.store().groups.add_key(ApiKey(key_id=key_id, group_id=group_id, key_hash=_hash(bearer),
                                       created_at=deps.now()))
    return NewKey(key_id=key_id, group_id=group_id, secret=bearer)


def revoke_key(key_id: str) -> ApiKey:
    return deps.store().groups.revoke_key(key_id, deps.now())


def authenticate(authorization: str | None, group_id: str) -> str:
    """The group id the bearer key grants, when it is this group's; 401 for a bad key and 404
    (as for a missing group) when the key belongs to another group."""
    if not authorization:
        raise errors.Unauthorized("send `Authorization: Bearer <api key>`", field="Authorization")
    scheme, _, bearer = authorization.strip().partition(" ")
    bearer = bearer.strip()
    parts = bearer.split(".")
    if scheme.lower() != "bearer" or len(parts) != 3 or parts[0] != _KEY_PREFIX or not ids.is_id(parts[1], "key"):
        raise errors.Unauthorized("the API key is malformed", field="Authorization")
    key = deps.store().groups.get_key(parts[1])
    presented = _hash(bearer)
    if key is None or not hmac.compare_digest(key.key_hash, presented) or key.revoked_at is not None:
        raise errors.Unauthorized("the API key is not valid", field="Authorization")
    if key.group_id != group_id:
        raise errors.NotFound("no such group", field="group_id")
    return key.group_id


def get_group(group_id: str) -> Group:
    return deps.store().groups.require(group_id)


def update_group(group_id: str, patch: GroupPatch) -> Group:
    changes = patch.model_dump(exclude_unset=True)
    for required in ("name", "timezone", "sender_name", "join_open", "join_daily_cap"):
        if required in changes and changes[required] is None:
            raise errors.InvalidInput("cannot be null", field=required)
    return deps.store().groups.update(group_id, changes)

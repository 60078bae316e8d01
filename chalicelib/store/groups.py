"""Groups and their API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib import errors
from chalicelib.models import ApiKey, Group
from chalicelib.store import keys
from chalicelib.store.core import ConditionFailed, Db, Page, set_remove


class GroupRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    def create(self, group: Group) -> None:
        item = {**keys.group(group.group_id), **keys.group_index(group.group_id, group.created_at),
                "type": "group", **group.model_dump()}
        try:
            self.db.put(item, condition="attribute_not_exists(PK)")
        except ConditionFailed:
            raise errors.AlreadyExists("group exists") from None

    def get(self, group_id: str) -> Group | None:
        item = self.db.get(keys.group(group_id))
        return Group.model_validate(item) if item else None

    def require(self, group_id: str) -> Group:
        group = self.get(group_id)
        if group is None:
            raise errors.NotFound("no such group", field="group_id")
        return group

    def update(self, group_id: str, changes: dict[str, Any]) -> Group:
        """Set the given fields (None removes the field) on an existing group."""
        if not changes:
            return self.require(group_id)
        expression, names, values = set_remove(changes)
        try:
            item = self.db.update(keys.group(group_id), expression,
                                  condition="attribute_exists(PK)", names=names,
                                  values=values or None)
        except ConditionFailed:
            raise errors.NotFound("no such group", field="group_id") from None
        return Group.model_validate(item)

    def page(self, *, limit: int = 50, cursor: str | None = None) -> tuple[list[Group], str | None]:
        page: Page = self.db.query_page(partition=keys.GROUPS_INDEX, index=True, limit=limit,
                                        cursor=cursor)
        return [Group.model_validate(i) for i in page.items], page.next_cursor

    # ---- API keys

    def add_key(self, key: ApiKey) -> None:
        item = {**keys.api_key(key.key_id), **keys.api_key_index(key.group_id, key.key_id),
                "type": "api_key", **key.model_dump()}
        self.db.put(item, condition="attribute_not_exists(PK)")

    def get_key(self, key_id: str) -> ApiKey | None:
        item = self.db.get(keys.api_key(key_id))
        return ApiKey.model_validate(item) if item else None

    def revoke_key(self, key_id: str, at: datetime) -> ApiKey:
        try:
            item = self.db.update(keys.api_key(key_id), "SET revoked_at = if_not_exists(revoked_at, :at)",
                                  condition="attribute_exists(PK)", values={":at": at})
        except ConditionFailed:
            raise errors.NotFound("no such key", field="key_id") from None
        return ApiKey.model_validate(item)

    def keys_of(self, group_id: str) -> list[ApiKey]:
        return [ApiKey.model_validate(i)
                for i in self.db.query_all(partition=keys.api_keys_of(group_id), index=True)]

"""Members: unique email per group (a guard item in the same transaction), the lunch index."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from chalicelib import errors
from chalicelib.models import Member
from chalicelib.store import keys
from chalicelib.store.core import WHOLE_GROUP_PAGE, ConditionFailed, Db, Item, TransactionCancelled
from chalicelib.store.schema import GSI1PK, GSI1SK, TTL_ATTRIBUTE

_MAX_TRIES = 5
_NAME_WORDS = 4  # search terms per name: the whole name and up to three later words
MAX_TERM = 100  # characters of a name term kept (a prefix search needs no more)


def fold(text: str) -> str:
    """Text as search terms hold it: lower case, accents dropped, single spaces ("Zoë  Ng" ->
    "zoe ng"), so a search finds a name however it is typed."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in plain if not unicodedata.combining(c)).split())


def search_terms(member: Member) -> list[tuple[str, str]]:
    """(kind, term) pairs a member is found by: the folded name, each later word of it (a
    surname), and the email address."""
    words = fold(member.name).split()
    names = {" ".join(words[i:])[:MAX_TERM] for i in range(min(len(words), _NAME_WORDS))}
    return [("name", t) for t in sorted(names) if t] + [("email", member.email)]


def _search_item(group_id: str, member_id: str, kind: str, term: str) -> Item:
    # member_id is kept as an attribute: a term may itself hold '#'.
    return {**keys.member_search(group_id, kind, term, member_id), "type": "member_search", "member_id": member_id}


def _search_items(member: Member) -> list[Item]:
    return [_search_item(member.group_id, member.member_id, kind, term) for kind, term in search_terms(member)]


def _item(member: Member) -> Item:
    item: Item = {**keys.member(member.group_id, member.member_id), "type": "member",
                  **member.model_dump()}
    lunch = member.lunch
    if member.mailable and lunch.opted_in and not lunch.paused:
        item.update(keys.lunch_index(member.group_id, member.member_id))
    return item


_WITHOUT_LUNCH = tuple(name for name in Member.model_fields if name != "lunch")


def _member(item: Item) -> Member:
    return Member.model_validate({k: v for k, v in item.items() if k not in (GSI1PK, GSI1SK)})


class MemberRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    def create_many(self, group_id: str, members: Sequence[Member]) -> tuple[list[Member], list[Member]]:
        """Create members whose email is new to the group; answer (created, existed).

        Existing emails are found with one BatchGetItem per 100 guards; new members go in
        transactions of 50 (member + guard each). A guard that appears meanwhile refuses its
        member, whose existing record is answered instead: the answer stays exact under races.
        """
        by_email: dict[str, Member] = {}
        for m in members:
            by_email.setdefault(m.email, m)
        guards = self.db.get_many([keys.email_guard(group_id, e) for e in by_email])
        existing_ids = {g["email_hash"]: g["member_id"] for g in guards}
        existed_ids: dict[str, str] = {}
        pending: list[Member] = []
        for email, m in by_email.items():
            digest = keys.email_guard(group_id, email)["SK"].removeprefix("EMAIL#")
            if digest in existing_ids:
                existed_ids[email] = existing_ids[digest]
            else:
                pending.append(m)
        done = self.db.transact_each(pending, self._create_actions)
        for refused in done.refused:
            if not refused.failed[1]:  # the member id itself was taken: 80 random bits say never
                raise errors.Conflict("a new member's id is already in use; try again")
            existed_ids[refused.item.email] = str((refused.olds[1] or {}).get("member_id", ""))
        created = done.written
        existed = self.get_many(group_id, [mid for mid in existed_ids.values() if mid])
        return created, existed

    @staticmethod
    def _create_actions(m: Member) -> list[dict[str, Any]]:
        """The member and its email guard: both new, or neither."""
        guard = keys.email_guard(m.group_id, m.email)
        return [
            {"Put": {"Item": _item(m), "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Put": {"Item": {**guard, **keys.address_index(m.group_id, m.email), "type": "email_guard",
                              "member_id": m.member_id, "group_id": m.group_id,
                              "email_hash": guard["SK"].removeprefix("EMAIL#")},
                     "ConditionExpression": "attribute_not_exists(PK)"}},
            # After the two guarded puts, so a refusal's indexes (0: the member, 1: the guard) hold.
            *({"Put": {"Item": item}} for item in _search_items(m)),
        ]

    def get(self, group_id: str, member_id: str, *, consistent: bool = True) -> Member | None:
        item = self.db.get(keys.member(group_id, member_id), consistent=consistent)
        return _member(item) if item else None

    def by_email(self, group_id: str, email: str) -> Member | None:
        """The member whose email guard holds this address (GetItem on the guard, then the member)."""
        guard = self.db.get(keys.email_guard(group_id, email))
        return self.get(group_id, str(guard["member_id"])) if guard else None

    def require(self, group_id: str, member_id: str) -> Member:
        member = self.get(group_id, member_id)
        if member is None:
            raise errors.NotFound("no such member in this group", field="member_id")
        return member

    def get_many(self, group_id: str, member_ids: Sequence[str]) -> list[Member]:
        items = self.db.get_many([keys.member(group_id, mid) for mid in member_ids])
        return [_member(i) for i in items]

    def page(self, group_id: str, *, limit: int, cursor: str | None) -> tuple[list[Member], str | None]:
        page = self.db.query_page(partition=keys.group_pk(group_id), prefix=keys.MEMBER_PREFIX,
                                  limit=limit, cursor=cursor)
        return [_member(i) for i in page.items], page.next_cursor

    def all(self, group_id: str) -> Iterator[Member]:
        for item in self.db.query_all(partition=keys.group_pk(group_id), prefix=keys.MEMBER_PREFIX):
            yield _member(item)

    def all_without_lunch(self, group_id: str) -> Iterator[Member]:
        """Every member without their lunch preferences (left at their defaults), for reads of a
        whole group that need only who they are and their email state (the insights page): the
        preferences are most of a member's bytes, so four times as many fit a Query's page."""
        for item in self.db.query_all(partition=keys.group_pk(group_id), prefix=keys.MEMBER_PREFIX,
                                      attributes=_WITHOUT_LUNCH, page_size=WHOLE_GROUP_PAGE):
            yield _member(item)

    def lunch_participants(self, group_id: str) -> Iterator[Member]:
        """Subscribed, opted-in, unpaused members (a sparse GSI; eventually consistent)."""
        for item in self.db.query_all(partition=keys.lunch_participants(group_id), index=True):
            yield _member(item)

    def change(self, group_id: str, member_id: str, edit: Callable[[Member], Member]) -> Member:
        """Read, apply `edit`, write back if nobody wrote in between (retried a few times)."""
        for _ in range(_MAX_TRIES):
            current = self.require(group_id, member_id)
            updated = edit(current)
            if updated == current:
                return current
            try:
                self._write_changed(current, updated)
            except ConditionFailed:
                continue
            return updated
        raise errors.Unavailable("The member changed too often at once; try again.")

    def _write_changed(self, current: Member, updated: Member) -> None:
        """Put the member guarded by `updated_at`; a new name moves its search terms in the same
        transaction. Raises ConditionFailed when someone wrote in between."""
        old, new = set(search_terms(current)), set(search_terms(updated))
        if old == new:
            self.db.put(_item(updated), condition="updated_at = :seen", values={":seen": current.updated_at})
            return
        gid, mid = updated.group_id, updated.member_id
        try:
            self.db.transact([
                {"Put": {"Item": _item(updated), "ConditionExpression": "updated_at = :seen",
                         "ExpressionAttributeValues": {":seen": current.updated_at}}},
                *({"Delete": {"Key": keys.member_search(gid, kind, term, mid)}} for kind, term in old - new),
                *({"Put": {"Item": _search_item(gid, mid, kind, term)}} for kind, term in sorted(new - old)),
            ])
        except TransactionCancelled as cancelled:
            if cancelled.failed(0) or cancelled.conflict:
                raise ConditionFailed() from cancelled
            raise

    def index_search(self, member: Member) -> bool:
        """Write the search terms of a member stored before search existed (`cli
        index-member-search`; idempotent). Only while the member is as read: False when they
        changed or were erased meanwhile (read again), so no term outlives an erasure."""
        try:
            self.db.transact([
                {"ConditionCheck": {"Key": keys.member(member.group_id, member.member_id),
                                    "ConditionExpression": "updated_at = :seen",
                                    "ExpressionAttributeValues": {":seen": member.updated_at}}},
                *({"Put": {"Item": item}} for item in _search_items(member)),
            ])
        except TransactionCancelled as cancelled:
            if cancelled.failed(0) or cancelled.conflict:
                return False
            raise
        return True

    def search(self, group_id: str, text: str, *, limit: int = 50) -> list[Member]:
        """Members whose name (or a later word of it) or email starts with `text`: one Query per
        kind of term, begins_with on the sort key; never a Scan. Sorted by name."""
        wanted = fold(text)
        if not wanted:
            return []
        kinds = ("email",) if "@" in wanted else ("name", "email")
        found: dict[str, None] = {}
        for kind in kinds:
            page = self.db.query_page(partition=keys.group_pk(group_id),
                                      prefix=keys.member_search_prefix(kind, wanted), limit=limit, cursor=None)
            found.update((str(i["member_id"]), None) for i in page.items)
        members = self.get_many(group_id, list(found)[:limit])
        return sorted(members, key=lambda m: (fold(m.name), m.email))

    def fresh_links_sent(self, group_id: str, member_id: str, day: date) -> int:
        """How many fresh links the member was mailed on this (UTC) day."""
        item = self.db.get(keys.fresh_link_count(group_id, member_id, day))
        return int(item["sent"]) if item else 0

    def count_fresh_link(self, group_id: str, member_id: str, day: date, *, seen: int,
                         expires_at: datetime, mail_action: dict[str, Any]) -> bool:
        """Count one more fresh link (seen + 1) and record its mail in one transaction; False
        when someone counted since `seen` was read, or wrote at the same moment (nothing
        written: read again)."""
        condition = "attribute_not_exists(sent)" if seen == 0 else "sent = :seen"
        values: dict[str, Any] = {":next": seen + 1, ":ttl": int(expires_at.timestamp()), ":t": "fresh_link_count"}
        if seen:
            values[":seen"] = seen
        try:
            self.db.transact([
                {"Update": {"Key": keys.fresh_link_count(group_id, member_id, day),
                            "UpdateExpression": f"SET sent = :next, #type = :t, {TTL_ATTRIBUTE} = :ttl",
                            "ConditionExpression": condition, "ExpressionAttributeNames": {"#type": "type"},
                            "ExpressionAttributeValues": values}},
                mail_action,
            ])
        except TransactionCancelled as cancelled:
            if cancelled.failed(0) or cancelled.failed(1) or cancelled.conflict:
                return False
            raise errors.Unavailable("The service is busy; try again in a moment.") from cancelled
        return True

    def with_address(self, email: str) -> list[Member]:
        """This address's members in every group: a Query of GSI1 on the email guards, then one
        BatchGetItem per group (an SES bounce or complaint names only the address)."""
        by_group: dict[str, list[str]] = {}
        for guard in self.db.query_all(partition=keys.address_members(email), index=True):
            by_group.setdefault(str(guard["GSI1SK"]), []).append(str(guard["member_id"]))
        return [m for group_id, ids in sorted(by_group.items()) for m in self.get_many(group_id, ids)
                if m.email == email]

    def index_address(self, member: Member) -> bool:
        """Put an email guard written before the address index into it (one-off backfill,
        `cli index-addresses`); False when the guard is gone (erased meanwhile) or indexed."""
        try:
            self.db.update(keys.email_guard(member.group_id, member.email),
                           "SET #gpk = :pk, #gsk = :sk, group_id = :g",
                           condition="attribute_exists(PK) AND member_id = :m AND attribute_not_exists(#gpk)",
                           names={"#gpk": GSI1PK, "#gsk": GSI1SK},
                           values={":pk": keys.address_members(member.email), ":sk": member.group_id,
                                   ":g": member.group_id, ":m": member.member_id})
        except ConditionFailed:
            return False
        return True

    def delete(self, group_id: str, member_id: str) -> Member | None:
        """Remove the member item and the email guard (the guard holds only a hash)."""
        member = self.get(group_id, member_id)
        if member is None:
            return None
        self.db.transact([
            {"Delete": {"Key": keys.member(group_id, member_id)}},
            {"Delete": {"Key": keys.email_guard(group_id, member.email)}},
            *({"Delete": {"Key": keys.member_search(group_id, kind, term, member_id)}}
              for kind, term in search_terms(member)),
        ])
        return member

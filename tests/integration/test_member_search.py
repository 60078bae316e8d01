"""Member search on moto and on DynamoDB Local (`any_table`): a member's search terms are
written with the member, move with a new name, go with erasure, and are read by Query."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import deps
from chalicelib.store import keys
from chalicelib.store.members import fold
from tests.integration.test_store import group, member


def _names(found: list[Any]) -> list[str]:
    return [m.name for m in found]


@pytest.fixture
def queries() -> Any:
    seen: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        seen.append(params)

    client = deps.dynamodb_client()
    client.meta.events.register("provide-client-params.dynamodb.Query", record)
    yield seen
    client.meta.events.unregister("provide-client-params.dynamodb.Query", record)


def test_search_by_name_surname_and_email_prefix(any_table: str, queries: list[dict[str, Any]]) -> None:
    g, other = group(), group("Other")
    people = [member(g.group_id, "zoe@example.com").model_copy(update={"name": "Zoë Ng"}),
              member(g.group_id, "ana.silva@example.org").model_copy(update={"name": "Ana Silva"}),
              member(g.group_id, "bo@silverline.test").model_copy(update={"name": "Bo Li"})]
    repo = deps.store().members
    repo.create_many(g.group_id, people)
    repo.create_many(other.group_id, [member(other.group_id, "zed@example.com").model_copy(update={"name": "Zoe Z"})])

    assert _names(repo.search(g.group_id, "zoe")) == ["Zoë Ng"]  # accents folded, other groups unseen
    assert _names(repo.search(g.group_id, "  SIL ")) == ["Ana Silva"]  # a later word; not bo@silverline
    assert _names(repo.search(g.group_id, "bo@")) == ["Bo Li"]
    assert _names(repo.search(g.group_id, "ana.s")) == ["Ana Silva"]
    assert repo.search(g.group_id, "x") == [] and repo.search(g.group_id, "   ") == []
    prefixes = [q["ExpressionAttributeValues"][":prefix"]["S"] for q in queries]
    assert keys.member_search_prefix("name", "zoe") in prefixes
    assert all("begins_with" in q["KeyConditionExpression"] for q in queries)


def test_a_new_name_moves_its_terms_and_erasure_removes_them(any_table: str) -> None:
    g = group()
    m = member(g.group_id, "ana@example.com").model_copy(update={"name": "Ana Silva"})
    repo = deps.store().members
    repo.create_many(g.group_id, [m])
    repo.change(g.group_id, m.member_id, lambda c: c.model_copy(update={"name": "Ana Costa", "updated_at": c.updated_at.replace(year=2027)}))
    assert repo.search(g.group_id, "silva") == []
    assert _names(repo.search(g.group_id, "costa")) == ["Ana Costa"]
    assert _names(repo.search(g.group_id, "ana")) == ["Ana Costa"]

    repo.delete(g.group_id, m.member_id)
    left = list(deps.store().db.query_all(partition=keys.group_pk(g.group_id), prefix=keys.FIND_PREFIX))
    assert left == []


def test_fold() -> None:
    assert fold("  Zoë   NG ") == "zoe ng"
    assert fold("Ærøskøbing") == "ærøskøbing"  # letters that are not an accent stay


def test_members_stored_before_search_are_indexed_by_the_cli_and_never_after_erasure(any_table: str) -> None:
    from chalicelib import cli

    g = group()
    repo = deps.store().members
    old, gone = (member(g.group_id, e).model_copy(update={"name": n})
                 for e, n in (("ana@example.com", "Ana Silva"), ("bo@example.com", "Bo Li")))
    repo.create_many(g.group_id, [old, gone])
    terms = list(deps.store().db.query_all(partition=keys.group_pk(g.group_id), prefix=keys.FIND_PREFIX))
    deps.store().db.write_batch(deletes=[{"PK": t["PK"], "SK": t["SK"]} for t in terms])  # as before search
    assert repo.search(g.group_id, "silva") == []

    assert cli.run(["index-member-search"]) == {"groups": 1, "indexed": 2}
    assert _names(repo.search(g.group_id, "silva")) == ["Ana Silva"]
    assert _names(repo.search(g.group_id, "bo@")) == ["Bo Li"]
    assert cli.run(["index-member-search"])["indexed"] == 2  # again: the same terms, nothing more

    repo.delete(g.group_id, gone.member_id)
    assert repo.index_search(gone) is False  # a backfill that read Bo before the erasure writes nothing
    assert repo.search(g.group_id, "bo") == []
    left = list(deps.store().db.query_all(partition=keys.group_pk(g.group_id), prefix=keys.FIND_PREFIX))
    assert all(t["member_id"] == old.member_id for t in left)

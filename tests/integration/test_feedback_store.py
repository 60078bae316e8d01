"""The store's follow-ups, no-shows and reconnects section, on moto and on DynamoDB Local
(`any_table`): conditions and set updates behave the same on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib import deps, ids
from chalicelib.models import Group, LunchPair, LunchReconnect

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
MONTH = timedelta(days=30)


def group() -> str:
    g = Group(group_id=ids.new_id("grp"), name="G", timezone="Europe/Lisbon", sender_name="G", created_at=T0)
    deps.store().groups.create(g)
    return g.group_id


def suggestion(gid: str, rid: str, members: list[str], at: datetime) -> LunchReconnect:
    return LunchReconnect(reconnect_id=rid, group_id=gid, member_ids=members, pair_id="lpr_" + rid,
                          round_id="lrd_x", created_at=at)


def test_a_reconnect_is_recorded_once_and_a_member_gets_one_a_month(any_table: str) -> None:
    gid, lunch = group(), deps.store().lunch
    assert lunch.suggest_reconnect(suggestion(gid, "lrc_1", ["a", "b"], T0), month_ago=T0 - MONTH) == "new"
    assert lunch.suggest_reconnect(suggestion(gid, "lrc_1", ["a", "b"], T0), month_ago=T0 - MONTH) == "exists"
    later = T0 + timedelta(days=3)
    assert lunch.suggest_reconnect(suggestion(gid, "lrc_2", ["b", "c"], later),
                                   month_ago=later - MONTH) == "too_soon"
    assert lunch.get_reconnect(gid, "lrc_2") is None  # nothing written, c's record untouched
    assert lunch.get_record(gid, "c").reconnect_mailed_at is None
    month_on = T0 + MONTH + timedelta(hours=1)
    assert lunch.suggest_reconnect(suggestion(gid, "lrc_2", ["b", "c"], month_on),
                                   month_ago=month_on - MONTH) == "new"
    assert lunch.get_record(gid, "b").reconnect_mailed_at == month_on

    lunch.answer_reconnect(gid, "lrc_1", "a", "yes")
    assert lunch.answer_reconnect(gid, "lrc_1", "b", "no").answers == {"a": "yes", "b": "no"}


def test_a_reconnect_pair_keeps_its_yeses_and_is_written_once(any_table: str) -> None:
    gid, lunch = group(), deps.store().lunch
    lunch.suggest_reconnect(suggestion(gid, "lrc_1", ["a", "b"], T0), month_ago=T0 - MONTH)
    pair = LunchPair(pair_id="lpc_1", round_id="lrd_x", group_id=gid, member_ids=["a", "b"], origin="reconnect",
                     responses={"a": "confirmed", "b": "confirmed"}, created_at=T0)
    lunch.put_reconnect_pair("lrc_1", pair, T0)
    lunch.put_reconnect_pair("lrc_1", pair, T0)  # a retry
    stored = lunch.get_pair(gid, "lpc_1")
    assert stored is not None and stored.responses == pair.responses and stored.origin == "reconnect"
    assert lunch.get_reconnect(gid, "lrc_1").connected_pair_id == "lpc_1"  # type: ignore[union-attr]
    assert [e.split("/")[1] for e in lunch.get_record(gid, "a").reconnected] == ["b"]
    assert [e.split("/")[1] for e in lunch.get_record(gid, "b").reconnected] == ["a"]


def test_no_shows_kept_lunches_sit_outs_and_pauses(any_table: str) -> None:
    gid, lunch = group(), deps.store().lunch
    lunch.record_no_show(gid, "x", "lrd_1", "lpr_1")
    assert lunch.record_no_show(gid, "x", "lrd_1", "lpr_1").no_shows == ["lrd_1/lpr_1"]  # once
    assert lunch.bench(gid, "x", after_round="lrd_2", for_pair="lrd_2/lpr_2")
    assert not lunch.bench(gid, "x", after_round="lrd_3", for_pair="lrd_2/lpr_2")  # a retry
    assert lunch.get_record(gid, "x").benched_after == "lrd_2"
    assert lunch.bench(gid, "x", after_round="lrd_9", for_pair="lrd_9/lpr_9")
    assert not lunch.bench(gid, "nobody", after_round="lrd_9", for_pair="lrd_9/lpr_9")  # no record: no pause

    lunch.record_kept(gid, "lrd_1", [("x", False), ("y", True)])
    lunch.record_kept(gid, "lrd_2", [("x", False), ("y", True)])
    lunch.record_kept(gid, "lrd_1", [("x", True)])  # feedback later: x kept round 1 after all
    assert lunch.get_record(gid, "x").missed_rounds == ["lrd_2"]
    assert lunch.get_record(gid, "y").missed_rounds == []

    lunch.record_sat_out(gid, "x", "lrd_1")
    lunch.record_sat_out(gid, "x", "lrd_4")
    lunch.record_sat_out(gid, "x", "lrd_4")
    record = lunch.get_record(gid, "x")
    assert record.sat_out_rounds == ["lrd_1", "lrd_4"] and record.sat_out_round == "lrd_4"


def test_reconnects_due_by_time_per_group(any_table: str) -> None:
    first, second, lunch = group(), group(), deps.store().lunch
    lunch.reconnects_after(first, "lrd_a", T0, T0 + 6 * MONTH)
    lunch.reconnects_after(first, "lrd_b", T0, T0 + 7 * MONTH)
    lunch.reconnects_after(second, "lrd_c", T0, T0 + 8 * MONTH)
    assert list(lunch.groups_with_reconnects_due(T0 + 5 * MONTH)) == []
    assert list(lunch.groups_with_reconnects_due(T0 + 7 * MONTH)) == [first]  # once, with two rounds due
    assert sorted(lunch.groups_with_reconnects_due(T0 + 9 * MONTH)) == sorted([first, second])
    assert sorted(lunch.reconnect_rounds(first)) == [("lrd_a", T0, T0 + 6 * MONTH), ("lrd_b", T0, T0 + 7 * MONTH)]
    lunch.reconnects_done(first, "lrd_a")
    lunch.reconnects_after(first, "lrd_b", T0, T0 + 10 * MONTH)  # moved: one item, the new time
    assert lunch.reconnect_rounds(first) == [("lrd_b", T0, T0 + 10 * MONTH)]
    assert list(lunch.groups_with_reconnects_due(T0 + 9 * MONTH)) == [second]

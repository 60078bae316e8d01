"""Reasons speak to the reader (issue 11, part 6): "you" in each member's intro, the third person
for the organizer, who is who in a trio, and never an ambiguous sentence for same-name partners."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from chalicelib import reasons
from chalicelib.matching import Profile, plan_round
from chalicelib.models import LunchPair, Member, PairReason

NOW = datetime(2026, 11, 3, 10, tzinfo=UTC)


def member(mid: str, name: str) -> Member:
    return Member(member_id=mid, group_id="g", email=f"{mid}@example.org", name=name, created_at=NOW,
                  updated_at=NOW)


def pair_of(people: list[Member], found: list[PairReason]) -> LunchPair:
    return LunchPair(pair_id="p", round_id="r", group_id="g", member_ids=[m.member_id for m in people],
                     reasons=found, created_at=NOW)


ANA, BEN, CARA = member("a", "Ana Silva"), member("b", "Ben Okafor"), member("c", "Cara Lopes")
HIRING = PairReason(kind="goal:find_job/hiring", who=["b", "a"])  # Ben looks for a job, Ana hires
BOTH = PairReason(kind="interests", who=["a", "b"], words={"topics": "fintech and python"})
ASK = PairReason(kind="ask", who=["b", "a"], words={"ask": "intros to design teams", "offer": "design intros"})


def test_each_reader_is_you_and_the_organizer_reads_the_third_person() -> None:
    pair = pair_of([ANA, BEN], [BOTH, HIRING, ASK])
    people = {"a": ANA, "b": BEN}
    assert reasons.in_words(pair, people, reader="a") == [
        "You're both into fintech and python.",
        "You're hiring and Ben is looking for a job.",
        'Ben asked for "intros to design teams", and you can help with "design intros".',
    ]
    assert reasons.in_words(pair, people, reader="b") == [
        "You're both into fintech and python.",
        "Ana is hiring and you're looking for a job.",
        'You asked for "intros to design teams", and Ana can help with "design intros".',
    ]
    assert reasons.in_words(pair, people) == [
        "Ana and Ben are both into fintech and python.",
        "Ana is hiring and Ben is looking for a job.",
        'Ben asked for "intros to design teams", and Ana can help with "design intros".',
    ]


def test_a_trio_names_who_is_who() -> None:
    pair = pair_of([ANA, BEN, CARA], [BOTH, PairReason(kind="newcomer", who=["c", "a"])])
    people = {"a": ANA, "b": BEN, "c": CARA}
    assert reasons.in_words(pair, people, reader="a") == [
        "You and Ben are both into fintech and python.",
        "Cara is new here and you know many people in the group.",
    ]
    assert reasons.in_words(pair, people, reader="c") == [
        "Ana and Ben are both into fintech and python.",
        "You're new here and Ana knows many people in the group.",
    ]


def test_same_first_names_are_told_apart() -> None:
    ben_a, ben_b = member("x", "Ben Adams"), member("y", "Ben Brown")
    pair = pair_of([ben_a, ben_b, CARA], [PairReason(kind="goal:find_job/hiring", who=["x", "y"]),
                                          PairReason(kind="interests", who=["y", "c"], words={"topics": "ai"})])
    people = {"x": ben_a, "y": ben_b, "c": CARA}
    assert reasons.in_words(pair, people) == [
        "Ben Brown is hiring and Ben Adams is looking for a job.",
        "Ben Brown and Cara are both into ai.",
    ]
    assert reasons.in_words(pair, people, reader="x") == [
        "Ben Brown is hiring and you're looking for a job.",
        "Ben Brown and Cara are both into ai.",
    ]
    twins = [member("t1", "Sam Lee"), member("t2", "Sam Lee")]
    names = reasons.names_at_table(["t1", "t2"], {m.member_id: m for m in twins})
    assert names == {"t1": "Sam Lee (1)", "t2": "Sam Lee (2)"}


def test_a_repeat_says_when_they_met_in_the_readers_words() -> None:
    met = PairReason(kind="repeat", who=["a", "b"], words={"rounds_ago": "3", "met_on": "2026-03-10"})
    pair = pair_of([ANA, BEN], [met])
    people = {"a": ANA, "b": BEN}
    assert reasons.in_words(pair, people, reader="a") == ["You met Ben in March; it's been a while, so catch up."]
    assert reasons.in_words(pair, people, reader="b") == ["You met Ana in March; it's been a while, so catch up."]
    assert reasons.in_words(pair, people) == ["Ana and Ben met in March; it's been a while, so catch up."]
    last_year = pair_of([ANA, BEN], [PairReason(kind="repeat", who=["a", "b"], words={"met_on": "2025-11-04"})])
    assert reasons.in_words(last_year, people, reader="a") == [
        "You met Ben in November 2025; it's been a while, so catch up."]


@pytest.mark.parametrize(("met_on", "when"), [
    ("2026-11-03", "earlier today"), ("2026-11-02", "yesterday"), ("2026-10-30", "a few days ago"),
    ("2026-10-27", "last week"),
    ("2026-10-09", "a few weeks ago"),  # 25 days before the pair's day (NOW)
])
def test_a_repeat_who_met_lately_picks_up_where_they_left_off_instead_of_catching_up(met_on: str, when: str) -> None:
    pair = pair_of([ANA, BEN], [PairReason(kind="repeat", who=["a", "b"], words={"rounds_ago": "1", "met_on": met_on})])
    people = {"a": ANA, "b": BEN}
    assert reasons.in_words(pair, people, reader="b") == [f"You met Ana {when}: pick up where you left off."]
    assert reasons.in_words(pair, people) == [f"Ana and Ben met {when}: they can pick up where they left off."]
    # 28 days and more: it has been a while
    month_ago = pair_of([ANA, BEN], [PairReason(kind="repeat", who=["a", "b"], words={"met_on": "2026-10-06"})])
    assert reasons.in_words(month_ago, people, reader="a") == ["You met Ben in October; it's been a while, so catch up."]
    # no date: the last round is lately, older rounds a while
    last_round = pair_of([ANA, BEN], [PairReason(kind="repeat", who=["a", "b"], words={"rounds_ago": "1"})])
    assert reasons.in_words(last_round, people, reader="a") == ["You met Ben last round: pick up where you left off."]


def test_every_reason_the_matcher_gives_reads_as_a_sentence_to_each_reader() -> None:
    ana = Profile(member_id="a", name="{a}", city="x", headline="Founder", asks="a designer",
                  interests=frozenset({"ai"}), goals=frozenset({"hiring", "meet_peers", "mentor"}))
    ben = Profile(member_id="b", name="{b}", city="x", headline="Designer", offers="design help for a founder",
                  goals=frozenset({"find_job", "meet_peers", "be_mentored"}), interests=frozenset({"ai"}))
    (planned,) = plan_round([ana, ben], _history(), odd_rule="sit_out", repeat_window=None, seed=1).pairs
    stored = reasons.stored(planned.reasons, lambda ago: date(2026, 3, 1))
    kinds = {r.kind for r in stored}
    assert {"interests", "goal:find_job/hiring", "goal:be_mentored/mentor", "goal:meet_peers/meet_peers"} <= kinds
    for reader in ("a", "b", None):
        for sentence in reasons.in_words(pair_of([ANA, BEN], stored), {"a": ANA, "b": BEN}, reader=reader):
            assert sentence[0].isupper() and sentence.endswith((".", '."')), sentence
            assert "{" not in sentence and "  " not in sentence
            if reader is not None:
                assert "you" in sentence.lower(), sentence
            mine = {"a": "Ana", "b": "Ben"}.get(reader or "")
            assert mine is None or mine not in sentence, sentence  # never the reader's own name


def _history() -> object:
    from chalicelib.matching import History

    return History(recent_pairs={})


def test_reasons_stored_as_text_before_they_were_data_still_read() -> None:
    old = LunchPair.model_validate({"pair_id": "p", "round_id": "r", "group_id": "g", "member_ids": ["a", "b"],
                                    "reasons": ["{a} and {b} are both into ai."], "created_at": NOW})
    assert reasons.in_words(old, {"a": ANA, "b": BEN}) == ["Ana and Ben are both into ai."]
    assert reasons.mentions(old.reasons[0], "a") and not reasons.mentions(old.reasons[0], "c")

"""A round that pairs nobody says why, in words the organizer can act on (issue 16, item 4)."""

from __future__ import annotations

from chalicelib.matching import History, Profile
from chalicelib.services.pairing import why_nobody_was_paired

NO_HISTORY = History(recent_pairs={})


def person(mid: str, city: str | None = "lisbon", slots: tuple[str, ...] = ("tue-lunch",),
           virtual: bool = False) -> Profile:
    return Profile(member_id=mid, name=mid, city=city, virtual=virtual, availability=frozenset(slots))


def test_nobody_or_one_member() -> None:
    assert why_nobody_was_paired([], NO_HISTORY, None) == "nobody has opted in"
    assert why_nobody_was_paired([person("a")], NO_HISTORY, None) == "only one member opted in"


def test_no_two_in_one_city() -> None:
    members = [person("a", "lisbon"), person("b", "porto"), person("c", None)]
    assert why_nobody_was_paired(members, NO_HISTORY, None) == (
        "no two members are in the same city or both meet online")


def test_no_common_slot() -> None:
    members = [person("a", slots=("mon-lunch",)), person("b", slots=("tue-coffee",))]
    assert why_nobody_was_paired(members, NO_HISTORY, None) == "nobody has a common slot"


def test_everyone_has_met_within_the_window() -> None:
    members = [person("a"), person("b"), person("c", slots=("fri-lunch",))]
    met = History(recent_pairs={frozenset(("a", "b")): 1})
    assert why_nobody_was_paired(members, met, 4) == "everyone has met everyone they can meet"


def test_met_or_blocked() -> None:
    members = [person("a"), person("b"), person("c")]
    history = History(recent_pairs={frozenset(("a", "b")): 1, frozenset(("a", "c")): 2},
                      blocked=frozenset({frozenset(("b", "c"))}))
    assert why_nobody_was_paired(members, history, 4) == (
        "everyone who could meet has met or asked not to meet again")

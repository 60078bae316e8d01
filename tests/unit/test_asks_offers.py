"""Asks meet offers (issue 14, part 5): phrases normalised and matched by phrase, then by word;
a match scores above shared interests; the reason quotes the phrases that met, as written."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from chalicelib import matching, reasons
from chalicelib.matching import History, Profile, ask_match, phrases, plan_round, words
from chalicelib.vocabulary import MAX_PHRASES

NO_HISTORY = History(recent_pairs={})


def _pair(a: dict[str, object], b: dict[str, object]) -> tuple[matching.PlannedPair, list[Profile]]:
    ana = Profile(member_id="a", name="Ana Silva", city="lisbon", rounds_joined=3, **a)  # type: ignore[arg-type]
    ben = Profile(member_id="b", name="Ben Okafor", city="lisbon", rounds_joined=3, **b)  # type: ignore[arg-type]
    (pair,) = plan_round([ana, ben], NO_HISTORY, odd_rule="sit_out", repeat_window=None, seed=0).pairs
    return pair, [ana, ben]


def _said(pair: matching.PlannedPair, people: list[Profile], reader: str | None) -> list[str]:
    names = {p.member_id: p.name.split()[0] for p in people}
    return [reasons.say(r, names, reader=reader) for r in reasons.stored(pair.reasons, lambda ago: None)]


def test_python_code_review_meets_python_code_reviews_and_the_reason_quotes_both_phrases() -> None:
    points, asked, offered = ask_match(("python code review", "a cofounder"), ("design critiques", "Python code reviews"))
    assert (asked, offered) == (("python code review",), ("Python code reviews",))
    assert points == matching.ASK_PHRASE_POINTS + 3 * matching.POINTS_PER_ASK_WORD
    pair, people = _pair({"asks": ("python code review", "a cofounder")},
                         {"offers": ("design critiques", "Python code reviews")})
    assert _said(pair, people, "a") == [
        'You asked for "python code review", and Ben can help with "Python code reviews".']
    assert _said(pair, people, "b") == [
        'Ana asked for "python code review", and you can help with "Python code reviews".']


def test_phrases_are_normalised_for_case_punctuation_plurals_and_stems() -> None:
    assert ask_match(("Mentoring new managers!",), ("mentor new manager",))[0] >= matching.ASK_PHRASE_POINTS
    assert ask_match(("intros to investors",), ("Investor intros.",))[0] == 2 * matching.POINTS_PER_ASK_WORD  # words, not the phrase
    assert ask_match(("fundraising",), ("design",)) == (0, (), ())
    assert phrases("code reviews, fundraising advice;\nhiring") == ("code reviews", "fundraising advice", "hiring")


def test_an_ask_met_by_an_offer_scores_above_a_pair_that_only_shares_interests() -> None:
    five = frozenset({"ai", "design", "python", "sales", "fintech"})
    sharing, _ = _pair({"interests": five}, {"interests": five})
    helped, _ = _pair({"asks": ("fundraising",)}, {"offers": ("Fundraising.",)})
    assert helped.score > sharing.score
    one_word, _ = _pair({"asks": ("advice on pricing",)}, {"offers": ("pricing workshops",)})
    one_interest, _ = _pair({"interests": frozenset({"ai"})}, {"interests": frozenset({"ai"})})
    assert one_word.score > one_interest.score


VOCABULARY = ("python", "code", "reviews", "review", "Reviewing", "fundraising", "advice", "on", "for", "the",
              "design", "teams", "intros", "to", "kubernetes", "sales", "coaching", "data", "pipelines", "and")
PHRASE = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=14).map(" ".join)
SAID = st.one_of(st.lists(PHRASE, max_size=MAX_PHRASES).map(tuple), st.lists(PHRASE, max_size=4).map(", ".join))


@given(asks=SAID, offers=SAID)
def test_no_reason_quotes_a_word_absent_from_the_quoted_text(asks: str | tuple[str, ...],
                                                             offers: str | tuple[str, ...]) -> None:
    pair, people = _pair({"asks": asks}, {"offers": offers})
    found = [r for r in pair.reasons if r.kind == "ask"]
    points, _, _ = ask_match(asks, offers)
    assert bool(found) == bool(points)
    for reason in found:
        shared = words(" ".join(phrases(asks))) & words(" ".join(phrases(offers)))
        for field, written in (("ask", asks), ("offer", offers)):
            quoted = reason.word(field)
            assert shared <= words(quoted), (field, quoted)  # every word that met is in the quote
            # and the quote holds only what the member wrote, in the order written
            tokens = re.findall(r"[^\s,…]+", " ".join(phrases(written)))
            assert set(re.findall(r"[^\s,…]+", quoted)) <= {*tokens, "and"}, (quoted, written)
        sentence = _said(pair, people, "a")
        assert any(f'"{reason.word("ask")}"' in s and f'"{reason.word("offer")}"' in s for s in sentence)

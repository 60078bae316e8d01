"""Lunch pairing: profiles + history + seed in, a frozen plan of pairs out.

Pure: no boto3, no clock, no I/O. The pairing worker saves the plan and queues the mail.

How a round is planned:
1. Members are blocked by city (or "virtual"): pairs never cross blocks.
2. Within a block, members whose scoring fields are equal share a profile class (blank and
   look-alike profiles cost one row). Small blocks keep every feasible pair. Bigger ones
   score every pair of classes with numpy (dense products for goals and for the interests,
   asks and offers many classes share; the rare ones added only where they are held) and
   each member keeps its best TOP_K candidates,
   ranked by full integer points minus the partner's estimated price (what it could score
   elsewhere), ties by a seeded tie-breaker; a class's members share its ranking out, so equal
   scores spread over the block instead of naming the same few.
3. The matching maximises, in this order: the sit-outs of paired members (so whoever sat out
   least lately sits out now), members paired, total score. This is one maximum weight
   matching with integer weights (a bonus per sit-out of a paired member and per paired
   member, each larger than everything below it). Between plans of equal score, members who
   kept their recent lunches are paired before those who missed them (`_prefer_kept`).
   Blocks up to `EXACT_LIMIT` members are solved exactly with rustworkx; larger ones by an
   auction on the bipartite relaxation whose result is rounded exactly, filled greedily and
   repaired by exact re-matching around whoever is left over. Members still unpaired get
   fresh graphs among themselves: a bounded loop, never recursion. bench/RESULTS.md holds
   the figures against a certified upper bound.
4. The odd-count rule applies per block: one trio where three members share a slot, or a
   sit-out.
Ties are broken by a seeded shuffle of the members sorted by id, so the same inputs and seed
give the same pairs whatever the input order.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
import operator
import re
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
import rustworkx as rx

from chalicelib.vocabulary import GOALS, SLOTS, phrases

_SLOT_PREFERENCE = {slot: (not slot.endswith("-lunch"), index) for index, slot in enumerate(SLOTS)}  # lunch first

# Scores are kept in integer points (score = points / 10) so the matching is exact.
POINTS_PER_SHARED_INTEREST = 10
SHARED_INTERESTS_COUNTED = 5  # beyond five shared interests, more in common adds nothing
_INTEREST_CAP = POINTS_PER_SHARED_INTEREST * SHARED_INTERESTS_COUNTED  # the most shared interests score
GOAL_POINTS: Mapping[tuple[str, str], int] = {
    ("find_job", "hiring"): 30,
    ("be_mentored", "mentor"): 30,
    ("find_job", "give_intros"): 20,
    ("meet_peers", "meet_peers"): 5,
}
# An ask met by an offer: per phrase the two wrote alike (after normalising), plus per content
# word they share. A phrase match (at least ASK_PHRASE_POINTS + POINTS_PER_ASK_WORD) scores
# above any number of shared interests (they count up to SHARED_INTERESTS_COUNTED); one shared
# word alone, above one.
ASK_PHRASE_POINTS = 40
POINTS_PER_ASK_WORD = 15
NEWCOMER_POINTS = 20
NEWCOMER_MAX_ROUNDS = 1
WELL_CONNECTED_MIN = 10
POINTS_PER_SCORE = 10
SHOWN_INTERESTS = 3  # shared interests named in a reason; the rest are counted

ALL_PAIRS_LIMIT = 200  # blocks up to this size keep every feasible pair
TOP_K = 40  # candidates kept per member in larger blocks
SAT_OUT_TOP_K = 160  # whoever sat out last time keeps more, so they find a partner
OPPORTUNITY_SAMPLE = 256  # classes each class is scored against to price it (see _opportunity)
APART = 200000  # subtracted from the rank of partners with no common slot: below any reduced points
SHARE = 4  # members of one class list each partner about this many times (see _class_candidates)
AGO_CAP = 100  # rounds: repeats that met longer ago than this rank the same
EXACT_LIMIT = 700  # blocks up to this size are matched exactly in one piece
MAX_PASSES = 3  # matchings of a big block and then of its leftovers among themselves
TRIO_CANDIDATES = 8  # unpaired members of a block tried as the third of a trio
PREFER_KEPT_TRIES = 400  # seats an unpaired member who kept their lunches may take (see _prefer_kept)
AUCTION_EPSILONS = (4.0, 0.5)  # epsilon scaling: the last one bounds the auction's loss
AUCTION_ONE_BY_ONE = 24  # below this many bidders, bid one at a time
AUCTION_ROUNDS = 5000  # bidding rounds per epsilon: a guard, far above what real blocks need
AUCTION_TAIL_BIDS = 2000  # bids one at a time in the tail: a price war past this is left to the exact repair
REPAIR_WINDOW = 400  # members around the leftovers re-matched exactly after the auction
REPAIR_MIN_REACH = 12  # ... and at least this many around each leftover
RARE_INTEREST = 0.05  # interests held by fewer of a block's classes are added where held, not multiplied
RARE_SAID = 0.02  # ... and asks or offers heard from fewer of them, not added as whole rows
SPARSE_FROM = 1024  # classes: smaller blocks multiply every interest (see `_Interests`)
SCORE_CHUNK = 1 << 20  # pairs scored at once by the index path
TIE_FEATURES = 8  # random features per class whose products break ties (see `_Priced`)
TIE_WIDTH = 0.2  # ... and how far either way they move a reduced score: below a quarter point
CHUNK_ROWS = 128  # rows scored at once: bounds memory to CHUNK_ROWS x block size (see `_Scratch`)
PRICE_ROWS = 1024  # rows priced at once against OPPORTUNITY_SAMPLE classes
SKIM = 8  # a wide ranking is cut at a threshold read from 1/SKIM of its columns (see _best)
SKIM_MARGIN = 8
FOLDS = 3  # the sample a cut is read from is folded onto itself this many times first (see _at_most_kth)
SKIM_FROM = 2000  # narrower rankings are partitioned whole: as fast while they fit in cache (bench/RESULTS.md)

# fmt: off
STOP_WORDS = frozenset({
    "a", "about", "advice", "an", "and", "are", "as", "at", "be", "by", "can", "for", "from", "get",
    "help", "how", "i", "in", "into", "is", "it", "looking", "me", "my", "need", "of", "on", "or",
    "our", "some", "someone", "the", "their", "to", "want", "wants", "with", "would", "you", "your",
})
# fmt: on


@dataclass(frozen=True)
class Profile:
    member_id: str
    name: str
    headline: str = ""
    city: str | None = None
    virtual: bool = False
    interests: frozenset[str] = frozenset()
    goals: frozenset[str] = frozenset()
    offers: tuple[str, ...] | str = ()  # phrases; a str is old free text, split by `phrases`
    asks: tuple[str, ...] | str = ()
    availability: frozenset[str] = frozenset()
    rounds_joined: int = 0
    connections: int = 0
    sat_out_last: bool = False
    sat_outs: int = 0  # rounds sat out among the last few (the service's window, the last included)
    missed: int = 0  # recent pairings not kept: not confirmed and met, or reported as a no-show
    paused: bool = False  # paused from pairing this round: neither paired nor sitting out


def sit_out_level(profile: Profile) -> int:
    """How strongly a member is owed a partner: the rounds they sat out lately."""
    return max(profile.sat_outs, int(profile.sat_out_last))


@dataclass(frozen=True)
class History:
    """Who met whom: `recent_pairs` maps every pair that has met to how many rounds ago they
    last met (1 = the last round). With a repeat window those within it are never paired
    again; with none, a pair that met is a repeat: allowed, but only where nobody new fits."""

    recent_pairs: Mapping[frozenset[str], int]
    blocked: frozenset[frozenset[str]] = frozenset()


class Reason(NamedTuple):
    """Why two members should meet, as data: `kind` names the sentence (see
    chalicelib/reasons.py, which says it to each reader), `who` the members in the order the
    sentence names them, `words` what it quotes. A named tuple: a round makes one to three per
    pair, and a frozen dataclass takes four times as long to make."""

    kind: str
    who: tuple[str, ...]
    words: tuple[tuple[str, str], ...] = ()

    def word(self, name: str) -> str:
        return dict(self.words).get(name, "")


@dataclass(frozen=True)
class PlannedPair:
    member_ids: tuple[str, ...]
    score: float
    reasons: tuple[Reason, ...]
    slot: str | None
    repeat: bool = False  # some of them have met before (only without a repeat window)
    last_met_rounds_ago: int | None = None  # for a repeat: how many rounds ago, the most recent


@dataclass(frozen=True)
class Plan:
    pairs: tuple[PlannedPair, ...]
    sat_out: tuple[str, ...]
    total_score: float


IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]
Bits = npt.NDArray[np.integer[Any]]  # slot bits, one word as narrow as the block's keys allow (see _slot_bits)


# ---------------------------------------------------------------- scoring, one pair at a time


def stem(word: str) -> str:
    """A simple stem: plural and '-ing' off ("reviews", "reviewing" -> "review")."""
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 4 and word.endswith("es") and word[:-2].endswith(("ss", "x", "ch", "sh")):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 6 and word.endswith("ing"):
        word = word[:-3]
        if word[-1] == word[-2] and word[-1] not in "lsz":
            word = word[:-1]  # "running" -> "run"
    return word


@functools.lru_cache(maxsize=65536)
def content(text: str) -> tuple[str, ...]:
    """Content words of a phrase in order: lower-cased, stop words out, stemmed."""
    return tuple(stem(word) for word in re.findall(r"[a-z0-9+#]+", text.lower()) if word not in STOP_WORDS)


@functools.lru_cache(maxsize=65536)
def words(text: str) -> frozenset[str]:
    """Content words of a short ask or offer (see `content`)."""
    return frozenset(content(text))


@functools.lru_cache(maxsize=65536)
def _said(value: str | tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """An ask or offer as what scores: its normalised phrases and its content words."""
    keys = [content(phrase) for phrase in phrases(value)]
    return frozenset(" ".join(key) for key in keys if key), frozenset(word for key in keys for word in key)


@functools.lru_cache(maxsize=65536)
def ask_match(ask: str | tuple[str, ...], offer: str | tuple[str, ...]) -> tuple[int, tuple[str, ...], tuple[str, ...]]:
    """Points of an ask met by an offer and the phrases that met, as written: matched by
    phrase (normalised alike), then by shared content word. Phrases that met one another
    whole come first."""
    (ask_keys, ask_words), (offer_keys, offer_words) = _said(ask), _said(offer)
    alike, shared = ask_keys & offer_keys, ask_words & offer_words
    if not shared:
        return 0, (), ()
    points = ASK_PHRASE_POINTS * len(alike) + POINTS_PER_ASK_WORD * len(shared)

    def quoted(value: str | tuple[str, ...]) -> tuple[str, ...]:
        found = [(" ".join(content(p)) not in alike, at, p) for at, p in enumerate(phrases(value)) if words(p) & shared]
        return tuple(p for _, _, p in sorted(found))

    return points, quoted(ask), quoted(offer)


def is_newcomer(profile: Profile) -> bool:
    return profile.rounds_joined <= NEWCOMER_MAX_ROUNDS


def is_well_connected(profile: Profile) -> bool:
    return profile.connections >= WELL_CONNECTED_MIN


def block_of(profile: Profile) -> str | None:
    """The block a member is paired within: "virtual", "city:<name>", or None (no city)."""
    if profile.virtual:
        return "virtual"
    return f"city:{profile.city}" if profile.city else None


def forbidden_pairs(history: History, repeat_window: int | None) -> Forbidden:
    """Pairs the round must not make: blocked ones and those seen within the repeat window
    (none without a window: repeats are then a preference, see `plan_round`)."""
    return Forbidden(history, repeat_window)


@dataclass(frozen=True)
class Forbidden:
    """A view of the history that answers `pair in forbidden` without copying it."""

    history: History
    repeat_window: int | None

    def __contains__(self, pair: object) -> bool:
        if not isinstance(pair, frozenset):
            return False
        if pair in self.history.blocked:
            return True
        rounds_ago = self.history.recent_pairs.get(pair)
        return rounds_ago is not None and self.repeat_window is not None and rounds_ago <= self.repeat_window

    def __iter__(self) -> Iterator[frozenset[str]]:
        yield from self.history.blocked
        window = self.repeat_window
        if window is None:
            return
        for pair, rounds_ago in self.history.recent_pairs.items():
            if rounds_ago <= window:
                yield pair


def can_pair(a: Profile, b: Profile, forbidden: Container[frozenset[str]]) -> bool:
    """The hard rules: same block, a common slot when both gave any, not forbidden."""
    if a.member_id == b.member_id:
        return False
    block = block_of(a)
    if block is None or block != block_of(b):
        return False
    if a.availability and b.availability and not (a.availability & b.availability):
        return False
    return frozenset((a.member_id, b.member_id)) not in forbidden


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def pair_points(a: Profile, b: Profile) -> int:
    """The soft score of a pair in integer points (the numpy scorer computes the same)."""
    return _explain(a, b)[0]


def _explain(a: Profile, b: Profile) -> tuple[int, list[Reason]]:
    """Points of a pair and the reasons, one per thing that scored. Each part reads only one
    field of both and is cached on those fields: a round explains every pair it plans."""
    points = 0
    reasons: list[Reason] = []
    ids = (a.member_id, b.member_id)
    shared = a.interests & b.interests
    if shared:
        interest_points, topics = _interests_reason(shared)
        points += interest_points
        reasons.append(Reason("interests", ids, topics))
    if a.goals and b.goals:
        for kind, a_first, goal_points in _goal_reasons(a.goals, b.goals):
            points += goal_points
            reasons.append(Reason(kind, ids if a_first else ids[::-1]))
    for asker, giver in ((a, b), (b, a)):
        if asker.asks and giver.offers:
            ask_points, quoted = _ask_reason(asker.asks, giver.offers)
            if ask_points:
                points += ask_points
                reasons.append(Reason("ask", (asker.member_id, giver.member_id), quoted))
    if a.rounds_joined <= NEWCOMER_MAX_ROUNDS or b.rounds_joined <= NEWCOMER_MAX_ROUNDS:
        for new, known in ((a, b), (b, a)):
            if is_newcomer(new) and is_well_connected(known):
                points += NEWCOMER_POINTS
                reasons.append(Reason("newcomer", (new.member_id, known.member_id)))
    if not reasons:
        reasons.append(_starter(a, b))
    return points, reasons


@functools.lru_cache(maxsize=65536)
def _interests_reason(shared: frozenset[str]) -> tuple[int, tuple[tuple[str, str], ...]]:
    """Points of shared interests and their words: the first few in natural order, then a count."""
    tags = [_shown_tag(tag) for tag in sorted(shared, key=_natural)]
    if len(tags) > SHOWN_INTERESTS:
        tags = [*tags[:SHOWN_INTERESTS], f"{len(tags) - SHOWN_INTERESTS} more"]
    return POINTS_PER_SHARED_INTEREST * min(len(shared), SHARED_INTERESTS_COUNTED), (("topics", _join(tags)),)


@functools.lru_cache(maxsize=4096)
def _goal_reasons(mine: frozenset[str], theirs: frozenset[str]) -> tuple[tuple[str, bool, int], ...]:
    """Goal rules two members' goals meet: (kind, whether the first member is named first, points)."""
    found = []
    for goal_x, goal_y, goal_points, kind in _GOAL_RULES:
        for a_first in (True, False) if goal_x != goal_y else (True,):
            first, second = (mine, theirs) if a_first else (theirs, mine)
            if goal_x in first and goal_y in second:
                found.append((kind, a_first, goal_points))
    return tuple(found)


@functools.lru_cache(maxsize=65536)
def _ask_reason(asks: str | tuple[str, ...], offers: str | tuple[str, ...]) -> tuple[int, tuple[tuple[str, str], ...]]:
    """Points of an ask met by an offer and the quotes of both, the words that met never cut out."""
    ask_points, asked, offered = ask_match(asks, offers)
    if not ask_points:
        return 0, ()
    matched = frozenset().union(*map(words, asked)) & frozenset().union(*map(words, offered))  # cached per phrase
    return ask_points, (("ask", _quote_all(asked, matched)), ("offer", _quote_all(offered, matched)))


def _starter(a: Profile, b: Profile) -> Reason:
    """Something to talk about when nothing scored: what they wrote, or that both are new."""
    if is_newcomer(a) and is_newcomer(b):
        return Reason("both_new", (a.member_id, b.member_id))
    for first, second in ((a, b), (b, a)):
        if first.headline and second.headline:
            return Reason("headlines", (first.member_id, second.member_id),
                          (("first", _quote(first.headline)), ("second", _quote(second.headline))))
    for first, second in ((a, b), (b, a)):
        if phrases(first.asks):
            return Reason("looking_for", (first.member_id, second.member_id),
                          (("ask", _quote_all(phrases(first.asks)[:2])),))
        if phrases(first.offers):
            return Reason("offering", (first.member_id, second.member_id),
                          (("offer", _quote_all(phrases(first.offers)[:2])),))
        if first.headline:
            return Reason("ask_about", (second.member_id, first.member_id),
                          (("headline", _quote(first.headline)),))
    return Reason("blank", (a.member_id, b.member_id))


_GOAL_RULES = tuple((x, y, points, f"goal:{x}/{y}") for (x, y), points in GOAL_POINTS.items())


@functools.lru_cache(maxsize=4096)
def _shown_tag(tag: str) -> str:
    return tag.replace("_", " ").replace("-", " ")


@functools.lru_cache(maxsize=4096)
def _natural(text: str) -> tuple[object, ...]:
    """Sort key that reads numbers as numbers and ignores case: "web 2" before "web 10"."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text.casefold()))


def _quote_all(said: Sequence[str], keep: frozenset[str] = frozenset()) -> str:
    """Phrases for a quote, each as written (a long old answer cut around the words in `keep`)."""
    quoted = [_quote(phrase, keep) for phrase in said]
    return _join(quoted) if quoted else ""


def _quote(text: str, keep: frozenset[str] = frozenset(), limit: int = 60) -> str:
    """Text for a quote: whole when short; else the stretch around the words in `keep`
    (never cut out), with an ellipsis where something was left out."""
    whole = " ".join(text.split()).rstrip(".!?;:, ")
    if len(whole) <= limit:
        return whole
    tokens = whole.split(" ")
    hits = [at for at, token in enumerate(tokens) if words(token) & keep] or [0]
    start, stop = hits[0], hits[-1] + 1
    if len(" ".join(tokens[start:stop])) > limit:  # matched words far apart: keep them, drop between
        quoted = tokens[hits[0]]
        for before, at in itertools.pairwise(hits):
            quoted += (" " if at == before + 1 else " … ") + tokens[at]
        return ("…" if hits[0] > 0 else "") + quoted + ("…" if hits[-1] < len(tokens) - 1 else "")
    while True:
        grown = False
        if stop < len(tokens) and len(" ".join(tokens[start : stop + 1])) <= limit - 2:
            stop, grown = stop + 1, True
        if start > 0 and len(" ".join(tokens[start - 1 : stop])) <= limit - 2:
            start, grown = start - 1, True
        if not grown:
            break
    return ("…" if start > 0 else "") + " ".join(tokens[start:stop]) + ("…" if stop < len(tokens) else "")


def suggest_slot(members: Sequence[Profile]) -> str | None:
    """First common slot, lunches first; None when anyone gave no availability. Virtual
    members' availability is real-time keys (chalicelib/slots.py): for them the first common
    key, which the pairing service names as one of the members' slots."""
    if not all(member.availability for member in members):
        return None
    common = frozenset.intersection(*[member.availability for member in members])
    named = common & _SLOT_PREFERENCE.keys()
    if named:
        return min(named, key=_SLOT_PREFERENCE.__getitem__)
    return min(common) if common else None


# ---------------------------------------------------------------- candidate graph, vectorised


_Csr = tuple[IntArray, IntArray, FloatArray]  # per row: indptr, columns, values of its non-zeros


def _nonzeros(rows: FloatArray) -> _Csr:
    nonzero_rows, features = np.divmod(np.flatnonzero(rows), rows.shape[1])  # a 2-d nonzero costs 9x more
    return np.searchsorted(nonzero_rows, np.arange(len(rows) + 1)), features, rows[nonzero_rows, features]


@dataclass
class _Block:
    """One city (or the virtual members) encoded by *profile class*: members whose scoring
    fields (interests, goals, ask and offer words, newcomer and well-connected flags, slots,
    sat-out flag) are all equal share a class, so blank and look-alike profiles cost one row.

    For classes x, y: points = min(likes[x] . liked[y], the interest cap) + rows[x] . cols[y]
    + the sum over the rare features x says of heard[y, feature] (`_class_points`);
    a pair can meet when the classes' slot bits overlap ("any time" sets every bit).
    """

    members: list[int]  # positions in the seeded order
    cls: IntArray  # each member's class
    rows: FloatArray  # one row per class: goals, the newcomer flags and the asks and offers many
    cols: FloatArray  # classes hear (RARE_SAID), dense: a few dozen columns (see `_asks_and_offers`)
    heard: FloatArray  # one row per class: the points each other ask or offer feature scores against it
    rare_said: _Rare  # who says each of those features, and the same points as who hears them
    likes: FloatArray  # one row per class: its interests, POINTS_PER_SHARED_INTEREST each
    liked: FloatArray  # ... and as 0/1 (shared interests are counted up to a cap, see _class_points)
    interests: _Interests  # the same, split for scoring a row against every class
    slots: Bits  # availability bits per class: classes x words (see _slot_bits)
    ban_keys: IntArray  # forbidden pairs as sorted local keys low * size + high
    rng: np.random.Generator  # seeded per round, block and pass: breaks ties, draws among equals
    repeat_keys: IntArray  # pairs that met before (no repeat window), sorted local keys
    repeat_ago: IntArray  # ... and how many rounds ago, aligned with repeat_keys


@dataclass(frozen=True)
class _Interests:
    """A block's interests as `_class_points` reads them against every class: the common ones
    as dense products, the rare ones (held by fewer than RARE_INTEREST of the classes) added
    where they are held (see `_Rare`). The product's cost grows with the number of interests,
    the rare ones' with the pairs that share them: at 23,503 classes, 19 of 200 interests are
    common and the split takes 19 ms per 512 rows instead of 63 (bench/RESULTS.md).

    Classes that hold few interests need no cap, so their common interests and the block's
    other rows are one product (`joined`). Products are taken with their columns transposed
    (features x classes) and over only the features the rows at hand hold (see `_product`)."""

    likes: FloatArray  # common interests, POINTS_PER_SHARED_INTEREST each
    liked: FloatArray  # ... and as 0/1
    liked_t: FloatArray  # ... transposed
    rare: _Rare
    few: BoolArray  # per class: holds at most SHARED_INTERESTS_COUNTED interests, so the cap never binds
    bits: npt.NDArray[np.uint64]  # all interests, common and rare, as bits: words (64 interests each) x classes
    joined: FloatArray  # likes beside the block's rows
    joined_t: FloatArray  # liked beside the block's cols, transposed
    cols_t: FloatArray  # the block's cols alone, transposed
    pattern: IntArray  # the classes ordered by which features of `joined` they hold (see `_product`)

    @staticmethod
    def of(
        interests: FloatArray, where: tuple[IntArray, IntArray], rows: FloatArray, cols: FloatArray
    ) -> _Interests:
        """From the one-hot interests of a block's classes, where its ones are (by class), and
        the block's other rows and cols (see `_Block`)."""
        held = np.bincount(where[1], minlength=interests.shape[1])
        common = held >= RARE_INTEREST * len(interests) if len(interests) >= SPARSE_FROM else held >= 0
        liked = np.ascontiguousarray(interests[:, common])
        likes = liked * POINTS_PER_SHARED_INTEREST
        points = np.full(len(where[0]), POINTS_PER_SHARED_INTEREST, dtype=np.float32)
        rare = _Rare.of(len(interests), where, (*where, points), ~common)
        few = np.bincount(where[0], minlength=len(interests)) <= SHARED_INTERESTS_COUNTED
        joined = np.hstack([likes, rows])
        held_by = joined != 0
        rarest_first = np.argsort(held_by.sum(axis=0), kind="stable")[::-1]  # lexsort's last key leads
        return _Interests(
            likes=likes,
            liked=liked,
            liked_t=np.ascontiguousarray(liked.T),
            rare=rare,
            few=few,
            bits=_bits(len(interests), interests.shape[1], where),
            joined=joined,
            joined_t=np.ascontiguousarray(np.hstack([liked, cols]).T),
            cols_t=np.ascontiguousarray(cols.T),
            pattern=np.lexsort(held_by[:, rarest_first].T),
        )

    def shared(self, a: IntArray, b: IntArray) -> IntArray:
        """How many interests classes a[i] and b[i] share, for each i: a popcount of their bits,
        word by word (a seventh of the time of a sparse dot over what each holds, and a fifth of
        that of the same popcount on rows of words: numpy gathers and sums short rows slowly)."""
        found: IntArray = np.bitwise_count(self.bits[0][a] & self.bits[0][b]).astype(np.int64)
        for word in self.bits[1:]:
            found += np.bitwise_count(word[a] & word[b])
        return found


def _bits(count: int, width: int, where: tuple[IntArray, IntArray]) -> npt.NDArray[np.uint64]:
    """`count` rows of `width` flags, set where (row, column) says, as bits: words (64 columns
    each) x rows."""
    bits = np.zeros((max(1, -(-width // 64)), count), dtype=np.uint64)
    np.bitwise_or.at(bits, (where[1] // 64, where[0]), np.left_shift(np.uint64(1), (where[1] % 64).astype(np.uint64)))
    return bits


@dataclass(frozen=True)
class _Rare:
    """Features few of a block's classes hold, added to rows scored against every class one
    (row, holder) pair at a time: the cost follows the pairs that share such a feature, not the
    block's width times the number of features."""

    said: _Csr  # each class's rare features (renumbered among the rare ones)
    holders: _Csr  # each rare feature's classes, with the points it adds against each
    each: float | None  # the points every holder adds, where all add the same (interests): no gather

    @staticmethod
    def of(
        classes: int, said: tuple[IntArray, IntArray], heard: tuple[IntArray, IntArray, FloatArray], rare: BoolArray
    ) -> _Rare:
        """`said`: (class, feature) of what each class says, by class; `heard`: (class, feature,
        points) of each class a feature scores against; only the `rare` features are kept."""
        number = np.cumsum(rare) - 1
        keep = rare[said[1]]
        owner, owned = said[0][keep], number[said[1][keep]]
        keep_heard = rare[heard[1]]
        feature, holder, points = number[heard[1][keep_heard]], heard[0][keep_heard], heard[2][keep_heard]
        order = np.lexsort((holder, feature))
        return _Rare(
            said=(np.searchsorted(owner, np.arange(classes + 1)), owned, np.ones(len(owner), np.float32)),
            holders=(np.searchsorted(feature[order], np.arange(int(rare.sum()) + 1)), holder[order], points[order]),
            each=float(points[0]) if len(points) and bool((points == points[0]).all()) else None,
        )

    def add(self, points: FloatArray, mine: IntArray) -> None:
        """Add to `points` (rows: classes `mine`, columns: every class) what the rare features
        of each row score against their holders."""
        if not points.flags.c_contiguous:
            raise ValueError("points must be one contiguous array")  # added to through a flat view
        said_indptr, said, _ = self.said
        at, lengths = _expand(said_indptr, mine)
        row_start = np.repeat(np.arange(len(mine)) * points.shape[1], lengths)
        holders_indptr, holders, worth = self.holders
        at, lengths = _expand(holders_indptr, said[at])
        flat = np.repeat(row_start, lengths)
        flat += holders[at]
        adds = worth[at] if self.each is None else np.float32(self.each)
        np.add.at(points.reshape(-1), flat, adds)  # on a 1-d view: 3x faster than with (row, column)


def _expand(indptr: IntArray, rows: IntArray) -> tuple[IntArray, IntArray]:
    """Positions of the items of CSR rows `rows`, row after row, and how many each row has."""
    lengths = indptr[rows + 1] - indptr[rows]
    ends = np.cumsum(lengths)
    return np.repeat(indptr[rows] - ends + lengths, lengths) + np.arange(ends[-1] if len(ends) else 0), lengths


@dataclass(frozen=True)
class _Scratch:
    """Arrays for scoring and ranking a chunk of rows against a block, made once per block and
    overwritten chunk after chunk: a fresh array of 512 rows by 23,500 classes costs more in page
    faults than the arithmetic done on it (bench/RESULTS.md, Pairing)."""

    points: FloatArray
    spare: FloatArray  # a product on its way into `points`
    apart: BoolArray
    flag: BoolArray
    shared: Bits  # slot words in common (see `_disjoint`)

    @staticmethod
    def of(rows: int, width: int, slot_kind: npt.DTypeLike = np.int64) -> _Scratch:
        def floats() -> FloatArray:
            return np.empty((rows, width), dtype=np.float32)

        def flags() -> BoolArray:
            return np.empty((rows, width), dtype=np.bool_)

        return _Scratch(floats(), floats(), flags(), flags(), np.empty((rows, width), dtype=slot_kind))

    def view(self, rows: int) -> _Scratch:
        """The first `rows` rows of each array: a shorter last chunk."""
        return _Scratch(self.points[:rows], self.spare[:rows], self.apart[:rows],
                        self.flag[:rows], self.shared[:rows])


_GOAL_MATRIX = np.zeros((len(GOALS), len(GOALS)), dtype=np.float32)
for (_x, _y), _points in GOAL_POINTS.items():
    _GOAL_MATRIX[GOALS.index(_x), GOALS.index(_y)] = _points
    _GOAL_MATRIX[GOALS.index(_y), GOALS.index(_x)] = _points
_BITS_PER_WORD = 63  # int64 without its sign bit


def _slot_bits(found: Sequence[Profile]) -> Bits:
    """Each class's availability as bits over the keys the block uses (named slots, or the
    real-time keys of virtual members), 63 keys a word: one word unless a block of virtual
    members spans many zones. "Any time" (no availability) sets every bit."""
    keys = {key: at for at, key in enumerate(sorted(frozenset().union(*(p.availability for p in found))))}
    width = max(1, -(-len(keys) // _BITS_PER_WORD))
    word = (1 << _BITS_PER_WORD) - 1
    masks = [sum(1 << keys[key] for key in p.availability) if p.availability else -1 for p in found]
    if width == 1:  # as narrow a word as the keys allow: the slot test reads it for every pair of the block
        kinds: tuple[type[np.integer[Any]], ...] = (np.int8, np.int16, np.int32, np.int64)
        narrow = next(kind for kind in kinds if np.iinfo(kind).bits > len(keys))
        return np.array(masks, dtype=narrow).reshape(len(found), 1)
    bits = [[(mask >> (_BITS_PER_WORD * at)) & word for at in range(width)] for mask in masks]
    return np.array(bits, dtype=np.int64).reshape(len(found), width)


def _disjoint(mine: Bits, theirs: Bits, scratch: _Scratch | None = None) -> BoolArray:
    """Rows `mine` against rows `theirs` of `_slot_bits`: True where no key is shared."""
    shared = np.bitwise_and(mine[:, None, 0], theirs[None, :, 0], out=None if scratch is None else scratch.shared)
    for at in range(1, mine.shape[1]):
        shared |= mine[:, None, at] & theirs[None, :, at]
    apart: BoolArray = np.equal(shared, 0, out=None if scratch is None else scratch.apart)
    return apart


def _where(rows: Sequence[frozenset[str]], columns: Sequence[str]) -> tuple[IntArray, IntArray]:
    """(row, column) of each item of each row that is one of `columns`: a one-hot matrix's ones."""
    index = {item: col for col, item in enumerate(columns)}
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    items = itertools.chain.from_iterable(rows)
    at = np.fromiter(map(index.get, items, itertools.repeat(-1)), dtype=np.int64, count=int(lengths.sum()))
    row = np.repeat(np.arange(len(rows)), lengths)
    known = at >= 0
    return row[known], at[known]


def _one_hot(rows: Sequence[frozenset[str]], columns: Sequence[str] | None = None) -> FloatArray:
    return _one_hot_at(rows, columns)[0]


def _one_hot_at(
    rows: Sequence[frozenset[str]], columns: Sequence[str] | None = None
) -> tuple[FloatArray, tuple[IntArray, IntArray]]:
    """A one-hot matrix (columns: every item of the rows, sorted, unless given) and where its ones are."""
    columns = sorted(frozenset().union(*rows)) if columns is None else columns
    matrix = np.zeros((len(rows), max(1, len(columns))), dtype=np.float32)
    ones = _where(rows, columns)
    matrix[ones] = 1.0
    return matrix, ones


@functools.lru_cache(maxsize=65536)
def _features(said: tuple[frozenset[str], frozenset[str]]) -> frozenset[str]:
    """An ask or offer (see `_said`) as the columns it can score on: its phrases and words."""
    keys, content_words = said
    return frozenset(["p:" + key for key in keys] + ["w:" + word for word in content_words])  # 1.6 us, not 2.4


def _encode(
    people: list[Profile],
    members: list[int],
    banned: IntArray,
    seed: int | Sequence[int] = 0,
    repeated: IntArray | None = None,
) -> _Block:
    classes: dict[tuple[object, ...], int] = {}
    mine = [people[position] for position in members]
    numbers = [
        classes.setdefault(
            (p.interests, p.goals, _said(p.asks), _said(p.offers), is_newcomer(p), is_well_connected(p),
             p.availability, sit_out_level(p)),
            len(classes),
        )
        for p in mine
    ]
    cls = np.array(numbers, dtype=np.int64).reshape(len(members))
    found = [mine[at] for at in np.unique(cls, return_index=True)[1].tolist()]  # classes number by first member
    interests, ones = _one_hot_at([p.interests for p in found])
    goals = _one_hot([p.goals for p in found], GOALS)
    newcomer = np.fromiter(map(is_newcomer, found), dtype=np.float32, count=len(found)).reshape(-1, 1)
    connected = np.fromiter(map(is_well_connected, found), dtype=np.float32, count=len(found)).reshape(-1, 1)
    said, heard_from, heard, rare_said = _asks_and_offers(found)
    rows = np.hstack([goals @ _GOAL_MATRIX, newcomer * NEWCOMER_POINTS, connected * NEWCOMER_POINTS, said])
    cols = np.hstack([goals, connected, newcomer, heard_from])
    slots = _slot_bits(found)
    local = np.full(len(people), -1, dtype=np.int64)
    local[members] = np.arange(len(members))
    ban_rows, ban_cols = local[banned[0]], local[banned[1]]
    inside = (ban_rows >= 0) & (ban_cols >= 0) & (ban_rows < ban_cols)
    return _Block(
        members=members,
        cls=cls,
        rows=rows,
        cols=cols,
        heard=heard,
        rare_said=rare_said,
        likes=interests * POINTS_PER_SHARED_INTEREST,
        liked=interests,
        interests=_Interests.of(interests, ones, rows, cols),
        slots=slots,
        ban_keys=np.unique(ban_rows[inside] * len(members) + ban_cols[inside]),
        rng=np.random.default_rng(seed),
        **_repeats(local, len(members), repeated),
    )


def _asks_and_offers(found: list[Profile]) -> tuple[FloatArray, FloatArray, FloatArray, _Rare]:
    """What a block's classes ask and offer, as `_Block` reads it: the features many classes
    hear (RARE_SAID) as dense columns of `rows` (who says them) and `cols` (their points against
    each class), one product with the goals; the rest as `heard` and `rare_said`. Built
    from where the ones are, never as dense class x feature matrices (tens of megabytes at 20,000
    classes).

    An ask meets an offer by phrase and by word: one feature per normalised phrase, worth
    ASK_PHRASE_POINTS, and one per content word, worth POINTS_PER_ASK_WORD. Only what someone
    asks and someone offers can score: the rest would only cost rows. Feature f < F is asking
    column f, heard from those who offer it; F + f is offering it, heard from those who ask it."""
    classes = len(found)
    features = [_features(_said(p.asks)) for p in found] + [_features(_said(p.offers)) for p in found]
    columns = sorted(frozenset().union(*features[:classes]) & frozenset().union(*features[classes:]))
    worth = np.array([ASK_PHRASE_POINTS if c.startswith("p:") else POINTS_PER_ASK_WORD for c in columns],
                     dtype=np.float32)
    row, column = _where(features, columns)
    offering = row >= classes  # rows past the classes are their offers
    number, feature = row % classes, column + len(columns) * offering
    order = np.lexsort((feature, number))
    said_at = number[order], feature[order]  # (class, feature), by class
    heard_at = number, column + len(columns) * ~offering, worth[column]  # (class, feature, points)
    common = np.bincount(heard_at[1], minlength=2 * len(columns)) >= RARE_SAID * classes
    said, heard_from = np.zeros((2, classes, int(common.sum())), dtype=np.float32)
    at = np.cumsum(common) - 1  # each common feature's column
    keep = common[said_at[1]]
    said[said_at[0][keep], at[said_at[1][keep]]] = 1.0
    keep = common[heard_at[1]]
    heard_from[heard_at[0][keep], at[heard_at[1][keep]]] = heard_at[2][keep]
    rare = ~common
    at = np.cumsum(rare) - 1  # each rare feature's row
    heard = np.zeros((classes, int(rare.sum())), dtype=np.float32)
    keep = rare[heard_at[1]]
    heard[heard_at[0][keep], at[heard_at[1][keep]]] = heard_at[2][keep]
    return said, heard_from, heard, _Rare.of(classes, said_at, heard_at, rare)


def _repeats(local: IntArray, size: int, repeated: IntArray | None) -> dict[str, IntArray]:
    """Pairs of the block that met before, as sorted local keys with their rounds ago."""
    if repeated is None or not repeated.shape[1]:
        return {"repeat_keys": np.zeros(0, np.int64), "repeat_ago": np.zeros(0, np.int64)}
    first, second = local[repeated[0]], local[repeated[1]]
    inside = (first >= 0) & (second >= 0)
    keys = np.minimum(first, second)[inside] * size + np.maximum(first, second)[inside]
    order = np.argsort(keys)
    return {"repeat_keys": keys[order], "repeat_ago": repeated[2][inside][order]}


def _values(block: _Block, u: IntArray, v: IntArray, points: IntArray) -> IntArray:
    """What the matching maximises after pairing people: without a repeat window, new pairs
    over repeats, then repeats that met longest ago (up to AGO_CAP rounds), then points."""
    if not len(block.repeat_keys) or not len(u):
        return points
    keys = u * len(block.members) + v
    at = np.minimum(np.searchsorted(block.repeat_keys, keys), len(block.repeat_keys) - 1)
    repeat = block.repeat_keys[at] == keys
    if not repeat.any():
        return points
    per_round = int(points.max()) + 1
    per_new = per_round * (AGO_CAP + 1) * (len(block.members) // 2 + 1)  # more than any repeats can add
    ago = np.minimum(block.repeat_ago[at], AGO_CAP)
    values: IntArray = points + np.where(repeat, per_round * ago, per_new)
    return values


def _repeated_positions(
    people: list[Profile], history: History, position: Mapping[str, int] | None = None
) -> IntArray:
    """Pairs that met before as positions in the seeded order with their rounds ago: 3 x m.
    `position`: each member's position, when the caller has it (see `_position_of`)."""
    pairs = [pair for pair in history.recent_pairs if len(pair) == 2]
    ends = _positions(_position_of(people) if position is None else position, pairs)
    rounds_ago = np.fromiter(map(history.recent_pairs.__getitem__, pairs), dtype=np.int64, count=len(pairs))
    inside = (ends >= 0).all(axis=0)
    return np.vstack([ends[:, inside], rounds_ago[inside]])


def _banned_positions(
    people: list[Profile], forbidden: Iterable[frozenset[str]], position: Mapping[str, int] | None = None
) -> IntArray:
    """Forbidden pairs as positions in the seeded order: a 2 x m array, both directions."""
    pairs = [pair for pair in forbidden if len(pair) == 2]
    ends = _positions(_position_of(people) if position is None else position, pairs)
    ends = ends[:, (ends >= 0).all(axis=0)]
    return np.hstack([ends, ends[::-1]])


def _position_of(people: Sequence[Profile]) -> dict[str, int]:
    """Each member's position in `people`, by id."""
    return dict(zip(map(operator.attrgetter("member_id"), people), itertools.count()))


def _positions(position: Mapping[str, int], pairs: list[frozenset[str]]) -> IntArray:
    """Both members of each pair as positions (-1 for one not in the round): 2 x m. A round reads
    a history of hundreds of thousands of pairs, so nothing here loops per pair in Python."""
    ids = itertools.chain.from_iterable(pairs)
    found = np.fromiter(map(position.get, ids, itertools.repeat(-1)), dtype=np.int64, count=2 * len(pairs))
    return found.reshape(-1, 2).T


def _score_rows(block: _Block, start: int, stop: int) -> FloatArray:
    """Points of members start:stop against every member of the block; -1 where infeasible."""
    mine, everyone = block.cls[start:stop], block.cls
    points = (
        _class_points(block, slice(None), slice(None))[mine][:, everyone]
        if len(block.rows) < 2048
        else _class_points(block, mine, everyone)
    )
    np.putmask(points, _disjoint(block.slots[mine], block.slots[everyone]), np.float32(-1.0))
    local_rows = np.arange(stop - start)
    points[local_rows, local_rows + start] = -1.0
    size = len(block.members)
    low, high = np.searchsorted(block.ban_keys, [start * size, stop * size])
    keys = block.ban_keys[low:high]
    points[keys // size - start, keys % size] = -1.0
    keys = block.ban_keys[(block.ban_keys % size >= start) & (block.ban_keys % size < stop)]
    points[keys % size - start, keys // size] = -1.0
    return points


def _class_points(
    block: _Block,
    mine: IntArray | slice,
    theirs: IntArray | slice,
    scratch: _Scratch | None = None,
    capped: bool = True,
    priced: _Priced | None = None,
) -> FloatArray:
    """Points of classes `mine` (rows) against classes `theirs` (columns): shared interests,
    counted up to SHARED_INTERESTS_COUNTED (against every class, the rare ones are added where
    held, see `_Interests`), then goals, flags and the asks met by offers that many classes hear
    (one dot product), then the rarer asks met by offers (see `_add_said`). Against every class
    and not `capped`, every shared interest counts: `_Overstated` says by how much that is more."""
    numbers = np.arange(len(block.rows))[mine]
    if isinstance(theirs, slice) and theirs == slice(None):
        points = _joined(block, numbers, scratch, capped, priced)
    else:
        points = block.likes[mine] @ block.liked[theirs].T
        np.minimum(points, np.float32(_INTEREST_CAP), out=points)
        points += block.rows[mine] @ block.cols[theirs].T
    _add_said(block, points, numbers, theirs)
    return points


def _joined(
    block: _Block, numbers: IntArray, scratch: _Scratch | None, capped: bool = True, priced: _Priced | None = None
) -> FloatArray:
    """Points of classes `numbers` against every class before the rare asks and offers. The
    leading rows whose classes hold few interests (`_Interests.few`) need no cap, so their
    interests and the rest are one product, cheaper than two products, the cap and their
    sum (bench/RESULTS.md); the other rows take those four steps, unless not `capped`.
    `priced`: the partners' prices and a tie-breaker ride in the products (see `_Priced`)."""
    interests = block.interests
    joined, joined_t, rows, cols_t = (
        (interests.joined, interests.joined_t, block.rows, interests.cols_t) if priced is None
        else (priced.joined, priced.joined_t, priced.rows, priced.cols_t)
    )
    few = interests.few[numbers]
    lead = len(few) if few.all() or not capped else int(np.argmin(few))
    width = len(block.rows)
    points = scratch.points if scratch is not None else np.empty((len(numbers), width), dtype=np.float32)
    _product(joined[numbers[:lead]], joined_t, points[:lead])
    many, rest = points[lead:], numbers[lead:]
    _product(interests.likes[rest], interests.liked_t, many)
    interests.rare.add(points, numbers)
    if len(rest):
        np.minimum(many, np.float32(_INTEREST_CAP), out=many)
        spare = scratch.spare[lead:] if scratch is not None else np.empty_like(many)
        many += _product(rows[rest], cols_t, spare)
    return points


@dataclass(frozen=True)
class _Priced:
    """A block's products with reduced points riding in them: each class holds TIE_FEATURES
    random features and a one, each partner the same number of its own and minus its price, so
    a product gives points minus the partner's price plus a tie-breaker (a dot product of
    unit vectors, at most TIE_WIDTH either way: below the half point that separates reduced
    points). Each class's best tied partners are those whose direction lies nearest its own:
    as even a spread as a draw per pair, with no pass over the ranking to add one."""

    joined: FloatArray
    joined_t: FloatArray
    rows: FloatArray
    cols_t: FloatArray
    mine: FloatArray  # per class: its tie features
    theirs_t: FloatArray  # per partner: its tie features, transposed
    price: FloatArray

    @staticmethod
    def of(block: _Block, price: FloatArray, rng: np.random.Generator) -> _Priced:
        def directions() -> FloatArray:
            drawn = rng.standard_normal((len(block.rows), TIE_FEATURES)).astype(np.float32)
            drawn /= np.linalg.norm(drawn, axis=1, keepdims=True)
            return drawn

        mine = directions() * np.float32(TIE_WIDTH)
        theirs_t = np.ascontiguousarray(directions().T)
        ones = np.ones((len(block.rows), 1), dtype=np.float32)
        below = np.vstack([theirs_t, -price[None, :]])
        interests = block.interests
        return _Priced(
            joined=np.hstack([interests.joined, mine, ones]),
            joined_t=np.vstack([interests.joined_t, below]),
            rows=np.hstack([block.rows, mine, ones]),
            cols_t=np.vstack([interests.cols_t, below]),
            mine=mine,
            theirs_t=theirs_t,
            price=price,
        )

    def added(self, mine: IntArray, top: IntArray) -> FloatArray:
        """What the ranking adds to the points of classes `mine` (rows) against classes `top`
        (each row's own columns): the tie-breaker less the price."""
        ties = np.einsum("rf,frk->rk", self.mine[mine], self.theirs_t[:, top])
        found: FloatArray = ties - self.price[top]
        return found


def _product(rows: FloatArray, columns_t: FloatArray, out: FloatArray) -> FloatArray:
    """rows @ columns_t into `out`, over only the features some of the rows hold. Rows are
    profile classes, mostly zeros; chunks of classes taken in `_Interests.pattern` order hold
    about 32 of the 51 features of the largest 100,000 block, and the product costs 16 ms per
    512 rows instead of 25 (bench/RESULTS.md)."""
    used = np.flatnonzero(rows.any(axis=0))
    product: FloatArray = np.matmul(rows[:, used], columns_t[used], out=out)
    return product


def _add_said(block: _Block, points: FloatArray, mine: IntArray, theirs: IntArray | slice) -> None:
    """Add to `points` (rows `mine`) what their rare asks and offers (see `_asks_and_offers`)
    score against classes `theirs`: against every class, where they are heard (`_Rare`);
    against a few, each row's first feature, then its second, and so on, a row of `heard` each."""
    if isinstance(theirs, slice) and theirs == slice(None):
        block.rare_said.add(points, mine)
        return
    indptr, features, _ = block.rare_said.said
    at, lengths = _expand(indptr, mine)
    row = np.repeat(np.arange(len(mine)), lengths)
    nth = np.arange(len(at)) - np.repeat(np.cumsum(lengths) - lengths, lengths)  # each feature's place in its row
    against = np.ascontiguousarray(block.heard[theirs].T)  # per feature: its points against each of `theirs`
    for place in range(int(lengths.max(initial=0))):  # a row at most once per place: no index repeats
        taken = nth == place
        points[row[taken]] += against[features[at[taken]]]


def _pair_points(block: _Block, u: IntArray, v: IntArray) -> IntArray:
    """Exact points of the pairs (u, v), from each class row's non-zero features only (shared
    interests capped, as `_class_points`)."""
    a, b = block.cls[u], block.cls[v]
    shared = block.interests.shared(a, b) * POINTS_PER_SHARED_INTEREST
    said = _sparse_dot(block.rare_said.said, block.heard, a, b)
    return np.minimum(shared, _INTEREST_CAP) + _sparse_dot(_nonzeros(block.rows), block.cols, a, b) + said


def _sparse_dot(sparse: _Csr, cols: FloatArray, us_all: IntArray, vs_all: IntArray) -> IntArray:
    """rows[us_all[i]] . cols[vs_all[i]] for each i, as integers, from the rows' non-zeros only."""
    indptr, features, weights = sparse
    points = np.zeros(len(us_all), dtype=np.int64)
    for start in range(0, len(us_all), SCORE_CHUNK):
        us, vs = us_all[start : start + SCORE_CHUNK], vs_all[start : start + SCORE_CHUNK]
        at, lengths = _expand(indptr, us)
        hits = cols[np.repeat(vs, lengths), features[at]] * weights[at]
        owner = np.repeat(np.arange(len(us)), lengths)
        points[start : start + len(us)] = np.rint(np.bincount(owner, weights=hits, minlength=len(us)))
    return points


def _candidate_edges(
    block: _Block, priority: IntArray, price: FloatArray | None = None
) -> tuple[IntArray, IntArray, IntArray]:
    """Undirected edges (local ids u < v, points) of the block's candidate graph.

    Blocks up to ALL_PAIRS_LIMIT keep every feasible pair. Bigger ones score every pair of
    profile classes (BLAS, in row chunks) and each member keeps its best TOP_K members
    (SAT_OUT_TOP_K for whoever sat out last time): classes in order of full integer points,
    ties between classes broken by a seeded tie-breaker below half a point, and members drawn at
    random inside the last class it reaches, so equal scores spread over the block instead
    of every member naming the same few.
    """
    size = len(block.members)
    if size <= ALL_PAIRS_LIMIT:
        every = _score_rows(block, 0, size)
        low, high = np.nonzero(every >= 0)
        keep = high > low
        return low[keep].astype(np.int64), high[keep].astype(np.int64), every[low[keep], high[keep]].astype(np.int64)
    rows, cols, points = _class_candidates(block, priority, price)
    ok = rows != cols
    rows, cols, points = rows[ok], cols[ok], points[ok]
    u, v, points = _each_pair_once(np.minimum(rows, cols) * size + np.maximum(rows, cols), points, size)
    keys = u * size + v  # sorted: the forbidden pairs are looked up in them (np.isin sorted both, 5x slower)
    at = np.searchsorted(keys, block.ban_keys)
    listed = at < len(keys)
    forbidden = at[listed][keys[at[listed]] == block.ban_keys[listed]]
    keep = np.ones(len(keys), dtype=np.bool_)
    keep[forbidden] = False
    return u[keep], v[keep], points[keep]


def _each_pair_once(keys: IntArray, points: IntArray, size: int) -> tuple[IntArray, IntArray, IntArray]:
    """(u, v, points) of each pair once, from pair keys u * size + v (u < v) listed by both
    members, with the same points either way (the score is symmetric). One sort of the keys
    with the points in their low bits: a third of the time of np.unique's return_index."""
    low = int(points.min(initial=0))
    bits = max(1, (int(points.max(initial=0)) - low).bit_length())
    if (size * size).bit_length() + bits > 63:
        unique, first = np.unique(keys, return_index=True)
        return unique // size, unique % size, points[first]
    both = np.sort((keys << bits) | (points - low))
    pair = both >> bits
    first = np.ones(len(pair), dtype=np.bool_)
    np.not_equal(pair[1:], pair[:-1], out=first[1:])
    pair = pair[first]
    return pair // size, pair % size, (both[first] & ((1 << bits) - 1)) + low


def _opportunity(block: _Block, sizes: IntArray, rng: np.random.Generator) -> FloatArray:
    """Half of what each class could score elsewhere: from its points against a random sample
    of classes, about its m-th best partner overall for a class of m members. An estimate of the
    matching's dual prices: ranking partners by points minus their price puts the pairs an
    optimum uses first, and lets members with little to offer find each other instead of all
    naming the same sought-after few."""
    classes = len(block.rows)
    sample = np.sort(rng.choice(classes, size=min(classes, OPPORTUNITY_SAMPLE), replace=False))
    price = np.zeros(classes, dtype=np.float32)
    for start in range(0, classes, PRICE_ROWS):
        stop = min(classes, start + PRICE_ROWS)
        points = _class_points(block, slice(start, stop), sample)
        np.putmask(points, _disjoint(block.slots[start:stop], block.slots[sample]), np.float32(0.0))
        # a class of m members competes for its m best partners: price it at about its m-th best
        rank = np.minimum(len(sample) - 1, sizes[start:stop] * len(sample) // len(block.members))
        found = points.max(axis=1)  # most classes hold one member: their best
        bigger = np.flatnonzero(rank > 0)
        found[bigger] = -np.sort(-points[bigger], axis=1)[np.arange(len(bigger)), rank[bigger]]
        price[start:stop] = np.float32(0.5) * found
    return price


def _class_candidates(
    block: _Block, priority: IntArray, price: FloatArray | None = None
) -> tuple[IntArray, IntArray, IntArray]:
    """Directed candidates (member, member, points): each member's best TOP_K, by class.

    Partner classes are ranked by reduced points: points minus the partner's price (see
    `_opportunity`), ties by a seeded tie-breaker (see `_Priced`). (Ranking partners who score
    before those who do not, as a tier of its own, changed no bench plan by more than 0.03%
    either way and took a fifth of the ranking's time, bench/RESULTS.md.)
    The members of one class want the same partners, so they share them out: the class takes
    a prefix of its ranking holding enough members for each of its members to list TOP_K with
    every partner listed about SHARE times, and each member draws its TOP_K at random from it.
    A class of one keeps exactly its best TOP_K; a big class of blank or identical profiles
    spreads over the block instead of naming the same few members.
    """
    rng = block.rng
    classes, size = len(block.rows), len(block.members)
    sizes = np.bincount(block.cls, minlength=classes)
    order = np.argsort(block.cls, kind="stable")  # members grouped by class
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    wanted = np.where(priority[order[offsets[:-1]]] > 0, SAT_OUT_TOP_K, TOP_K)  # per member of each class
    need = np.clip(-(-sizes * wanted // SHARE), wanted, max(1, size - 1))  # members in the class's prefix
    price = _opportunity(block, sizes, rng) if price is None else price
    found: list[tuple[IntArray, ...]] = []
    # by need: a big class's long ranking is not forced on its whole chunk; then by pattern (see `_product`)
    pattern = block.interests.pattern
    by_need = pattern[np.argsort(need[pattern], kind="stable")]
    priced = _Priced.of(block, price, rng)
    scratch = _Scratch.of(min(classes, CHUNK_ROWS), classes, block.slots.dtype)
    few = block.interests.few
    for start in range(0, classes, CHUNK_ROWS):
        mine_c = by_need[start : start + CHUNK_ROWS]
        mine_c = mine_c[np.argsort(~few[mine_c], kind="stable")]  # few interests first: see `_joined`
        reach = min(classes, int(need[mine_c].max()) + 1)  # a class holds >= 1 member: enough classes
        top, scores = _dense_top(block, mine_c, sizes, priced, reach, scratch)
        found.append(_share_out(mine_c, top, scores, sizes, need, wanted, offsets, size, rng))
    member, partner, points_of = (np.concatenate(part) for part in zip(*found, strict=True))
    return order[member], order[partner], points_of


def _dense_top(
    block: _Block, mine_c: IntArray, sizes: IntArray, priced: _Priced, reach: int, scratch: _Scratch
) -> tuple[IntArray, IntArray]:
    """The best `reach` partner classes of classes `mine_c` by reduced points (points minus
    each partner's price, with a tie-breaker: see `_Priced`), against every class:
    feasible partners first, then the rest (points -1). A wide ranking is scored with every
    shared interest counted, one product for all its rows, and only what passes its cut is
    brought down to the cap (see `_best`, `_Overstated`)."""
    scratch = scratch.view(len(mine_c))
    capped = not _skims(len(block.rows), reach)
    rank = _class_points(block, mine_c, slice(None), scratch, capped, priced)
    # nobody meets themselves: a class of one does not list itself
    apart = _Apart(block.slots[mine_c], block.slots, np.where(sizes[mine_c] == 1, mine_c, -1))
    over = None if capped else _Overstated(block, mine_c)
    top, ranked = _best(rank, reach, apart, scratch, over)
    found = np.rint(ranked - priced.added(mine_c, top)).astype(np.int64)  # points are integers
    rows = np.repeat(np.arange(len(mine_c)), reach)
    found[apart.at(rows, top.ravel()).reshape(top.shape)] = -1
    return top, found


@dataclass(frozen=True)
class _Overstated:
    """By how much points with every shared interest counted (`_class_points`, not capped)
    overstate the points of classes `mine` (rows) against others: the shared interests beyond
    SHARED_INTERESTS_COUNTED, nothing where either class holds no more than that many."""

    block: _Block
    mine: IntArray

    def at(self, rows: IntArray, columns: IntArray) -> FloatArray:
        """Row rows[i] against class columns[i], for each i."""
        shared = self.block.interests.shared(self.mine[rows], columns) * POINTS_PER_SHARED_INTEREST
        over: FloatArray = np.maximum(shared - _INTEREST_CAP, 0).astype(np.float32)
        return over

    def rows(self, rows: IntArray) -> FloatArray:
        """Rows `rows` against every class, as a matrix."""
        shared = self.block.likes[self.mine[rows]] @ self.block.liked.T
        over: FloatArray = np.maximum(shared - np.float32(_INTEREST_CAP), 0)
        return over


@dataclass(frozen=True)
class _Apart:
    """Which partners the rows of a chunk cannot meet: those with no slot in common (see
    `_slot_bits`), and a row's own class where it is that class's only member."""

    mine: Bits  # the rows' slot bits
    theirs: Bits  # every class's
    own: IntArray  # per row: the class it cannot list, or -1

    def rows(self, rows: IntArray | slice, scratch: _Scratch | None = None) -> BoolArray:
        """Rows `rows` against every class, as a matrix."""
        apart = _disjoint(self.mine[rows], self.theirs, scratch)
        own = self.own[rows]
        at = np.flatnonzero(own >= 0)
        apart[at, own[at]] = True
        return apart

    def first(self, count: int) -> BoolArray:
        """Every row against the first `count` classes, by slots alone: for an estimate."""
        return _disjoint(self.mine, self.theirs[:count])

    def at(self, rows: IntArray, columns: IntArray) -> BoolArray:
        """Row rows[i] against column columns[i], for each i."""
        apart: BoolArray = np.logical_not((self.mine[rows] & self.theirs[columns]).any(axis=1))
        apart |= columns == self.own[rows]
        return apart


def _last(rank: FloatArray, apart: BoolArray, scratch: _Scratch | None = None) -> FloatArray:
    """`rank` (reduced points with their tie-breaker, see `_dense_top`) with the pairs `apart`
    (no common slot) moved after all others, in place."""
    rank -= np.multiply(apart, np.float32(APART), out=None if scratch is None else scratch.spare[: len(rank)])
    return rank  # a product: a masked add costs ten times more


def _skims(width: int, reach: int) -> bool:
    """Whether `_best` cuts rankings this wide at a threshold before sorting (see there)."""
    return width >= max(SKIM_FROM, 2 * SKIM * (reach + SKIM_MARGIN))


def _best(
    rank: FloatArray,
    reach: int,
    apart: _Apart | None = None,
    scratch: _Scratch | None = None,
    over: _Overstated | None = None,
) -> tuple[IntArray, FloatArray]:
    """Columns of each row's `reach` largest values, largest first, pairs `apart` last, and
    those values (lowered by `over` where given; less APART for pairs `apart`). A wide
    row is cut first at a threshold read from its first 1/SKIM columns (the classes are in
    seeded random order), so only the few values above it are sorted, and only they are tested for a
    common slot; a row the cut leaves short is partitioned whole. Narrower rankings are
    partitioned whole. `scratch`, for rank's shape, takes the cut and tests.

    `over`, for a wide ranking, says by how much `rank` overstates values: only those that pass
    the cut are lowered, and those it leaves below the cut dropped. A row that keeps `reach`
    is exact (what did not pass was below the cut before lowering); one left short is lowered whole."""
    count, width = rank.shape
    if not _skims(width, reach):
        if over is not None:
            raise ValueError("only a wide ranking is lowered after its cut")
        ranked = rank if apart is None else _last(rank, apart.rows(slice(None), scratch), scratch)
        top = _partition_rows(ranked, reach)
        return top, np.take_along_axis(ranked, top, axis=1)
    sample = rank[:, : width // SKIM]  # a prefix, not every SKIM-th column: a strided read costs 5x more
    if apart is not None:
        sample = _last(sample.copy(), apart.first(sample.shape[1]))
    above = reach // SKIM + SKIM_MARGIN  # about SKIM times this many feasible values lie above the cut
    cut = _at_most_kth(sample, above)
    flag = None if scratch is None else scratch.flag
    passed = np.flatnonzero(np.greater_equal(rank, cut[:, None], out=flag))  # flat: a 2-d nonzero costs 9x more
    rows, cols = np.divmod(passed, width)
    if apart is not None:
        can_meet = ~apart.at(rows, cols)
        rows, cols = rows[can_meet], cols[can_meet]
    values = rank[rows, cols]
    if over is not None:
        values -= over.at(rows, cols)
        still = values >= cut[rows]
        rows, cols, values = rows[still], cols[still], values[still]
    order = _by_row_then_value(rows, values)
    rows, cols, values = rows[order], cols[order], values[order]
    place = np.arange(len(rows)) - np.searchsorted(rows, np.arange(count))[rows]
    keep = place < reach
    found = np.full((count, reach), -1, dtype=np.int64)
    found[rows[keep], place[keep]] = cols[keep]
    ranked = np.empty((count, reach), dtype=np.float32)
    ranked[rows[keep], place[keep]] = values[keep]
    short = np.flatnonzero(found[:, -1] < 0)
    if len(short):
        whole = rank[short] if over is None else rank[short] - over.rows(short)
        whole = whole if apart is None else _last(whole, apart.rows(short))
        found[short] = _partition_rows(whole, reach)
        ranked[short] = np.take_along_axis(whole, found[short], axis=1)
    return found, ranked


def _at_most_kth(values: FloatArray, k: int) -> FloatArray:
    """Per row, a value at most its k-th largest and seldom much below: the k-th largest of
    the row folded onto itself FOLDS times (each column the larger of its own and one of the
    other half's). Folded values are some of the row's, so at least k of the row are as high;
    a partition of the folded row costs an eighth of one of the whole row (bench/RESULTS.md)."""
    for _ in range(FOLDS):
        half = values.shape[1] // 2
        if half < 4 * k:
            break
        folded = np.maximum(values[:, :half], values[:, half : 2 * half])
        if values.shape[1] % 2:  # the odd column out stays a candidate
            folded[:, 0] = np.maximum(folded[:, 0], values[:, -1])
        values = folded
    found: FloatArray = np.partition(values, values.shape[1] - k, axis=1)[:, values.shape[1] - k]
    return found


def _by_row_then_value(rows: IntArray, values: FloatArray) -> IntArray:
    """The order np.lexsort((-values, rows)) gives (rows ascending, each row's float32 values
    descending, ties as they stand) from one sort of 64-bit keys: row, value read as an
    order-keeping integer, position. A third of the lexsort's time or less (bench/RESULTS.md)."""
    at_bits = max(1, (len(rows) - 1).bit_length())
    if int(rows.max(initial=0)).bit_length() + 32 + at_bits > 64:
        fallback: IntArray = np.lexsort((-values, rows))
        return fallback
    bits = (-values + np.float32(0.0)).view(np.uint32).astype(np.uint64)  # + 0.0: -0.0 sorts as 0.0, as it compares
    ordered = np.where(bits >> np.uint64(31), bits ^ np.uint64(0xFFFFFFFF), bits | np.uint64(0x80000000))
    key = rows.astype(np.uint64) << np.uint64(32 + at_bits)
    key |= ordered << np.uint64(at_bits)
    key |= np.arange(len(rows), dtype=np.uint64)
    key.sort()  # the keys are distinct (their positions): sorting them is argsorting, at two thirds of the time
    order: IntArray = (key & np.uint64((1 << at_bits) - 1)).astype(np.int64)
    return order


def _partition_rows(rank: FloatArray, reach: int) -> IntArray:
    top = np.argpartition(-rank, reach - 1, axis=1)[:, :reach]
    found: IntArray = np.take_along_axis(top, np.argsort(-np.take_along_axis(rank, top, axis=1), axis=1), axis=1)
    return found


def _share_out(
    mine_c: IntArray,
    top: IntArray,
    scores: IntArray,
    sizes: IntArray,
    need: IntArray,
    wanted: IntArray,
    offsets: IntArray,
    size: int,
    rng: np.random.Generator,
) -> tuple[IntArray, IntArray, IntArray]:
    """Members of classes `mine_c` list partners from their classes' rankings `top` (see
    `_class_candidates`): (member, partner, points) as positions in the class-grouped order."""
    reach = top.shape[1]
    own = np.arange(len(mine_c))
    counts = sizes[top] - (top == mine_c[:, None])  # nobody meets themselves
    counts[scores < 0] = 0
    cum = np.cumsum(counts, axis=1)
    prefix = np.minimum(need[mine_c], cum[:, -1])
    listed = np.minimum(wanted[mine_c], prefix)
    per_row = sizes[mine_c] * listed
    ends = np.cumsum(per_row)
    step = np.arange(int(ends[-1]) if len(ends) else 0) - np.repeat(ends - per_row, per_row)
    row = np.repeat(own, per_row)
    q, t = step // listed[row], step % listed[row]
    crowded = listed[row] < prefix[row]  # more partners than the member lists: draw among them
    position = np.where(crowded, (rng.random(len(t)) * prefix[row]).astype(np.int64), t)
    flat = (cum + (own * (size + 1))[:, None]).ravel()
    column = np.searchsorted(flat, position + row * (size + 1), side="right") - row * reach
    theirs = top[row, column]
    within = position - (cum[row, column] - counts[row, column])
    mine = mine_c[row]
    within += (theirs == mine) & (within >= q)  # listing one's own class: skip oneself
    return offsets[mine] + q, offsets[theirs] + within, scores[row, column]


# ---------------------------------------------------------------- matching


def _priority(people: list[Profile], members: Sequence[int]) -> IntArray:
    """Each member's sit-out level above the block's lowest: 0 for whoever sat out least lately."""
    levels = np.array([sit_out_level(people[i]) for i in members], dtype=np.int64)
    return levels - levels.min() if len(levels) else levels


def _weights(u: IntArray, v: IntArray, points: IntArray, priority: IntArray, size: int) -> IntArray:
    """Integer weights whose maximum is lexicographic: sit-outs of paired members, paired
    members, points. A member's `priority` is their sit-out level (see `_priority`)."""
    top = int(points.max()) if len(points) else 0
    per_member = (top + 1) * (size // 2 + 1)  # more than all the points a matching can hold
    per_sat_out = per_member * (size + 1) + 1  # more than all the coverage and points together
    sat_out = priority[u].astype(np.int64) + priority[v].astype(np.int64)
    return points + 2 * per_member + per_sat_out * sat_out


def _rough_weights(points: IntArray, u: IntArray, v: IntArray, priority: IntArray) -> IntArray:
    """Weights with the same order of concerns as `_weights` but small bonuses, for the auction."""
    bonus = 2 * (int(points.max()) + 1) if len(points) else 2
    return points + bonus * (1 + priority[u].astype(np.int64) + priority[v].astype(np.int64))


def _exact(size: int, u: IntArray, v: IntArray, w: IntArray) -> list[tuple[int, int]]:
    graph: rx.PyGraph[None, int] = rx.PyGraph(multigraph=False)
    graph.add_nodes_from([None] * size)
    graph.add_edges_from(list(zip(u.tolist(), v.tolist(), w.tolist(), strict=True)))
    matching = rx.max_weight_matching(graph, weight_fn=int, verify_optimum=False)
    return sorted((min(x, y), max(x, y)) for x, y in matching)


def match_block(
    size: int, u: IntArray, v: IntArray, w: IntArray, rough: IntArray | None = None
) -> list[tuple[int, int]]:
    """Maximum weight matching of one block: exact when small, auction + exact repair when big.

    Exact blossom matching grows steeply with block size (seconds at 5,000 members), so a
    big block is first solved as its bipartite relaxation by an epsilon-scaling auction
    (each member bids for a partner), whose choices form paths and cycles that are matched
    exactly; members left over are then re-matched exactly within their neighbourhoods.
    The auction runs on `rough` weights (see `_rough_weights`) when given: with the exact
    weights' huge bonuses a few members fighting over the same partners would need
    millions of tiny bids before one gives up.
    """
    if size <= EXACT_LIMIT:
        return _exact(size, u, v, w)
    mate = np.full(size, -1, dtype=np.int64)
    arcs = _Arcs.of(size, u, v) if len(w) and w.min() < w.max() else None
    if arcs is not None:
        choice = _auction(arcs, arcs.values(w if rough is None else rough))
        chosen = np.flatnonzero(choice >= 0)
        keys = np.unique(np.minimum(chosen, choice[chosen]) * size + np.maximum(chosen, choice[chosen]))
        lows, highs = keys // size, keys % size
        _solve_components(size, lows, highs, _lookup(size, u, v, w, lows, highs), mate)
    _greedy(size, u, v, w, mate)  # all weights equal (blank or identical profiles): greedy is optimal
    leftovers = np.flatnonzero(mate < 0)
    if len(leftovers) > 1:  # one exact window around all leftovers finds augmenting paths
        arcs = _Arcs.of(size, u, v) if arcs is None else arcs
        adjacency = _adjacency(arcs, arcs.values(w))
        reach = max(REPAIR_MIN_REACH, REPAIR_WINDOW // len(leftovers))
        window = np.unique(np.concatenate([_grow(int(x), adjacency, mate, reach) for x in leftovers]))
        _solve_window(window, u, v, w, mate, size)
    lows = np.flatnonzero(mate > np.arange(size))
    return list(zip(lows.tolist(), mate[lows].tolist(), strict=True))


def _greedy(size: int, u: IntArray, v: IntArray, w: IntArray, mate: IntArray) -> None:
    """Pair unpaired members with their best unpaired neighbour, in turn: after the auction
    this leaves the exact repair only the few members a greedy step cannot place, and when
    every weight is equal it is the whole matching (the repair then adds augmenting paths)."""
    free = np.flatnonzero(mate < 0)
    if len(free) < 2:
        return
    alone = np.zeros(size, dtype=bool)
    alone[free] = True
    keep = alone[u] & alone[v]
    ends = np.concatenate([u[keep], v[keep]])
    others = np.concatenate([v[keep], u[keep]])
    weights = np.concatenate([w[keep], w[keep]])
    tied = not len(weights) or weights.min() == weights.max()
    order = np.argsort(ends, kind="stable") if tied else np.lexsort((-weights, ends))
    ends, others = ends[order], others[order]
    bounds = np.searchsorted(ends, np.arange(size + 1)).tolist()
    neighbours = others.tolist()
    partner = mate.tolist()
    for x in free.tolist():
        if partner[x] >= 0:
            continue
        for y in neighbours[bounds[x] : bounds[x + 1]]:
            if partner[y] < 0:
                partner[x], partner[y] = y, x
                break
    mate[:] = partner


@dataclass(frozen=True)
class _Arcs:
    """A block's edges in both directions, grouped by their first end: node x's arcs are
    indptr[x]:indptr[x + 1]. Sorted once for the auction and the repair both."""

    indptr: IntArray
    dst: IntArray
    order: IntArray  # each arc's position in (u, v) followed by (v, u)

    @staticmethod
    def of(size: int, u: IntArray, v: IntArray) -> _Arcs:
        src = np.concatenate([u, v])
        order = np.argsort(src, kind="stable")
        return _Arcs(np.searchsorted(src[order], np.arange(size + 1)), np.concatenate([v, u])[order], order)

    def values(self, w: IntArray) -> IntArray:
        """Each arc's value, from the values of the edges."""
        found: IntArray = np.concatenate([w, w])[self.order]
        return found


def _auction(arcs: _Arcs, weights: IntArray) -> IntArray:
    """Each member's chosen partner (or -1) from an epsilon-scaling auction (Bertsekas).

    Members bid for partners in the bipartite relaxation of the matching: a bidder offers
    the margin between its best and second-best option plus epsilon, the highest bid wins,
    prices only rise. Jacobi-style: every unassigned bidder bids at once, in numpy.
    """
    # Every value the auction computes is a multiple of its epsilons' half-point steps below
    # 2 ** 22: exact in float32, whose gathers and reductions cost less than float64's.
    exact_in = np.float32 if int(np.abs(weights).max(initial=0)) < 1 << 21 else np.float64
    indptr, dst = arcs.indptr, arcs.dst
    gain: npt.NDArray[np.floating[Any]] = weights.astype(exact_in)
    size = len(indptr) - 1
    price: npt.NDArray[np.floating[Any]] = np.zeros(size, dtype=exact_in)
    owner = np.full(size, -1, dtype=np.int64)
    choice = np.full(size, -1, dtype=np.int64)
    bidders = _Bidders.of(indptr, dst)
    for epsilon in AUCTION_EPSILONS:
        owner[:] = -1
        choice[:] = -1
        active = bidders.nodes
        for _ in range(AUCTION_ROUNDS):
            if len(active) <= AUCTION_ONE_BY_ONE:
                # the long tail of a few bidders: one at a time is cheaper than vector rounds
                _bid_one_by_one(active.tolist(), indptr, dst, gain, price, owner, choice, epsilon)
                break
            if 2 * len(active) >= len(bidders.nodes):
                best, second, arc = bidders.every_arc(gain, price, active)
            else:
                best, second, arc = _best_two(*_expand(indptr, active), gain, price, dst)
            bids = best > 0
            bidder = active[bids]
            if not len(bidder):
                break  # nobody left who prefers a partner to staying unpaired
            target = dst[arc[bids]]
            offer = price[target] + best[bids] - second[bids] + epsilon
            ranked = np.lexsort((-offer, target))
            ranked_target = target[ranked]
            wins = ranked[np.concatenate(([True], ranked_target[1:] != ranked_target[:-1]))]
            won, winner = target[wins], bidder[wins]
            previous = owner[won]
            evicted = previous[previous >= 0]
            choice[evicted] = -1
            owner[won] = winner
            choice[winner] = won
            price[won] = offer[wins]
            lost = np.ones(len(bidder), dtype=bool)
            lost[wins] = False
            active = np.concatenate([bidder[lost], evicted])
    return choice


def _best_two(
    at: IntArray | None, lengths: IntArray, gain: npt.NDArray[np.floating[Any]], price: npt.NDArray[np.floating[Any]],
    dst: IntArray,
) -> tuple[npt.NDArray[np.floating[Any]], npt.NDArray[np.floating[Any]], IntArray]:
    """For bidders whose arcs are at[...] (None: every arc) in runs of `lengths`: each one's
    best value (gain less price), its second best but at least 0 (staying unpaired), and the
    arc of the best (the first of equals)."""
    starts = np.cumsum(lengths) - lengths
    values = gain - price[dst] if at is None else gain[at] - price[dst[at]]
    best = np.maximum.reduceat(values, starts)
    where_best = np.where(values == np.repeat(best, lengths), np.arange(len(values)), len(values))
    first = np.minimum.reduceat(where_best, starts)
    values[first] = -np.inf
    second = np.maximum(np.maximum.reduceat(values, starts), 0.0)
    return best, second, first if at is None else at[first]


@dataclass(frozen=True)
class _Bidders:
    """The auction's bidders (members with an arc) and their arcs, for rounds where most of
    them bid: every arc is read in place, without the gathers that pick out some bidders' arcs
    (half the work of the first rounds, which hold most of an auction's bids)."""

    nodes: IntArray  # members with at least one arc
    lengths: IntArray  # ... how many each has
    dst: IntArray
    slot: IntArray  # per member: its place among `nodes`

    @staticmethod
    def of(indptr: IntArray, dst: IntArray) -> _Bidders:
        degree = np.diff(indptr)
        nodes = np.flatnonzero(degree > 0)
        slot = np.full(len(degree), -1, dtype=np.int64)
        slot[nodes] = np.arange(len(nodes))
        return _Bidders(nodes, degree[nodes], dst, slot)

    def every_arc(
        self, gain: npt.NDArray[np.floating[Any]], price: npt.NDArray[np.floating[Any]], active: IntArray
    ) -> tuple[npt.NDArray[np.floating[Any]], npt.NDArray[np.floating[Any]], IntArray]:
        """`_best_two` of the `active` bidders, from every bidder's arcs."""
        best, second, arc = _best_two(None, self.lengths, gain, price, self.dst)
        mine = self.slot[active]
        return best[mine], second[mine], arc[mine]


def _bid_one_by_one(
    queue: list[int],
    indptr: IntArray,
    dst: IntArray,
    gain: npt.NDArray[np.floating[Any]],
    price: npt.NDArray[np.floating[Any]],
    owner: IntArray,
    choice: IntArray,
    epsilon: float,
) -> None:
    """Gauss-Seidel auction: each bidder in turn bids, an evicted owner joins the queue."""
    for _ in range(AUCTION_TAIL_BIDS):
        if not queue:
            return
        bidder = queue.pop()
        start, stop = int(indptr[bidder]), int(indptr[bidder + 1])
        if start == stop:
            continue
        values = gain[start:stop] - price[dst[start:stop]]
        best_at = int(values.argmax())
        best = float(values[best_at])
        if best <= 0:
            continue  # staying unpaired is as good
        second = 0.0
        if stop - start > 1:
            values[best_at] = -np.inf
            second = max(float(values.max()), 0.0)
        target = int(dst[start + best_at])
        price[target] += best - second + epsilon
        previous = int(owner[target])
        owner[target] = bidder
        choice[bidder] = target
        if previous >= 0:
            choice[previous] = -1
            queue.append(previous)


def _lookup(size: int, u: IntArray, v: IntArray, w: IntArray, lows: IntArray, highs: IntArray) -> IntArray:
    """Weights of edges (lows[i], highs[i]), which must be in the graph (u < v)."""
    keys = u * size + v
    wanted = lows * size + highs
    if bool((keys[1:] > keys[:-1]).all()):  # in order already, as candidate graphs come
        return w[np.searchsorted(keys, wanted)]
    order = np.argsort(keys)
    return w[order[np.searchsorted(keys, wanted, sorter=order)]]


def _solve_components(size: int, u: IntArray, v: IntArray, w: IntArray, mate: IntArray) -> None:
    """Exact matching of the auction's choices: each member chose one partner and was chosen
    by at most one, so the choices form paths and cycles, each matched exactly on its own
    (rustworkx's general matching took 1.1 s of a 100,000-member round for the same)."""
    if len(u) and np.bincount(np.concatenate([u, v])).max() > 2:  # not from an auction: match it whole
        for x, y in _exact(size, u, v, w):
            mate[x], mate[y] = y, x
        return
    for line, weights, cyclic in _paths_and_cycles(size, u, v, w):
        for at in _best_on_cycle(weights) if cyclic else _best_on_path(weights)[1]:
            x, y = line[at], line[(at + 1) % len(line)]
            mate[x], mate[y] = y, x


def _paths_and_cycles(size: int, u: IntArray, v: IntArray, w: IntArray) -> Iterator[tuple[list[int], list[int], bool]]:
    """The components of a graph where no node has more than two edges: each as its nodes in
    order, the weights of the edges between them (node i to i + 1, the last back to the first
    on a cycle) and whether it is a cycle."""
    ends = np.concatenate([u, v])
    order = np.argsort(ends, kind="stable")
    bounds = np.searchsorted(ends[order], np.arange(size + 1)).tolist()
    edge = (order % len(u)).tolist() if len(u) else []
    us, vs, ws = u.tolist(), v.tolist(), w.tolist()
    seen = [False] * size

    def walk(start: int) -> tuple[list[int], list[int], bool]:
        line, weights, came_by, node = [start], list[int](), -1, start
        seen[start] = True
        while True:
            step = next((e for e in edge[bounds[node] : bounds[node + 1]] if e != came_by), None)
            if step is None:
                return line, weights, False
            node, came_by = (vs[step] if us[step] == node else us[step]), step
            weights.append(ws[step])
            if seen[node]:
                return line, weights, True  # back at the start
            seen[node] = True
            line.append(node)

    degree = np.diff(bounds)
    for start in np.flatnonzero(degree == 1).tolist():  # paths, from one end
        if not seen[start]:
            yield walk(start)
    for start in np.flatnonzero(degree == 2).tolist():  # what is left are cycles
        if not seen[start]:
            yield walk(start)


def _best_on_path(weights: list[int]) -> tuple[int, list[int]]:
    """Largest total of edges of a path no two of which touch, and those edges."""
    before, best = 0, 0  # the best totals up to the edge before last and up to the last edge
    took = []
    for weight in weights:
        took.append(before + weight > best)
        before, best = best, max(best, before + weight)
    chosen, at = [], len(weights) - 1
    while at >= 0:
        if took[at]:
            chosen.append(at)
            at -= 2
        else:
            at -= 1
    return best, chosen


def _best_on_cycle(weights: list[int]) -> list[int]:
    """Edges of a cycle no two of which touch with the largest total: its last edge left out,
    or taken and its two neighbours left out."""
    without, left_out = _best_on_path(weights[:-1])
    inner, inner_chosen = _best_on_path(weights[1:-2])
    if weights[-1] + inner > without:
        return [at + 1 for at in inner_chosen] + [len(weights) - 1]
    return left_out


def _adjacency(arcs: _Arcs, weights: IntArray) -> Callable[[int], list[int]]:
    """Neighbours of a node, best edge first; sorted only for the nodes that are asked for."""
    bounds, others = arcs.indptr, arcs.dst

    def neighbours(node: int) -> list[int]:
        start, stop = bounds[node], bounds[node + 1]
        best_first = np.argsort(-weights[start:stop], kind="stable")
        found: list[int] = others[start:stop][best_first].tolist()
        return found

    return neighbours


def _grow(start: int, adjacency: Callable[[int], list[int]], mate: IntArray, limit: int) -> IntArray:
    """A neighbourhood around `start`: best neighbours first, always with their partners."""
    taken: dict[int, None] = {start: None}
    frontier = [start]
    while frontier and len(taken) < limit:
        next_frontier: list[int] = []
        for node in frontier:
            for neighbour in adjacency(node):
                if neighbour in taken:
                    continue
                taken[neighbour] = None
                partner = int(mate[neighbour])
                if partner >= 0 and partner not in taken:
                    taken[partner] = None
                    next_frontier.append(partner)
                if len(taken) >= limit:
                    break
            if len(taken) >= limit:
                break
        frontier = next_frontier
    return np.fromiter(taken, dtype=np.int64, count=len(taken))


def _solve_window(window: IntArray, u: IntArray, v: IntArray, w: IntArray, mate: IntArray, size: int) -> None:
    """Re-match a window exactly; members paired outside it keep their partner: never worse."""
    inside = np.zeros(size, dtype=bool)
    inside[window] = True
    partners = mate[window]
    inside[window[(partners >= 0) & ~inside[np.maximum(partners, 0)]]] = False
    nodes = np.flatnonzero(inside)
    keep = inside[u] & inside[v]
    local = np.full(size, -1, dtype=np.int64)
    local[nodes] = np.arange(len(nodes))
    pairs = _exact(len(nodes), local[u[keep]], local[v[keep]], w[keep])
    mate[nodes] = -1
    for x, y in pairs:
        mate[nodes[x]] = nodes[y]
        mate[nodes[y]] = nodes[x]


# ---------------------------------------------------------------- the round


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off for the duration. A round makes hundreds of thousands of
    small objects, none in a cycle, and each time enough of them pile up the collector walks
    the whole heap (every profile, the whole history) for nothing: 0.7 s of a 20,000-member
    round (bench/RESULTS.md). Reference counting still frees them; the collector is on again
    after, for anything cyclic."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def seeded_order(profiles: Iterable[Profile], seed: int) -> list[Profile]:
    """Members sorted by id, then shuffled by the seed: ties are broken by the seed, never by
    the order members came in. (numpy's permutation: random.shuffle took ten times as long.)"""
    people = sorted(profiles, key=operator.attrgetter("member_id"))
    return [people[at] for at in np.random.default_rng(seed).permutation(len(people)).tolist()]


@_collector_paused()
def plan_round(
    profiles: Sequence[Profile],
    history: History,
    *,
    odd_rule: Literal["trio", "sit_out"],
    repeat_window: int | None,
    seed: int,
) -> Plan:
    """Pair the members of one programme for one round; same inputs and seed, same plan."""
    if odd_rule not in ("trio", "sit_out"):
        raise ValueError(f"unknown odd_rule {odd_rule!r}")
    people = seeded_order([p for p in profiles if not p.paused], seed)
    seats = _position_of(people)
    if len(seats) != len(people):
        raise ValueError("member ids must be unique")
    forbidden = forbidden_pairs(history, repeat_window)
    banned = _banned_positions(people, forbidden, seats)
    repeated = _repeated_positions(people, history, seats) if repeat_window is None else None
    blocks: dict[str, list[int]] = {}
    unpaired: list[int] = []
    for position, person in enumerate(people):
        key = block_of(person)
        if key is None:
            unpaired.append(position)  # no city and not virtual: nobody to meet
        else:
            blocks.setdefault(key, []).append(position)
    pairs: list[tuple[int, ...]] = []
    for number, key in enumerate(sorted(blocks)):
        matched, left = _pair_block(people, blocks[key], banned, (seed, number), repeated)
        pairs.extend(matched)
        unpaired.extend(left)

    met = history.recent_pairs if repeat_window is None else {}
    pairs, unpaired = _prefer_kept(people, pairs, unpaired, forbidden, met)
    if odd_rule == "trio":
        pairs, unpaired = _make_trio(people, pairs, unpaired, forbidden)
    planned = [_planned(people, pair, met) for pair in pairs]
    planned.sort(key=lambda pair: pair.member_ids)
    total = sum(round(pair.score * POINTS_PER_SCORE) for pair in planned) / POINTS_PER_SCORE
    return Plan(
        pairs=tuple(planned),
        sat_out=tuple(sorted(people[i].member_id for i in unpaired)),
        total_score=total,
    )


def _pair_block(
    people: list[Profile],
    members: list[int],
    banned: IntArray,
    seed: tuple[int, int],
    repeated: IntArray | None = None,
) -> tuple[list[tuple[int, ...]], list[int]]:
    """Pairs (as positions) and the unpaired members of one block.

    A small block is matched once, exactly, on every feasible pair. A big one is matched on
    its candidate graph; members still unpaired get fresh graphs among themselves, in a loop of
    at most MAX_PASSES matchings in all: never recursion, so depth never grows with the block.
    (A second matching of crowded blocks on a graph ranked by each member's realised price was
    dropped: on every bench family it gained at most 0.03% and cost up to twice the time,
    bench/RESULTS.md, Pairing families.)
    """
    matched: list[tuple[int, ...]] = []
    left = members
    for attempt in range(MAX_PASSES):
        block = _encode(people, left, banned, (*seed, attempt), repeated)
        priority = _priority(people, left)
        u, v, points = _candidate_edges(block, priority)
        points = _values(block, u, v, points)
        weights = _weights(u, v, points, priority, len(left))
        found = [
            (left[x], left[y]) for x, y in match_block(len(left), u, v, weights, _rough_weights(points, u, v, priority))
        ]
        matched.extend(found)
        paired = {x for pair in found for x in pair}
        left = [i for i in left if i not in paired]
        if not found or len(left) < 2 or len(members) <= ALL_PAIRS_LIMIT:
            break
    return matched, left


def _prefer_kept(
    people: list[Profile],
    pairs: list[tuple[int, ...]],
    unpaired: list[int],
    forbidden: Container[frozenset[str]],
    met: Mapping[frozenset[str], int],
) -> tuple[list[tuple[int, ...]], list[int]]:
    """On equal score, members who kept their recent lunches are paired before those who
    missed them: an unpaired member takes the place of a paired one with the same sit-out
    level and more missed lunches when the pair would score the same (points, and the same
    repeat standing), so the one who missed more sits out instead. Seats are tried most missed
    first, at most PREFER_KEPT_TRIES in the member's block (a big round stays fast)."""
    seats = sorted(((people[pair[seat]].missed, index, seat) for index, pair in enumerate(pairs)
                    if len(pair) == 2 for seat in (0, 1) if people[pair[seat]].missed),
                   key=lambda s: (-s[0], s[1], s[2]))
    if not unpaired or not seats:
        return pairs, unpaired
    pairs, left = list(pairs), list(unpaired)
    swapped: set[int] = set()
    tried: dict[str | None, int] = {}
    for extra in sorted(unpaired, key=lambda i: (people[i].missed, i)):
        me = people[extra]
        key = block_of(me)
        tried[key] = tried.get(key, 0) + 1
        if key is None or tried[key] > TRIO_CANDIDATES:
            continue  # a block with many unpaired members: its first few are enough
        tries = 0
        for missed, index, seat in seats:
            if missed <= me.missed or tries >= PREFER_KEPT_TRIES:
                break
            if index in swapped or block_of(people[pairs[index][seat]]) != key:
                continue
            tries += 1
            out, stay = people[pairs[index][seat]], people[pairs[index][1 - seat]]
            if sit_out_level(out) != sit_out_level(me) or not can_pair(me, stay, forbidden):
                continue
            mine, theirs = frozenset((me.member_id, stay.member_id)), frozenset((out.member_id, stay.member_id))
            if pair_points(me, stay) != pair_points(out, stay) or met.get(mine) != met.get(theirs):
                continue
            swapped.add(index)
            out_position = pairs[index][seat]
            pairs[index] = (pairs[index][1 - seat], extra)
            left = [out_position if i == extra else i for i in left]
            break
    return pairs, left


def _make_trio(
    people: list[Profile],
    pairs: list[tuple[int, ...]],
    unpaired: list[int],
    forbidden: Container[frozenset[str]],
) -> tuple[list[tuple[int, ...]], list[int]]:
    """In each block, add one unpaired member to one pair where the hard rules hold with both
    and the three share a slot: at most one trio per block."""
    by_block: dict[str, list[int]] = {}
    for index, pair in enumerate(pairs):
        by_block.setdefault(str(block_of(people[pair[0]])), []).append(index)
    best: dict[str, tuple[tuple[int, int, int, int, int], int, int]] = {}
    seen: dict[str | None, int] = {}
    for extra in sorted(unpaired, key=lambda i: (-sit_out_level(people[i]), people[i].missed, i)):
        seen[block_of(people[extra])] = seen.get(block_of(people[extra]), 0) + 1
        if seen[block_of(people[extra])] > TRIO_CANDIDATES:
            continue  # a block with many unpaired members: its first few are enough to find a trio
        newcomer = people[extra]
        key = block_of(newcomer)
        if key is None:
            continue
        for index in by_block.get(key, []):
            a, b = people[pairs[index][0]], people[pairs[index][1]]
            if not (can_pair(newcomer, a, forbidden) and can_pair(newcomer, b, forbidden)):
                continue
            if (a.availability and b.availability and newcomer.availability) and suggest_slot([a, b, newcomer]) is None:
                continue  # a trio needs one slot all three can make
            gain = pair_points(newcomer, a) + pair_points(newcomer, b)
            rank = (sit_out_level(newcomer), gain, -newcomer.missed, -extra, -index)
            if key not in best or rank > best[key][0]:
                best[key] = (rank, extra, index)
    if not best:
        return pairs, unpaired
    pairs = list(pairs)
    for _, extra, index in best.values():
        pairs[index] = (*pairs[index], extra)
    joined = {extra for _, extra, _ in best.values()}
    return pairs, [i for i in unpaired if i not in joined]


def _planned(people: list[Profile], pair: tuple[int, ...], met: Mapping[frozenset[str], int]) -> PlannedPair:
    members = sorted([people[i] for i in pair], key=operator.attrgetter("member_id"))
    points = 0
    reasons: list[Reason] = []
    last: int | None = None
    for a, b in itertools.combinations(members, 2):
        rounds_ago = met.get(frozenset((a.member_id, b.member_id))) if met else None
        if rounds_ago is not None:
            last = rounds_ago if last is None else min(last, rounds_ago)
            reasons.append(Reason("repeat", (a.member_id, b.member_id), (("rounds_ago", str(rounds_ago)),)))
        pair_points_, pair_reasons = _explain(a, b)
        points += pair_points_
        if reasons:  # a trio's pairs can give the same reason twice: once is enough
            reasons.extend(reason for reason in pair_reasons if reason not in reasons)
        else:
            reasons = pair_reasons
    return PlannedPair(
        member_ids=tuple(p.member_id for p in members),
        score=points / POINTS_PER_SCORE,
        reasons=tuple(reasons),
        slot=suggest_slot(members),
        repeat=last is not None,
        last_met_rounds_ago=last,
    )


def describe_pair(members: Sequence[Profile], met: Mapping[frozenset[str], int]) -> PlannedPair:
    """A pair or trio as a round would plan it (score, reasons, slot), for an organizer's edit;
    `met` as in `plan_round` (empty with a repeat window)."""
    return _planned(list(members), tuple(range(len(members))), met)


def new_pairs_left(profiles: Sequence[Profile], history: History) -> int:
    """How many members still have someone in their block they could meet and never have:
    the same hard rules as a round without a repeat window (block, a common slot, not blocked)."""
    by_block: dict[str, list[Profile]] = {}
    for profile in profiles:
        key = block_of(profile)
        if key is not None:
            by_block.setdefault(key, []).append(profile)
    forbidden = forbidden_pairs(history, None)
    count = 0
    for members in by_block.values():
        for member in members:
            if any(
                frozenset((member.member_id, other.member_id)) not in history.recent_pairs
                and can_pair(member, other, forbidden)
                for other in members
            ):
                count += 1
    return count

"""Seeded generator of realistic lunch-programme members and their pairing history.

Skewed city sizes (a few big hubs, a long tail) plus virtual members, popular and niche
interest tags, goals, short asks and offers, weekly availability and ten rounds of history,
so the benchmark sees the shapes a real programme has: crowded blocks, attractive members
that sit in everyone's top list, repeat pairs to avoid and a few blocked pairs.
"""

from __future__ import annotations

import random

from chalicelib.matching import History, Profile
from chalicelib.vocabulary import GOALS, SLOTS

CITIES = (
    "london", "berlin", "paris", "lisbon", "amsterdam", "madrid", "barcelona", "dublin",
    "stockholm", "copenhagen", "warsaw", "prague", "vienna", "zurich", "milan", "munich",
    "brussels", "oslo", "helsinki", "athens",
)  # fmt: skip

_TOPICS = (
    "product", "design", "python", "rust", "data", "ai", "ml", "security", "cloud", "devops",
    "frontend", "backend", "mobile", "fintech", "healthtech", "climate", "edtech", "saas",
    "marketing", "sales", "growth", "seo", "branding", "ux", "research", "analytics",
    "finance", "fundraising", "leadership", "hiring", "community", "writing", "public speaking",
    "open source", "startups", "consulting", "legal", "operations", "supply chain", "retail",
)  # fmt: skip
_FLAVOURS = ("", " strategy", " careers", " tooling", " basics")
TAGS = tuple(f"{topic}{flavour}" for topic in _TOPICS for flavour in _FLAVOURS)[:200]

_GOAL_RATES = {
    "find_job": 0.18, "hiring": 0.12, "mentor": 0.12, "be_mentored": 0.18,
    "give_intros": 0.10, "learn": 0.25, "meet_peers": 0.35,
}  # fmt: skip
_OFFERS = ("feedback on {t}", "intros to {t} people", "advice on {t}", "a review of your {t} plans")
_ASKS = ("advice on {t}", "a mentor in {t}", "intros to {t} teams", "help with {t}")
_FIRST = ("Ana", "Ben", "Chloe", "Dev", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas",
          "Kemi", "Luca", "Mira", "Nils", "Olga", "Pedro", "Rosa", "Sami", "Tara", "Yusuf")  # fmt: skip


def _zipf_weights(count: int, exponent: float) -> list[float]:
    return [1.0 / (rank + 1) ** exponent for rank in range(count)]


def generate(
    count: int, *, seed: int = 0, virtual_share: float = 0.15, rounds: int = 10
) -> tuple[list[Profile], History]:
    """Return `count` members and `rounds` rounds of pairing history, all from `seed`."""
    rng = random.Random(seed)
    city_weights = _zipf_weights(len(CITIES), 1.0)
    tag_weights = _zipf_weights(len(TAGS), 0.8)
    profiles: list[Profile] = []
    for number in range(count):
        virtual = rng.random() < virtual_share
        city = None if virtual else rng.choices(CITIES, city_weights)[0]
        profiles.append(_member(rng, number, city, tag_weights, rounds))
    return profiles, _history(profiles, rng, rounds)


def _member(rng: random.Random, number: int, city: str | None, tag_weights: list[float], rounds: int) -> Profile:
    """One member with a realistic profile in `city` (None: virtual)."""
    interests = set()
    for _ in range(rng.randint(3, 8)):
        interests.add(rng.choices(TAGS, tag_weights)[0])
    goals = {goal for goal, rate in _GOAL_RATES.items() if rng.random() < rate}
    if not goals:
        goals.add("meet_peers")
    topic = rng.choice(sorted(interests))
    offers = rng.choice(_OFFERS).format(t=topic) if rng.random() < 0.6 else ""
    asks = rng.choice(_ASKS).format(t=rng.choices(TAGS, tag_weights)[0]) if rng.random() < 0.6 else ""
    if rng.random() < 0.3:
        availability: frozenset[str] = frozenset()
    else:
        lunches = [slot for slot in SLOTS if slot.endswith("-lunch") and not slot.startswith(("sat", "sun"))]
        picks = set(rng.sample(lunches, rng.randint(1, 3)))
        picks.update(rng.sample(SLOTS, rng.randint(0, 3)))
        availability = frozenset(picks)
    rounds_joined = min(rounds, int(rng.expovariate(1 / 3)))
    connections = max(0, int(rounds_joined * rng.uniform(0.6, 1.4) + rng.gauss(0, 1)))
    if rng.random() < 0.05:
        connections += rng.randint(10, 40)  # organisers and super-connectors
    return Profile(
        member_id=f"m{number:06d}",
        name=f"{rng.choice(_FIRST)} {chr(65 + number % 26)}.",
        headline="",
        city=city,
        virtual=city is None,
        interests=frozenset(interests),
        goals=frozenset(goals) & frozenset(GOALS),
        offers=offers,
        asks=asks,
        availability=availability,
        rounds_joined=rounds_joined,
        connections=connections,
        sat_out_last=rng.random() < 0.01,
    )


def _history(profiles: list[Profile], rng: random.Random, rounds: int) -> History:
    blocks: dict[str, list[str]] = {}
    for profile in profiles:
        blocks.setdefault("virtual" if profile.virtual else str(profile.city), []).append(profile.member_id)
    recent: dict[frozenset[str], int] = {}
    for rounds_ago in range(rounds, 0, -1):  # oldest first so the newest wins
        for members in blocks.values():
            joined = [member for member in members if rng.random() < 0.7]
            rng.shuffle(joined)
            for first, second in zip(joined[::2], joined[1::2], strict=False):
                recent[frozenset((first, second))] = rounds_ago
    blocked = set()
    for members in blocks.values():
        for _ in range(max(1, len(members) // 500)):
            if len(members) > 1:
                blocked.add(frozenset(rng.sample(members, 2)))
    return History(recent_pairs=recent, blocked=frozenset(blocked))


# ---------------------------------------------------------------- harder families (issue 15)

_WORDS = tuple(
    f"{stem}{suffix}"
    for stem in ("pricing", "onboarding", "kubernetes", "payments", "retention", "churn", "roadmap", "interview",
                 "negotiation", "visa", "equity", "compliance", "gdpr", "forecasting", "pipeline", "recruiting",
                 "storytelling", "pitch", "okr", "budget", "latency", "caching", "testing", "accessibility",
                 "localisation", "partnership", "procurement", "warehouse", "logistics", "inventory")
    for suffix in ("", "-ops", "-design", "-metrics", "-strategy")
)  # fmt: skip


def blank(count: int, share: float, *, seed: int = 0) -> tuple[list[Profile], History]:
    """One city of `count` members, `share` of them with a blank profile (joined through a link)."""
    rng = random.Random(seed)
    tag_weights = _zipf_weights(len(TAGS), 0.8)
    profiles = []
    for number in range(count):
        member = _member(rng, number, "lisbon", tag_weights, 10)
        if rng.random() < share:
            member = Profile(member_id=member.member_id, name=member.name, city="lisbon")
        profiles.append(member)
    return profiles, History(recent_pairs={})


def identical(count: int) -> tuple[list[Profile], History]:
    """One city of clones: the same interests, goals, asks, offers and slots."""
    profiles = [
        Profile(
            member_id=f"m{number:06d}",
            name=f"{_FIRST[number % len(_FIRST)]} {chr(65 + number % 26)}.",
            city="lisbon",
            interests=frozenset({"python", "ai", "design"}),
            goals=frozenset({"meet_peers", "learn"}),
            offers="advice on python",
            asks="advice on python",
            availability=frozenset({"tue-lunch", "thu-lunch"}),
            rounds_joined=3,
            connections=3,
        )
        for number in range(count)
    ]
    return profiles, History(recent_pairs={})


def rich_asks(count: int, *, seed: int = 0) -> tuple[list[Profile], History]:
    """One city whose members write long asks and offers: many words match, scores spread widely."""
    rng = random.Random(seed)
    tag_weights = _zipf_weights(len(TAGS), 0.8)
    word_weights = _zipf_weights(len(_WORDS), 0.6)
    profiles = []
    for number in range(count):
        member = _member(rng, number, "lisbon", tag_weights, 10)
        asks = " ".join(rng.choices(_WORDS, word_weights, k=rng.randint(4, 14)))
        offers = " ".join(rng.choices(_WORDS, word_weights, k=rng.randint(4, 14)))
        profiles.append(Profile(**{**member.__dict__, "asks": f"help with {asks}", "offers": f"advice on {offers}"}))
    return profiles, _history(profiles, rng, 10)


def many_towns(big_city: int, *, towns: int = 100, seed: int = 0) -> tuple[list[Profile], History]:
    """`towns` small towns of 2-7 members each, plus one big city of `big_city` members."""
    rng = random.Random(seed)
    tag_weights = _zipf_weights(len(TAGS), 0.8)
    places = [f"town{n:03d}" for n in range(towns) for _ in range(rng.randint(2, 7))] + ["london"] * big_city
    profiles = [_member(rng, number, place, tag_weights, 10) for number, place in enumerate(places)]
    return profiles, _history(profiles, rng, 10)


def virtual_zones(count: int, *, seed: int = 0) -> tuple[list[Profile], History]:
    """Everyone meets online. Members will carry one of 5 time zones once profiles have them
    (the pairing-loop issue); until then the whole group is one virtual block."""
    rng = random.Random(seed)
    tag_weights = _zipf_weights(len(TAGS), 0.8)
    profiles = [_member(rng, number, None, tag_weights, 10) for number in range(count)]
    return profiles, _history(profiles, rng, 10)


FAMILIES = {
    "blank": blank,
    "identical": identical,
    "rich-asks": rich_asks,
    "many-towns": many_towns,
    "virtual-zones": virtual_zones,
}

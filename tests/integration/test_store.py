"""The store suite: the same tests on moto and on Amazon's DynamoDB Local (`any_table`).
Tests that race threads run on DynamoDB Local only (`local_table`): moto is not thread-safe."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import deps, errors, ids
from chalicelib.models import Group, Meetup, Member
from chalicelib.store import keys
from chalicelib.store.outbox import MAX_ATTEMPTS, Mail

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def group(name: str = "G") -> Group:
    g = Group(group_id=ids.new_id("grp"), name=name, timezone="Europe/Lisbon", sender_name=name,
              created_at=T0)
    deps.store().groups.create(g)
    return g


def member(group_id: str, email: str) -> Member:
    return Member(member_id=ids.new_id("mem"), group_id=group_id, email=email, name=email.split("@")[0],
                  created_at=T0, updated_at=T0)


def meetup(group_id: str, day: int) -> Meetup:
    start = T0 + timedelta(days=day)
    return Meetup(meetup_id=ids.new_id("mtp"), group_id=group_id, title=f"d{day}", starts_at=start,
                  ends_at=start + timedelta(hours=1), timezone="UTC", rsvp_closes_at=start,
                  online_url="https://x.example", created_at=T0, updated_at=T0)


def test_group_round_trip_and_conditional_create(any_table: str) -> None:
    g = group()
    assert deps.store().groups.get(g.group_id) == g
    with pytest.raises(errors.AlreadyExists):
        deps.store().groups.create(g)
    changed = deps.store().groups.update(g.group_id, {"name": "New", "reply_to": None})
    assert changed.name == "New" and changed.created_at == T0
    with pytest.raises(errors.NotFound):
        deps.store().groups.update(ids.new_id("grp"), {"name": "x"})


def test_members_unique_by_email_under_concurrent_adds(local_table: str) -> None:
    g = group()
    emails = [f"p{i}@example.com" for i in range(30)]

    def add(_: int) -> tuple[list[Member], list[Member]]:
        return deps.store().members.create_many(g.group_id, [member(g.group_id, e) for e in emails])

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(add, range(4)))
    created = [m for c, _ in results for m in c]
    assert sorted(m.email for m in created) == sorted(emails)  # each email created exactly once
    for c, existed in results:
        assert len(c) + len(existed) == len(emails)
    stored = list(deps.store().members.all(g.group_id))
    assert sorted(m.email for m in stored) == sorted(emails)


def test_member_change_retries_instead_of_losing_a_write(any_table: str) -> None:
    g = group()
    (m,), _ = deps.store().members.create_many(g.group_id, [member(g.group_id, "x@example.com")])

    def bump(i: int) -> None:
        deps.store().members.change(g.group_id, m.member_id, lambda cur: cur.model_copy(update={
            "headline": cur.headline + "x", "updated_at": cur.updated_at + timedelta(microseconds=1)}))

    for i in range(5):
        bump(i)
    assert deps.store().members.require(g.group_id, m.member_id).headline == "xxxxx"


def test_pages_and_cursors_are_bound_to_their_partition(any_table: str) -> None:
    a, b = group("A"), group("B")
    for gr in (a, b):
        deps.store().members.create_many(gr.group_id, [member(gr.group_id, f"m{i}@x.com") for i in range(5)])
    first, cursor = deps.store().members.page(a.group_id, limit=2, cursor=None)
    assert len(first) == 2 and cursor
    rest: list[Member] = []
    while cursor:
        page, cursor = deps.store().members.page(a.group_id, limit=2, cursor=cursor)
        rest += page
    assert len(first + rest) == 5 and {m.group_id for m in first + rest} == {a.group_id}
    _, a_cursor = deps.store().members.page(a.group_id, limit=2, cursor=None)
    with pytest.raises(errors.InvalidInput) as bad:
        deps.store().members.page(b.group_id, limit=2, cursor=a_cursor)
    assert bad.value.field == "cursor"


def test_meetups_list_by_time_through_the_index(any_table: str) -> None:
    g = group()
    for day in (3, -2, 9, -5):
        deps.store().meetups.create(meetup(g.group_id, day))
    upcoming, _ = deps.store().meetups.page(g.group_id, upcoming=True, now=T0, limit=10, cursor=None)
    past, _ = deps.store().meetups.page(g.group_id, upcoming=False, now=T0, limit=10, cursor=None)
    assert [m.title for m in upcoming] == ["d3", "d9"]
    assert [m.title for m in past] == ["d-2", "d-5"]


def test_meetup_update_is_guarded_and_cancel_happens_once(any_table: str) -> None:
    g = group()
    m = meetup(g.group_id, 3)
    deps.store().meetups.create(m)
    updated = deps.store().meetups.update(m, {"title": "new", "updated_at": T0 + timedelta(seconds=1)},
                                          bump_sequence=True)
    assert updated.sequence == 1 and updated.title == "new"
    with pytest.raises(errors.StaleWrite):
        deps.store().meetups.update(m, {"title": "stale"}, bump_sequence=False)
    assert deps.store().meetups.cancel(updated, T0) is not None
    assert deps.store().meetups.cancel(updated, T0) is None


def _mail(g: Group, m: Member, key: str) -> Mail:
    return Mail(mail_id=keys.mail_id(key), group_id=g.group_id, member_id=m.member_id, kind="k",
                dedupe_key=key, subject="s", text="t", html="<p>h</p>", calendar=b"BEGIN:VCALENDAR",
                created_at=T0)


def test_outbox_records_once_and_one_sender_claims(local_table: str) -> None:
    g = group()
    (m,), _ = deps.store().members.create_many(g.group_id, [member(g.group_id, "o@example.com")])
    outbox = deps.store().outbox
    assert len(outbox.add_new([_mail(g, m, "a"), _mail(g, m, "b"), _mail(g, m, "a")])) == 2
    assert outbox.add_new([_mail(g, m, "a")]) == []
    mail = outbox.get(g.group_id, m.member_id, keys.mail_id("a"))
    assert mail is not None and mail.calendar == b"BEGIN:VCALENDAR"
    lease = T0 + timedelta(minutes=5)
    with ThreadPoolExecutor(4) as pool:
        claims = list(pool.map(lambda _: outbox.claim(mail, T0, lease), range(4)))
    assert sum(c is not None for c in claims) == 1
    # An expired lease may be taken over.
    assert outbox.claim(mail, lease + timedelta(seconds=1), lease + timedelta(minutes=5)) is not None


def test_outbox_release_retries_then_keeps_dead_mail(any_table: str) -> None:
    g = group()
    (m,), _ = deps.store().members.create_many(g.group_id, [member(g.group_id, "d@example.com")])
    outbox = deps.store().outbox
    outbox.add_new([_mail(g, m, "x")])
    mail = outbox.get(g.group_id, m.member_id, keys.mail_id("x"))
    assert mail is not None
    for attempt in range(1, MAX_ATTEMPTS + 1):
        claimed = outbox.claim(mail, T0, T0 + timedelta(minutes=5))
        assert claimed is not None and claimed.attempts == attempt
        mail = outbox.release(claimed, "boom", retry_at=T0)
    assert mail.status == "dead" and mail.last_error == "boom"
    assert outbox.claim(mail, T0, T0) is None
    assert list(outbox.pending(before=T0 + timedelta(days=1))) == []
    assert outbox.get(g.group_id, m.member_id, mail.mail_id) is not None  # kept, never dropped


def test_delete_member_removes_member_and_guard(any_table: str) -> None:
    g = group()
    (m,), _ = deps.store().members.create_many(g.group_id, [member(g.group_id, "gone@example.com")])
    assert deps.store().members.delete(g.group_id, m.member_id) == m
    assert deps.store().members.get(g.group_id, m.member_id) is None
    created, existed = deps.store().members.create_many(g.group_id, [member(g.group_id, "gone@example.com")])
    assert len(created) == 1 and existed == []


def test_outbox_keeps_no_words_after_sending_and_scrub_stops_unsent_mail(any_table: str) -> None:
    g = group()
    (m,), _ = deps.store().members.create_many(g.group_id, [member(g.group_id, "s@example.com")])
    outbox = deps.store().outbox
    outbox.add_new([_mail(g, m, "sent"), _mail(g, m, "queued")])
    sent = outbox.get(g.group_id, m.member_id, keys.mail_id("sent"))
    assert sent is not None
    claimed = outbox.claim(sent, T0, T0 + timedelta(minutes=5))
    assert claimed is not None
    outbox.finish(claimed, "sent", T0)
    after = outbox.get(g.group_id, m.member_id, keys.mail_id("sent"))
    assert after is not None and after.status == "sent"
    assert (after.subject, after.text, after.html, after.calendar) == ("", "", "", None)
    assert after.dedupe_key == "sent"  # the record stays: it still dedupes

    for mail_id in (keys.mail_id("queued"), keys.mail_id("sent"), keys.mail_id("absent")):
        outbox.scrub(g.group_id, m.member_id, mail_id)
    scrubbed = outbox.get(g.group_id, m.member_id, keys.mail_id("queued"))
    assert scrubbed is not None and scrubbed.status == "suppressed" and scrubbed.html == ""
    assert [x.mail_id for x in outbox.pending(before=T0 + timedelta(days=1))] == []
    still_sent = outbox.get(g.group_id, m.member_id, keys.mail_id("sent"))
    assert still_sent is not None and still_sent.status == "sent"
    assert outbox.get(g.group_id, m.member_id, keys.mail_id("absent")) is None


def test_whole_group_reads_of_few_fields_page_through_and_leave_out_the_heavy_ones(
        any_table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The insights page's reads: members without their lunch preferences, pairs without their
    reasons, score and slot, a projection per Query; across pages, nothing else missing."""
    from chalicelib.models import LunchPair, LunchPrefs, PairFeedback, PairFeedbackIn, PairReason
    from chalicelib.store import lunch, members

    monkeypatch.setattr(members, "WHOLE_GROUP_PAGE", 2)  # pages of two: the cursor is exercised too
    monkeypatch.setattr(lunch, "WHOLE_GROUP_PAGE", 2)
    g = group()
    people = [member(g.group_id, f"m{i}@x.com").model_copy(update={
        "headline": f"Role {i}", "subscribed": i != 2, "unsubscribed_at": T0 if i == 2 else None,
        "lunch": LunchPrefs(opted_in=True, city="Lisbon", interests=["design"], offers=["advice on pricing"])})
        for i in range(5)]
    deps.store().members.create_many(g.group_id, people)
    light = sorted(deps.store().members.all_without_lunch(g.group_id), key=lambda m: m.email)
    assert [m.model_copy(update={"lunch": p.lunch}) for m, p in zip(light, people, strict=True)] == people
    assert all(m.lunch == LunchPrefs() for m in light)

    pairs = [LunchPair(pair_id=f"p{i}", round_id="r1", group_id=g.group_id, score=4.5, slot="tue-lunch",
                       member_ids=[people[i].member_id, people[i + 1].member_id], created_at=T0,
                       reasons=[PairReason(kind="interests", who=[people[i].member_id], words={"topics": "design"})])
             for i in range(4)]
    deps.store().lunch.put_pairs(pairs)
    deps.store().lunch.respond(g.group_id, "p1", people[1].member_id, "confirmed")
    deps.store().lunch.give_feedback(g.group_id, "p1", people[1].member_id,
                                     PairFeedbackIn(met=True, rating=5), T0)
    outcomes = sorted(deps.store().lunch.all_outcomes(g.group_id), key=lambda p: p.pair_id)
    whole = sorted(deps.store().lunch.all_pairs(g.group_id), key=lambda p: p.pair_id)
    assert [p.model_copy(update={"reasons": w.reasons, "score": w.score, "slot": w.slot}) for p, w in
            zip(outcomes, whole, strict=True)] == whole
    assert all(p.reasons == [] and p.score == 0.0 and p.slot is None for p in outcomes)
    assert outcomes[1].responses == {people[1].member_id: "confirmed"}
    assert outcomes[1].feedback == {people[1].member_id: PairFeedback(met=True, rating=5, at=T0)}

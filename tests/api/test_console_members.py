"""Console member pages (issue 13): list, search by a name or email prefix (a Query, never a
Scan), add one, import a CSV (valid rows created, bad rows reported by line and field, nothing
twice), edit, erase behind a confirmation; hostile input gets an error beside the field and
changes nothing; every POST needs the session's CSRF token."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest

from chalicelib import deps
from chalicelib.models import Member, MemberIn, PairFeedbackIn
from chalicelib.services import imports, members
from tests.api.console_pages import Console, error_beside
from tests.api.test_lunch_api import nine_lunched


@pytest.fixture
def con(client: Any, org: Any, outbox_dir: Path) -> Console:
    return Console(client, org.group_id, outbox_dir)


def everyone(con: Console) -> list[Member]:
    return list(deps.store().members.all(con.group_id))


def add(con: Console, email: str, name: str) -> Member:
    created, _ = members.add_members(con.group_id, [MemberIn(email=email, name=name)])
    return created[0]


@pytest.fixture
def calls() -> Any:
    seen: list[str] = []

    def record(event_name: str, **_: Any) -> None:
        seen.append(event_name.rsplit(".", 1)[1])

    client = deps.dynamodb_client()
    client.meta.events.register("before-call.dynamodb", record)
    yield seen
    client.meta.events.unregister("before-call.dynamodb", record)


# ---------------------------------------------------------------- import


def csv_of_50() -> tuple[str, dict[int, str]]:
    """50 rows (lines 2-51), 3 of them bad: line -> the field each bad row is reported on."""
    rows = ["name,email,headline,timezone"]
    for i in range(50):
        rows.append({12: f"Person {i},not-an-address,,",
                     30: f",p{i}@example.com,,",
                     47: f"Person {i},p{i}@example.com,,Mars/Olympus"}.get(
            i + 2, f'"Person {i}, Jr",p{i}@example.com,Builder #{i},'))
    return "\r\n".join(rows) + "\r\n", {12: "email", 30: "name", 47: "timezone"}


def imported(con: Console, response: Any) -> str:
    """The import's page: the POST hands the rows to a job and sends the browser to it."""
    assert response.status_code == 303, con.text(response)
    location = response.headers["Location"]
    assert location.startswith(f"{con.base}/jobs/job_")
    page = con.get(location.removeprefix(con.base))
    assert page.status_code == 200
    return con.text(page)


def test_import_50_rows_with_3_bad_creates_47_and_reports_3_by_line_and_field(con: Console) -> None:
    text, bad = csv_of_50()
    html = imported(con, con.post("/members/import", {}, multipart={"file": text}))
    assert "<strong>47</strong> new members added." in html
    reported = re.findall(r'<tr><td class="num">(\d+)</td><td>(\w+)</td><td>([^<]+)</td></tr>', html)
    assert {(int(line), field) for line, field, _ in reported} == set(bad.items())
    assert len(everyone(con)) == 47
    emails = {m.email for m in everyone(con)}
    assert "p10@example.com" not in emails and "p28@example.com" not in emails  # the bad rows' people
    assert next(m for m in everyone(con) if m.email == "p0@example.com").name == "Person 0, Jr"

    # the same file again: nothing twice, the same 3 reported
    again = imported(con, con.post("/members/import", {"csv_text": text}))
    assert "<strong>0</strong> new members added." in again and "47 were members already" in again
    assert len(everyone(con)) == 47


def test_a_big_import_runs_in_the_jobs_worker_page_by_page(con: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "PAGE_SIZE", 7)
    rows = ["email,name"] + [f"m{i}@example.com,Member {i}" for i in range(30)] + ["bad,Nobody"]
    response = con.post("/members/import", {"csv_text": "\n".join(rows), "form_id": "import-form-1"})
    html = imported(con, response)
    assert "<strong>30</strong> new members added." in html and "Rows not imported" in html
    assert f'<form method="post" action="{con.base}/members/import"' in html  # another file, from here
    job = deps.store().jobs.require(con.group_id, response.headers["Location"].rsplit("/", 1)[1])
    assert (job.kind, job.status, job.pages, job.created, job.problems) == ("import.members", "done", 5, 30, 1)
    assert all(deps.store().jobs.import_rows(con.group_id, job.job_id, page) is None for page in range(5))

    # the same form sent again (a double click): the same job, nobody twice
    twice = con.post("/members/import", {"csv_text": "\n".join(rows), "form_id": "import-form-1"})
    assert twice.headers["Location"] == response.headers["Location"]
    assert len(everyone(con)) == 30


def test_a_page_delivered_twice_creates_nobody_twice(con: Console) -> None:
    job = imports.start_import(con.group_id, "email,name\nzed@example.com,Zed\n")
    imports.import_page_work({"group_id": con.group_id, "job_id": job.job_id, "page": 0})  # SQS again
    done = deps.store().jobs.require(con.group_id, job.job_id)
    assert (done.status, done.created, done.existed) == ("done", 1, 0)
    assert [m.email for m in everyone(con)] == ["zed@example.com"]


@pytest.mark.parametrize("text, words", [
    ("", "is empty"),
    ("email,name,password\na@example.com,A,x\n", "know: “password”"),
    ("name\nAna\n", "needs a column named email"),
    ("email,name\n" + "".join(f"x{i}@example.com,X\n" for i in range(5001)), "more than 5,000 rows"),
])
def test_a_file_that_cannot_be_imported_imports_nothing(con: Console, text: str, words: str) -> None:
    response = con.post("/members/import", {"csv_text": text})
    assert response.status_code == 400
    assert words in error_beside(con.text(response), "file")
    assert everyone(con) == []


# ---------------------------------------------------------------- list, search


def test_search_by_name_or_email_prefix_is_a_query_never_a_scan(con: Console, calls: list[str]) -> None:
    add(con, "ana.silva@example.org", "Ana Silva")
    add(con, "bo@silverline.example.com", "Bo Li")
    add(con, "zoe@example.com", "Zoë Ng")
    calls.clear()
    page = con.text(con.get("/members?q=Sil"))
    assert "Ana Silva" in page  # by her surname
    assert "Bo Li" not in page and "Zoë Ng" not in page  # an address is found by its start only
    assert "Query" in calls and "Scan" not in calls
    assert "Zoë Ng" in con.text(con.get("/members?q=zoe"))
    by_mail = con.text(con.get("/members?q=bo%40"))
    assert "Bo Li" in by_mail and "Ana Silva" not in by_mail
    assert "Nobody matches" in con.text(con.get("/members?q=%3Cscript%3E"))
    everyone_page = con.text(con.get("/members"))
    assert all(n in everyone_page for n in ("Ana Silva", "Bo Li", "Zoë Ng"))


# ---------------------------------------------------------------- add, edit


def test_add_a_member_then_the_same_address_again_is_refused_beside_it(con: Console) -> None:
    response = con.post("/members", {"email": " Ana@Example.com ", "name": "Ana", "headline": "", "timezone": ""})
    assert response.status_code == 303
    [ana] = everyone(con)
    assert ana.email == "ana@example.com" and response.headers["Location"].startswith(
        f"{con.base}/members/{ana.member_id}/edit")
    again = con.post("/members", {"email": "ana@example.com", "name": "Other Ana", "headline": "", "timezone": ""})
    assert again.status_code == 400 and "belongs to a member already" in error_beside(con.text(again), "email")
    assert everyone(con) == [ana]


@pytest.mark.parametrize("change, field", [
    ({"email": "not-an-address"}, "email"),
    ({"email": "a@b.c\r\nBcc: x@y.z"}, "email"),
    ({"email": ""}, "email"),
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": "Ana\x1b[31m"}, "name"),
    ({"headline": "h" * 201}, "headline"),
    ({"timezone": "Europe/Atlantis"}, "timezone"),
])
def test_a_bad_add_form_shows_the_error_beside_the_field_and_adds_nobody(
        con: Console, change: dict[str, str], field: str) -> None:
    response = con.post("/members", {"email": "ana@example.com", "name": "Ana", "headline": "", "timezone": "",
                                     **change})
    assert response.status_code == 400
    assert error_beside(con.text(response), field)
    assert everyone(con) == []


def test_edit_a_member_and_find_them_by_the_new_name(con: Console) -> None:
    ana = add(con, "ana@example.com", "Ana Silva")
    saved = con.post(f"/members/{ana.member_id}/edit", {"name": "Ana Costa", "headline": "Designer",
                                                        "timezone": "America/New_York", "subscribed": "on"})
    assert saved.status_code == 303
    after = deps.store().members.require(con.group_id, ana.member_id)
    assert (after.name, after.headline, after.timezone) == ("Ana Costa", "Designer", "America/New_York")
    assert "Ana Costa" in con.text(con.get("/members?q=costa"))
    assert "Ana Costa" not in con.text(con.get("/members?q=silva"))
    assert "Your changes are saved." in con.text(con.get(f"/members/{ana.member_id}/edit?done=saved"))

    bad = con.post(f"/members/{ana.member_id}/edit", {"name": "", "headline": "x", "timezone": "", "subscribed": "on"})
    assert bad.status_code == 400 and "is required" in error_beside(con.text(bad), "name")
    assert deps.store().members.require(con.group_id, ana.member_id) == after

    # unsubscribing is the organizer's to do; subscribing again is not
    con.post(f"/members/{ana.member_id}/edit", {"name": "Ana Costa", "headline": "Designer", "timezone": ""})
    assert not deps.store().members.require(con.group_id, ana.member_id).subscribed
    refused = con.post(f"/members/{ana.member_id}/edit", {"name": "Ana Costa", "headline": "", "timezone": "",
                                                          "subscribed": "on"})
    assert refused.status_code == 400 and "Only they can subscribe again" in error_beside(
        con.text(refused), "subscribed")
    assert not deps.store().members.require(con.group_id, ana.member_id).subscribed


def lunches_part(con: Console, member_id: str) -> str:
    """The member page's Lunches section as a reader reads it: words only, up to the Erase heading."""
    page = con.text(con.get(f"/members/{member_id}/edit"))
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    return words[words.index("Lunches"):words.index("Erase")]


def test_a_members_page_says_whether_the_next_round_pairs_them_and_how_their_lunches_went(
        con: Console, client: Any, org: Any) -> None:
    pairs = nine_lunched(client, org)
    store, gid = deps.store(), con.group_id
    pair = pairs[0]
    me, partner = pair["member_ids"][0], pair["member_ids"][1]
    store.lunch.give_feedback(gid, pair["pair_id"], me, PairFeedbackIn(met=True, rating=5), deps.now())
    store.lunch.give_feedback(gid, pair["pair_id"], partner, PairFeedbackIn(met=True, no_show=[me]), deps.now())
    before = store.members.require(gid, me)

    part = lunches_part(con, me)
    assert "In lunch pairing: the next round can pair them." in part
    assert "Where Lisbon When Tuesday, lunch" in part  # "lisbon", as typed through the API, reads as a name
    partners = ", ".join(store.members.require(gid, x).name for x in pair["member_ids"] if x != me)
    assert f"{partners} Said they'd meet; met, rated it 5/5; a partner said they didn't come." in part
    assert store.members.require(gid, me) == before  # reading the page changes nothing

    org.patch(f"members/{me}", {"lunch": {"skip_next": True}})
    assert "they skip the next round" in lunches_part(con, me)

    store.members.change(gid, me, lambda m: m.model_copy(update={"lunch": m.lunch.model_copy(
        update={"skip_next": False, "paused_until": "2099-01-31", "availability": ["thu-lunch", "mon-coffee"]})}))
    part = lunches_part(con, me)
    assert "back in the rounds from Saturday 31 January 2099" in part
    assert "When Monday, coffee; Thursday, lunch" in part  # as a week reads

    stranger = add(con, "zoe@example.com", "Zoe Park")
    part = lunches_part(con, stranger.member_id)
    assert "Not in lunch pairing." in part and "Their latest lunches" not in part


# ---------------------------------------------------------------- erase


def test_erase_asks_first_and_then_removes_them_and_their_search_terms(con: Console) -> None:
    ana = add(con, "ana@example.com", "Ana Silva")
    page = con.get(f"/members/{ana.member_id}/erase")
    assert page.status_code == 200 and "Type their email address to confirm" in con.text(page)
    assert deps.store().members.get(con.group_id, ana.member_id) is not None  # the GET erased nothing
    for wrong in ("", "bo@example.com"):
        refused = con.post(f"/members/{ana.member_id}/erase", {"confirm": wrong})
        assert refused.status_code == 400 and error_beside(con.text(refused), "confirm")
    assert deps.store().members.get(con.group_id, ana.member_id) is not None
    done = con.post(f"/members/{ana.member_id}/erase", {"confirm": "ANA@example.com "})
    assert done.status_code == 303 and done.headers["Location"] == f"{con.base}/members?done=erased"
    assert deps.store().members.get(con.group_id, ana.member_id) is None
    assert "Nobody matches" in con.text(con.get("/members?q=ana"))
    assert con.get(f"/members/{ana.member_id}/edit").status_code == 404


# ---------------------------------------------------------------- CSRF, isolation


def test_every_post_needs_this_sessions_csrf_token(con: Console) -> None:
    ana = add(con, "ana@example.com", "Ana Silva")
    posts: list[tuple[str, dict[str, str]]] = [
        ("/members", {"email": "bo@example.com", "name": "Bo", "headline": "", "timezone": ""}),
        ("/members/import", {"csv_text": "email,name\ncy@example.com,Cy\n"}),
        (f"/members/{ana.member_id}/edit", {"name": "Changed", "headline": "", "timezone": "", "subscribed": "on"}),
        (f"/members/{ana.member_id}/erase", {"confirm": "ana@example.com"}),
    ]
    for path, form in posts:
        for token in (None, "", "0" * 64):
            sent = con.post(path, form, csrf=token) if token != "" else con.post(path, {**form, "csrf_token": ""},
                                                                                 csrf=None)
            assert sent.status_code == 403, (path, token)
    assert everyone(con) == [ana]


def test_another_groups_member_is_not_found(con: Console, other_org: Any) -> None:
    theirs, _ = members.add_members(other_org.group_id, [MemberIn(email="theirs@example.com", name="Their Member")])
    mid = theirs[0].member_id
    for path in (f"/members/{mid}/edit", f"/members/{mid}/erase", "/members/mem_nope/edit"):
        response = con.get(path)
        assert response.status_code == 404 and "Their Member" not in con.text(response), path
    assert "Their Member" not in con.text(con.get("/members?q=their"))
    assert con.post(f"/members/{mid}/erase", {"confirm": "theirs@example.com"}).status_code == 404
    assert deps.store().members.get(other_org.group_id, mid) is not None

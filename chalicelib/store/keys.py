"""Every key format of the table, and nothing else. No other module spells `GROUP#...`.

Access patterns (which request reads what):

| item | PK | SK | GSI1PK / GSI1SK | served request |
| --- | --- | --- | --- | --- |
| group | GROUP#g | GROUP | GROUPS / created#g | GET group; CLI list-groups (Query GSI1) |
| API key | APIKEY#k | APIKEY | GROUP#g#KEYS / k | every organizer request (GetItem by key id) |
| member | GROUP#g | MEMBER#m | GROUP#g#LUNCH / m (only while opted in) | member pages, list members (Query PK, begins_with MEMBER#), lunch participants (Query GSI1) |
| member search term | GROUP#g | FIND#name#term#m, FIND#email#address#m (term: the folded name, and each later word of it) | — | console member search by name or email prefix (Query PK, begins_with FIND#name#<prefix> / FIND#email#<prefix>); written and removed in the member's transactions |
| email guard | GROUP#g | EMAIL#sha256(email) | EMAIL#sha256(email) / g | unique email per group (conditional put in the member's transaction); an SES bounce or complaint, which names only the address: its members in every group (Query GSI1) |
| meetup | GROUP#g | MEETUP#t | GROUP#g#MEETUPS / ends_at#t | GET meetup; upcoming/past lists (Query GSI1 by end time) |
| lunch programme | GROUP#g | LUNCH#PROGRAM | LUNCH_PROGRAMS / g (only while enabled) | GET/PUT lunch-program; hourly due check (Query GSI1) |
| lunch round | GROUP#g | LUNCH#ROUND#r | LUNCH_FOLLOWUPS / due_at#g#r (only from done until followed up); LUNCH_REVIEWS / review_until#g#r (only while held for review, until its expiry is handled) | round start (conditional put), round list/detail (Query PK, begins_with), follow-ups due (Query GSI1 by time), reviews past 48 h (Query GSI1 by time) |
| manual-round day | GROUP#g | LUNCH#MANUAL#yyyy-mm-dd (the group's local date) | — | POST lunch-rounds: one organizer round per group and day (conditional put in the round's transaction); expires_at after 2 days |
| lunch pair | GROUP#g | LUNCH#PAIR#p (p = lpr_ + round body + hash) | — | pairing page (GetItem), a round's pairs (Query PK, begins_with LUNCH#PAIR#lpr_<round body>) |
| lunch record | GROUP#g | LUNCH#MEMBER#m | — | one per member: partners met per round, pair ids, blocked ids, last sat-out round; matcher history (Query PK, begins_with) |
| reconnect pair | GROUP#g | LUNCH#PAIR#p (p = lpc_ + hash: under no round's prefix) | — | a good match who both said yes to meeting again: pairing page (GetItem), stats (with every pair) |
| reconnects due | GROUP#g | LUNCH#RECONNECTS_DUE#r | LUNCH_RECONNECTS / due_at#g#r (until done) | hourly: groups with a round whose good matches are due a reconnect (Query GSI1 by time); the group's worker: its due rounds (Query PK, begins_with) |
| reconnect suggestion | GROUP#g | LUNCH#RECONNECT#c (c = lrc_ + hash) | — | the reconnect page and its yes/no (GetItem, guarded update); written once with both members' monthly guard (transaction) |
| RSVP | MEETUP#t | RSVP#m | MEETUP#t#status / answered#m | RSVP page and answer (BatchGet with the meetup), organizer list by status (Query GSI1), all RSVPs of a meetup (Query PK, begins_with RSVP#) |
| waitlist entry | MEETUP#t | WAIT#waitlisted#m | — | promotion order (strongly consistent Query, begins_with WAIT#); written in the RSVP's transaction |
| signup | GROUP#g | SIGNUP#s | — | join page and public meetup pages: what was typed, until /welcome/{token} confirms it (GetItem); expires_at 7 days on; erasure (Query PK, begins_with SIGNUP#) |
| daily limit | LIMIT#g#scope (scope: addr_x#kind, or GROUP) | DAY#yyyy-mm-dd (UTC) | — | public pages' mail limits: per address and kind, per group (one conditional UpdateItem); expires_at 2 days on |
| start index | STARTS#yyyy-mm-dd (UTC day of start) | starts#g#t | — | reminders: meetups starting in a window, across groups (Query by day, BETWEEN) |
| fresh-link count | GROUP#g | FRESHLINK#m#yyyy-mm-dd (UTC day) | — | the 410 page's "email me a fresh link": links mailed to a member that day, at most 3 (GetItem, then a guarded update in the mail's transaction); expires_at after 2 days |
| organizer | GROUP#g | ORGANIZER#sha256(email) | ORGANIZER#sha256(email) / g | console sign-in: the groups an address organizes (Query GSI1); written in one transaction with Group.organizers |
| console sign-in request | CONSOLE#ASK#a (a: a random id) | ASK | — | POST /console records the address typed, known or not, and hands the id to the jobs worker, which mails a link if it organizes a group (GetItem, then DeleteItem); expires_at 15 minutes on |
| console sign-in link | CONSOLE#SIGNIN#sha256(token) | SIGNIN | — | /console/signin/{token}: shown (GetItem), used once (guarded UpdateItem); expires_at 15 minutes on |
| console session | CONSOLE#SESSION#sha256(session id) | SESSION | — | every console page (one BatchGetItem with the group), group choice (guarded update), sign-out (DeleteItem); expires_at 12 hours on |
| delivery day | DELIVERY#g | DAY#yyyy-mm-dd (UTC day the mail was recorded) | — | console delivery and home: mail recorded (first claimed), sent, suppressed, dead per day (one ADD per mail-worker batch); expires_at 32 days on |
| dead mail | DELIVERY#g | DEAD#created#mail_id | — | console delivery: each mail given up on, with its error (written when it dies); expires_at 32 days on |
| mail problem | DELIVERY#g | PROBLEM#m | — | console delivery and home: a member whose address bounced or who complained (written with the flag; reads check the member) |
| introduction | GROUP#g | INTRO#OFFER#i (i = int_ + hash) | INTRO_EXPIRY / expires_at#g#i (only while open) | the offer page and its yes/no (GetItem, status-guarded updates); offers past 14 days (Query GSI1 by time); erasure and credit (Query PK, begins_with INTRO#OFFER#) |
| introduction guard | GROUP#g | INTRO#PAIR#a#b (sorted member ids) | — | one offer per two people per 6 months (conditional put in the offer's transaction) |
| introduction record | GROUP#g | INTRO#MEMBER#m | — | one per member: open offers as connector (at most 5), offered/accepted/met counts, the two latest offers received (at most 2 a week), people met at meetups; the introduce page (BatchGetItem with the member) |
| introduction thanks | GROUP#g | INTRO#THANKS#yyyy-mm#m | INTRO_THANKS / due_at#g#yyyy-mm#m (until sent) | the monthly thank-you to a connector: intros accepted that month (set ADD on acceptance); hourly: those due (Query GSI1 by time) |

The outbox rows are below, with its keys.
Queries only: no request path Scans.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

from chalicelib import ids, timeutil
from chalicelib.store.schema import GSI1PK, GSI1SK, PK, SK

Key = dict[str, str]


def _k(pk: str, sk: str) -> Key:
    return {PK: pk, SK: sk}


# ---- groups and keys


def group_pk(group_id: str) -> str:
    return f"GROUP#{group_id}"


def group(group_id: str) -> Key:
    return _k(group_pk(group_id), "GROUP")


GROUPS_INDEX = "GROUPS"


def group_index(group_id: str, created_at: datetime) -> Key:
    return {GSI1PK: GROUPS_INDEX, GSI1SK: f"{timeutil.to_store(created_at)}#{group_id}"}


def api_key(key_id: str) -> Key:
    return _k(f"APIKEY#{key_id}", "APIKEY")


def api_key_index(group_id: str, key_id: str) -> Key:
    return {GSI1PK: f"{group_pk(group_id)}#KEYS", GSI1SK: key_id}


def api_keys_of(group_id: str) -> str:
    return f"{group_pk(group_id)}#KEYS"


# ---- members


MEMBER_PREFIX = "MEMBER#"


def member(group_id: str, member_id: str) -> Key:
    return _k(group_pk(group_id), f"{MEMBER_PREFIX}{member_id}")


FIND_PREFIX = "FIND#"
SearchKind = str  # "name" or "email"


def member_search_prefix(kind: SearchKind, term_prefix: str) -> str:
    """The SK prefix of search items whose `kind` term starts with `term_prefix` (already folded)."""
    return f"{FIND_PREFIX}{kind}#{term_prefix}"


def member_search(group_id: str, kind: SearchKind, term: str, member_id: str) -> Key:
    """One search term of one member: the term ends at '#', member ids never hold one."""
    return _k(group_pk(group_id), f"{FIND_PREFIX}{kind}#{term}#{member_id}")


def email_guard(group_id: str, email: str) -> Key:
    digest = hashlib.sha256(email.encode()).hexdigest()
    return _k(group_pk(group_id), f"EMAIL#{digest}")


def address_members(email: str) -> str:
    """The GSI1 partition of every group's email guard for this address (SES names only it)."""
    return f"EMAIL#{hashlib.sha256(email.encode()).hexdigest()}"


def address_index(group_id: str, email: str) -> Key:
    """Set on the email guard, so a bounce finds the address's members without a Scan."""
    return {GSI1PK: address_members(email), GSI1SK: group_id}


def lunch_participants(group_id: str) -> str:
    return f"{group_pk(group_id)}#LUNCH"


def lunch_index(group_id: str, member_id: str) -> Key:
    return {GSI1PK: lunch_participants(group_id), GSI1SK: member_id}


# ---- meetups


MEETUP_PREFIX = "MEETUP#"


def meetup(group_id: str, meetup_id: str) -> Key:
    return _k(group_pk(group_id), f"{MEETUP_PREFIX}{meetup_id}")


def meetups_of(group_id: str) -> str:
    return f"{group_pk(group_id)}#MEETUPS"


def meetup_index(group_id: str, meetup_id: str, ends_at: datetime) -> Key:
    return {GSI1PK: meetups_of(group_id), GSI1SK: f"{timeutil.to_store(ends_at)}#{meetup_id}"}


def due_by(now: datetime) -> str:
    """The GSI1SK upper bound of a sparse time index ("due#..." sort keys) for what is due by `now`."""
    return time_bound(now) + "~"


def time_bound(at: datetime) -> str:
    """A GSI1SK bound for meetups ending at `at` (ids sort after '#')."""
    return timeutil.to_store(at)


# ---- outbox (mail): one partition per recipient, so erasing a member is one Query.
# | mail | MAILTO#g#m | MAIL#sha256(dedupe)[:32] | OUTBOX#PENDING / due#g#m#id (until sent) | delivery, the recovery sweep (Query GSI1 by due time, every page) |
# | mail to an address | MAILTO#g#addr_sha256(email)[:24] | MAIL#sha256(dedupe)[:32] | as mail | join confirmations to non-members, organizer mail (to_email on the item) |
# | send-rate bucket | MAILRATE | BUCKET | — | every mail worker batch reserves its send times (one UpdateItem) |


def mail_id(dedupe_key: str) -> str:
    return hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]


ADDRESS_PREFIX = "addr_"


def address_id(email: str) -> str:
    """The mailbox id of mail to an address rather than a member (a join confirmation to someone
    not yet a member, the organizer's mail to the group's Reply-To): `addr_` + a hash, so the
    key holds no address."""
    return ADDRESS_PREFIX + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]


def is_address_id(member_id: str) -> bool:
    return member_id.startswith(ADDRESS_PREFIX)


def mailbox(group_id: str, member_id: str) -> str:
    return f"MAILTO#{group_id}#{member_id}"


MAIL_PREFIX = "MAIL#"


def mail(group_id: str, member_id: str, mail_id: str) -> Key:
    return _k(mailbox(group_id, member_id), f"{MAIL_PREFIX}{mail_id}")


PENDING_MAIL = "OUTBOX#PENDING"


def pending_mail_index(group_id: str, member_id: str, mail_id: str, due_at: datetime) -> Key:
    """Sorted by when the mail is due to be (re)tried: when recorded, then after a failed send
    or a quota hold, when that wait ends. The recovery sweep reads what is overdue."""
    return {GSI1PK: PENDING_MAIL,
            GSI1SK: f"{timeutil.to_store(due_at)}#{group_id}#{member_id}#{mail_id}"}


def mail_rate_bucket() -> Key:
    """One per deployment (one SES account): the next free send time, shared by every worker."""
    return _k("MAILRATE", "BUCKET")


# ---- background jobs (invitations): progress counters the organizer polls.
# | job | GROUP#g | JOB#j | JOBS#RUNNING / started#g#j (while running) | GET job; the hourly overdue check (Query GSI1) |
# | import rows | GROUP#g | IMPORT#j#ROWS#nnnn | — | the jobs worker: one page of a CSV import's checked rows (GetItem), deleted once imported; expires_at 7 days on |
# | import problems | GROUP#g | IMPORT#j#PROBLEMS#nnnn | — | the import's report: rows not imported, by line and field (Query PK, begins_with); expires_at 30 days on |

JOB_PREFIX = "JOB#"
RUNNING_JOBS = "JOBS#RUNNING"


def job(group_id: str, job_id: str) -> Key:
    return _k(group_pk(group_id), f"{JOB_PREFIX}{job_id}")


def running_job_index(group_id: str, job_id: str, started_at: datetime) -> Key:
    """Sparse: set while the job runs, so the hourly check reads only running jobs."""
    return {GSI1PK: RUNNING_JOBS, GSI1SK: f"{timeutil.to_store(started_at)}#{group_id}#{job_id}"}


def import_rows(group_id: str, job_id: str, page: int) -> Key:
    """One page of a CSV import's checked rows, waiting for the jobs worker."""
    return _k(group_pk(group_id), f"IMPORT#{job_id}#ROWS#{page:04d}")


def import_problems(group_id: str, job_id: str, page: int) -> Key:
    return _k(group_pk(group_id), f"{import_problems_prefix(job_id)}{page:04d}")


def import_problems_prefix(job_id: str) -> str:
    return f"IMPORT#{job_id}#PROBLEMS#"


# ---- RSVPs (issue 3): one partition per meetup holds its RSVPs and its waitlist, so an
# answer's transaction and the waitlist Query stay in one place. RSVP items hold ids and
# numbers only (no name or email): listings join members with one BatchGetItem.


def rsvps_of(meetup_id: str) -> str:
    return f"{MEETUP_PREFIX}{meetup_id}"


RSVP_PREFIX = "RSVP#"
WAIT_PREFIX = "WAIT#"


def rsvp(meetup_id: str, member_id: str) -> Key:
    return _k(rsvps_of(meetup_id), f"{RSVP_PREFIX}{member_id}")


def rsvps_with_status(meetup_id: str, status: str) -> str:
    return f"{rsvps_of(meetup_id)}#{status}"


def rsvp_index(meetup_id: str, status: str, answered_at: datetime, member_id: str) -> Key:
    return {GSI1PK: rsvps_with_status(meetup_id, status),
            GSI1SK: f"{timeutil.to_store(answered_at)}#{member_id}"}


def waitlist_entry(meetup_id: str, waitlisted_at: datetime, member_id: str) -> Key:
    """Sorts by the time the member joined the waitlist (ties by member id): promotion order."""
    return _k(rsvps_of(meetup_id), f"{WAIT_PREFIX}{timeutil.to_store(waitlisted_at)}#{member_id}")


def starts_on(day: date) -> str:
    return f"STARTS#{day.isoformat()}"


def meetup_start(group_id: str, meetup_id: str, starts_at: datetime) -> Key:
    """The cross-group start index: one small item per meetup, under its UTC start day."""
    utc = starts_at.astimezone(UTC)
    return _k(starts_on(utc.date()), f"{timeutil.to_store(utc)}#{group_id}#{meetup_id}")


# ---- lunch pairing (programme, rounds, pairs, per-member records)

LUNCH_PROGRAMS = "LUNCH_PROGRAMS"
LUNCH_FOLLOWUPS = "LUNCH_FOLLOWUPS"
LUNCH_ROUND_PREFIX = "LUNCH#ROUND#"
LUNCH_PAIR_PREFIX = "LUNCH#PAIR#"
LUNCH_MEMBER_PREFIX = "LUNCH#MEMBER#"


def lunch_program(group_id: str) -> Key:
    return _k(group_pk(group_id), "LUNCH#PROGRAM")


def lunch_program_index(group_id: str) -> Key:
    """Sparse: set only while the programme is enabled, so the hourly Query reads only those."""
    return {GSI1PK: LUNCH_PROGRAMS, GSI1SK: group_id}


def lunch_round(group_id: str, round_id: str) -> Key:
    return _k(group_pk(group_id), f"{LUNCH_ROUND_PREFIX}{round_id}")


def lunch_manual_day(group_id: str, local_date: date) -> Key:
    """One per group and local date on which an organizer started a round: written in that
    round's transaction, so of two plain starts on one day only one can win."""
    return _k(group_pk(group_id), f"LUNCH#MANUAL#{local_date.isoformat()}")


def lunch_followup_index(group_id: str, round_id: str, due_at: datetime) -> Key:
    """Sparse: set when a round is done, removed once its follow-ups went out."""
    return {GSI1PK: LUNCH_FOLLOWUPS, GSI1SK: f"{timeutil.to_store(due_at)}#{group_id}#{round_id}"}


LUNCH_REVIEWS = "LUNCH_REVIEWS"


def lunch_review_index(group_id: str, round_id: str, review_until: datetime) -> Key:
    """Sparse: set while a round is held for review, removed once approved or its expiry handled."""
    return {GSI1PK: LUNCH_REVIEWS, GSI1SK: f"{timeutil.to_store(review_until)}#{group_id}#{round_id}"}


def lunch_pair(group_id: str, pair_id: str) -> Key:
    return _k(group_pk(group_id), f"{LUNCH_PAIR_PREFIX}{pair_id}")


def lunch_pairs_of_round(round_id: str) -> str:
    """The SK prefix of one round's pairs (pair ids start with the round's: see ids.pair_id)."""
    return f"{LUNCH_PAIR_PREFIX}{ids.pair_prefix(round_id)}"


def lunch_member(group_id: str, member_id: str) -> Key:
    return _k(group_pk(group_id), f"{LUNCH_MEMBER_PREFIX}{member_id}")


# | lunch timer | GROUP#g | LUNCH#TIMER#kind#ref | LUNCH_TIMERS / due#g#kind#ref | work a round owes later: nudges 3 days on, a re-match after a decline (Query GSI1 by time) |
LUNCH_TIMERS = "LUNCH_TIMERS"


def lunch_timer(group_id: str, kind: str, ref: str) -> Key:
    """One per kind of work and round: arming it twice keeps one."""
    return _k(group_pk(group_id), f"LUNCH#TIMER#{kind}#{ref}")


def lunch_timer_index(group_id: str, kind: str, ref: str, due_at: datetime) -> Key:
    return {GSI1PK: LUNCH_TIMERS, GSI1SK: f"{timeutil.to_store(due_at)}#{group_id}#{kind}#{ref}"}


# ---- fresh links mailed from the 410 page (see the table at the top)


def fresh_link_count(group_id: str, member_id: str, day: date) -> Key:
    return _k(group_pk(group_id), f"FRESHLINK#{member_id}#{day.isoformat()}")


# ---- idempotency keys of organizer POSTs (expire after a day; TTL plus a read-side check)
# | idempotency record | IDEMPOTENCY#g#sha256(key)[:32] | IDEMPOTENCY | — | a retried POST answers the first answer |


def idempotency(group_id: str, key: str) -> Key:
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return _k(f"IDEMPOTENCY#{group_id}#{digest}", "IDEMPOTENCY")


# ---- follow-ups and reconnects (see the table at the top)

LUNCH_RECONNECTS = "LUNCH_RECONNECTS"
LUNCH_RECONNECTS_DUE_PREFIX = "LUNCH#RECONNECTS_DUE#"


def lunch_reconnects_due(group_id: str, round_id: str) -> Key:
    return _k(group_pk(group_id), f"{LUNCH_RECONNECTS_DUE_PREFIX}{round_id}")


def lunch_reconnects_index(group_id: str, round_id: str, due_at: datetime) -> Key:
    """Sparse: from the round's follow-ups until its reconnect suggestions went out."""
    return {GSI1PK: LUNCH_RECONNECTS, GSI1SK: f"{timeutil.to_store(due_at)}#{group_id}#{round_id}"}


def lunch_reconnect(group_id: str, reconnect_id: str) -> Key:
    return _k(group_pk(group_id), f"LUNCH#RECONNECT#{reconnect_id}")


# ---- public pages (join, my links, public meetups): signups and daily mail limits


SIGNUP_PREFIX = "SIGNUP#"


def signup(group_id: str, signup_id: str) -> Key:
    return _k(group_pk(group_id), f"{SIGNUP_PREFIX}{signup_id}")


def daily_limit(group_id: str, scope: str, day: date) -> Key:
    """One counter per group, scope and UTC day."""
    return _k(f"LIMIT#{group_id}#{scope}", f"DAY#{day.isoformat()}")


# ---- organizer console (see the table at the top): organizers by address, sign-in links, sessions


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def organizer(group_id: str, email: str) -> Key:
    return _k(group_pk(group_id), f"ORGANIZER#{_digest(email)}")


def organizer_groups(email: str) -> str:
    """The GSI1 partition of every group this address organizes."""
    return f"ORGANIZER#{_digest(email)}"


def organizer_index(group_id: str, email: str) -> Key:
    return {GSI1PK: organizer_groups(email), GSI1SK: group_id}


def console_signin_request(request_id: str) -> Key:
    return _k(f"CONSOLE#ASK#{request_id}", "ASK")


def console_signin(token: str) -> Key:
    """Keyed by the token's hash: the table never holds a usable link."""
    return _k(f"CONSOLE#SIGNIN#{_digest(token)}", "SIGNIN")


def console_session(session_id: str) -> Key:
    """Keyed by the session id's hash: the table never holds a usable cookie."""
    return _k(f"CONSOLE#SESSION#{_digest(session_id)}", "SESSION")


# ---- the console's delivery log (see the table at the top): one partition per group

DELIVERY_DAY_PREFIX = "DAY#"
DELIVERY_DEAD_PREFIX = "DEAD#"
DELIVERY_PROBLEM_PREFIX = "PROBLEM#"


def delivery_log(group_id: str) -> str:
    return f"DELIVERY#{group_id}"


def delivery_day(group_id: str, day: date) -> Key:
    return _k(delivery_log(group_id), f"{DELIVERY_DAY_PREFIX}{day.isoformat()}")


def delivery_dead(group_id: str, created: str, mail_id: str) -> Key:
    return _k(delivery_log(group_id), f"{DELIVERY_DEAD_PREFIX}{created}#{mail_id}")


def delivery_problem(group_id: str, member_id: str) -> Key:
    return _k(delivery_log(group_id), f"{DELIVERY_PROBLEM_PREFIX}{member_id}")

# ---- introductions (services/intros.py; see the table at the top)

INTRO_OFFER_PREFIX = "INTRO#OFFER#"
INTRO_EXPIRY = "INTRO_EXPIRY"
INTRO_THANKS = "INTRO_THANKS"


def intro(group_id: str, intro_id: str) -> Key:
    return _k(group_pk(group_id), f"{INTRO_OFFER_PREFIX}{intro_id}")


def intro_expiry_index(group_id: str, intro_id: str, expires_at: datetime) -> Key:
    """Sparse: set while the offer is open, removed when it is answered or expired."""
    return {GSI1PK: INTRO_EXPIRY, GSI1SK: f"{timeutil.to_store(expires_at)}#{group_id}#{intro_id}"}


def intro_guard(group_id: str, member_a: str, member_b: str) -> Key:
    first, second = sorted((member_a, member_b))
    return _k(group_pk(group_id), f"INTRO#PAIR#{first}#{second}")


def intro_member(group_id: str, member_id: str) -> Key:
    return _k(group_pk(group_id), f"INTRO#MEMBER#{member_id}")


def intro_thanks(group_id: str, month: str, member_id: str) -> Key:
    return _k(group_pk(group_id), f"INTRO#THANKS#{month}#{member_id}")


def intro_thanks_index(group_id: str, month: str, member_id: str, due_at: datetime) -> Key:
    """Sparse: set when the month's first intro is accepted, removed once the thanks is recorded."""
    return {GSI1PK: INTRO_THANKS, GSI1SK: f"{timeutil.to_store(due_at)}#{group_id}#{month}#{member_id}"}


# ---- people to meet at a meetup (services/meetup_people.py, store/meetup_people.py)
# | meetup suggestions | GROUP#g | MEETPEOPLE#TO#t#m | — | whom member m was told to look for at meetup t, and whom they said they met: the "did you meet them?" page (GetItem, guarded ADD); the meetup's ask (Query PK, begins_with MEETPEOPLE#TO#t#); erasure (Query PK, begins_with MEETPEOPLE#) |
# | meetup ask due | GROUP#g | MEETPEOPLE#DUE#t | MEETPEOPLE_ASKS / due#g#t (until asked) | hourly: meetups whose "did you meet them?" email is due (Query GSI1 by time) |
# | met at a meetup | GROUP#g | MEETPEOPLE#MET#a#b (sorted member ids) | — | two who said yes, they met there (set ADD of meetup ids): the network (Query PK, begins_with MEETPEOPLE#MET#) |

MEETPEOPLE_PREFIX = "MEETPEOPLE#"
MEETPEOPLE_MET_PREFIX = "MEETPEOPLE#MET#"
MEETPEOPLE_ASKS = "MEETPEOPLE_ASKS"


def meetup_suggestions_of(meetup_id: str) -> str:
    """The SK prefix of one meetup's suggestion records."""
    return f"{MEETPEOPLE_PREFIX}TO#{meetup_id}#"


def meetup_suggestions(group_id: str, meetup_id: str, member_id: str) -> Key:
    return _k(group_pk(group_id), f"{meetup_suggestions_of(meetup_id)}{member_id}")


def meetup_ask(group_id: str, meetup_id: str) -> Key:
    return _k(group_pk(group_id), f"{MEETPEOPLE_PREFIX}DUE#{meetup_id}")


def meetup_ask_index(group_id: str, meetup_id: str, due_at: datetime) -> Key:
    """Sparse: set when the suggestions are recorded, removed once the asks went out."""
    return {GSI1PK: MEETPEOPLE_ASKS, GSI1SK: f"{timeutil.to_store(due_at)}#{group_id}#{meetup_id}"}


def met_at_meetup(group_id: str, member_a: str, member_b: str) -> Key:
    first, second = sorted((member_a, member_b))
    return _k(group_pk(group_id), f"{MEETPEOPLE_MET_PREFIX}{first}#{second}")

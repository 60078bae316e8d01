"""The one place that knows DynamoDB. `Store` groups one repository per aggregate.

Key formats live in `keys`, the table schema in `schema`, wire details in `core`.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from chalicelib.store.console import ConsoleRepo
from chalicelib.store.core import Db
from chalicelib.store.delivery import DeliveryRepo
from chalicelib.store.groups import GroupRepo
from chalicelib.store.idempotency import IdempotencyRepo
from chalicelib.store.intros import IntroRepo
from chalicelib.store.jobs import JobRepo
from chalicelib.store.lunch import LunchRepo
from chalicelib.store.meetup_people import MeetupPeopleRepo
from chalicelib.store.meetups import MeetupRepo
from chalicelib.store.members import MemberRepo
from chalicelib.store.outbox import OutboxRepo
from chalicelib.store.public import PublicRepo
from chalicelib.store.rsvps import RsvpRepo


class Store:
    def __init__(self, client: Any, table_name: str, cursor_secret: str) -> None:
        self.db = Db(client, table_name, cursor_secret)

    @cached_property
    def groups(self) -> GroupRepo:
        return GroupRepo(self.db)

    @cached_property
    def members(self) -> MemberRepo:
        return MemberRepo(self.db)

    @cached_property
    def meetups(self) -> MeetupRepo:
        return MeetupRepo(self.db)

    @cached_property
    def lunch(self) -> LunchRepo:
        return LunchRepo(self.db)

    @cached_property
    def rsvps(self) -> RsvpRepo:
        return RsvpRepo(self.db)

    @cached_property
    def idempotency(self) -> IdempotencyRepo:
        return IdempotencyRepo(self.db)

    @cached_property
    def outbox(self) -> OutboxRepo:
        return OutboxRepo(self.db)

    @cached_property
    def intros(self) -> IntroRepo:
        return IntroRepo(self.db)

    @cached_property
    def meetup_people(self) -> MeetupPeopleRepo:
        return MeetupPeopleRepo(self.db)

    @cached_property
    def jobs(self) -> JobRepo:
        return JobRepo(self.db)

    @cached_property
    def public(self) -> PublicRepo:
        return PublicRepo(self.db)

    @cached_property
    def console(self) -> ConsoleRepo:
        return ConsoleRepo(self.db)

    @property
    def delivery(self) -> DeliveryRepo:
        return self.outbox.log  # one log, whose tally the outbox's writes and the worker share


__all__ = ["Db", "Store"]

"""Time zones and instants: stored as UTC, shown in the zone that owns them."""

from __future__ import annotations

import functools
import zoneinfo
from datetime import UTC, datetime


@functools.cache
def known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_zone(name: str) -> str:
    """The zone name when it is a real IANA zone; ValueError otherwise."""
    if name not in known_zones():
        raise ValueError(f"{name!r} is not an IANA time zone such as 'Europe/Berlin'")
    return name


def zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def as_utc(value: datetime, zone_name: str) -> datetime:
    """An aware UTC instant; a naive value is read as wall-clock time in `zone_name`."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone(zone_name))
    return value.astimezone(UTC)


def to_store(value: datetime) -> str:
    """Fixed-width UTC text that sorts in time order (used in sort keys)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_store(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def in_zone(value: datetime, zone_name: str) -> datetime:
    return value.astimezone(zone(zone_name))

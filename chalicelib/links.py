"""Member links: the one place that decides each link's purpose, resource and lifetime."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from chalicelib import deps, errors
from chalicelib.tokens import Claims, Purpose, Signer, TokenExpired, TokenInvalid

RSVP_GRACE = timedelta(days=7)         # an RSVP link lives until a week after the meetup ends
UNSUBSCRIBE_LIFETIME = timedelta(days=400)
LUNCH_LIFETIME = timedelta(days=60)
PAIRING_LIFETIME = timedelta(days=30)
RECONNECT_LIFETIME = timedelta(days=30)
# Long-lived, and every email carries a freshly made one: a member who gets mail always has a
# working settings link.
SETTINGS_LIFETIME = timedelta(days=400)
INTRODUCE_LIFETIME = timedelta(days=60)
OFFER_GRACE = timedelta(days=30)  # an offer's page still says how it ended a while after
# The links an expired one can be swapped for by email ("email me a fresh link" on the 410 page).
RENEWABLE: tuple[Purpose, ...] = ("rsvp", "lunch", "pairing", "settings")


@functools.cache
def _signer(secrets: tuple[str, ...]) -> Signer:
    return Signer(secrets)


def signer() -> Signer:
    """Signs with the newest secret, reads links signed with any configured one (rotation)."""
    return _signer(deps.signing_secrets())


def _url(path: str, purpose: Purpose, *, group_id: str, member_id: str, resource_id: str,
         expires_at: datetime) -> str:
    token = signer().make(purpose, group_id=group_id, member_id=member_id,
                          resource_id=resource_id, expires_at=expires_at)
    return f"{deps.settings().base_url}/{path}/{token}"


def rsvp_url(group_id: str, meetup_id: str, member_id: str, meetup_ends_at: datetime) -> str:
    return _url("rsvp", "rsvp", group_id=group_id, member_id=member_id, resource_id=meetup_id,
                expires_at=meetup_ends_at + RSVP_GRACE)


def unsubscribe_url(group_id: str, member_id: str) -> str:
    return _url("unsubscribe", "unsubscribe", group_id=group_id, member_id=member_id,
                resource_id=group_id, expires_at=deps.now() + UNSUBSCRIBE_LIFETIME)


def lunch_url(group_id: str, member_id: str) -> str:
    return _url("lunch", "lunch", group_id=group_id, member_id=member_id, resource_id=group_id,
                expires_at=deps.now() + LUNCH_LIFETIME)


def pairing_url(group_id: str, pair_id: str, member_id: str) -> str:
    return _url("pairing", "pairing", group_id=group_id, member_id=member_id, resource_id=pair_id,
                expires_at=deps.now() + PAIRING_LIFETIME)


def reconnect_url(group_id: str, reconnect_id: str, member_id: str, answer: str | None = None) -> str:
    """The reconnect page; `answer` ("yes"/"no") leads with that button (the POST acts)."""
    url = _url("reconnect", "reconnect", group_id=group_id, member_id=member_id, resource_id=reconnect_id,
               expires_at=deps.now() + RECONNECT_LIFETIME)
    return f"{url}?answer={answer}" if answer else url


def welcome_url(group_id: str, address_id: str, signup_id: str, expires_at: datetime) -> str:
    """The join confirmation: names the address (its id), not a member, who doesn't exist yet;
    lives as long as the signup it confirms."""
    return _url("welcome", "welcome", group_id=group_id, member_id=address_id, resource_id=signup_id,
                expires_at=expires_at)


def settings_url(group_id: str, member_id: str) -> str:
    """The member's email settings page; a fresh one goes in every email's footer."""
    return _url("settings", "settings", group_id=group_id, member_id=member_id, resource_id=group_id,
                expires_at=deps.now() + SETTINGS_LIFETIME)


def introduce_url(group_id: str, member_id: str) -> str:
    """The member's "introduce two people you met" page (services/intros.py)."""
    return _url("introduce", "introduce", group_id=group_id, member_id=member_id, resource_id=group_id,
                expires_at=deps.now() + INTRODUCE_LIFETIME)


def offer_url(group_id: str, intro_id: str, member_id: str, expires_at: datetime) -> str:
    """One member's yes/no page for an introduction offered to them; lives a while past the
    offer's own expiry, so a late click reads how it ended."""
    return _url("offer", "offer", group_id=group_id, member_id=member_id, resource_id=intro_id,
                expires_at=expires_at + OFFER_GRACE)



MET_LIFETIME = timedelta(days=30)  # the "did you meet them?" page, from the day it is asked


def met_url(group_id: str, meetup_id: str, member_id: str, who: str | None = None) -> str:
    """After a meetup: the member says whom of the people suggested to them they met
    (services/meetup_people.py); `who` leads with that person (the POST acts)."""
    url = _url("met", "met", group_id=group_id, member_id=member_id, resource_id=meetup_id,
               expires_at=deps.now() + MET_LIFETIME)
    return f"{url}?who={who}" if who else url


def renew_url(purpose: Purpose, token: str) -> str:
    """Where the 410 page posts "email me a fresh link" for this expired link."""
    return f"{deps.settings().base_url}/renew/{purpose}/{token}"


class LinkExpired(errors.Gone):
    """Raised when a genuine member link has expired; the 410 page offers a fresh one by email
    when its purpose is RENEWABLE."""

    def __init__(self, purpose: Purpose, token: str) -> None:
        super().__init__("This link has expired.")
        self.purpose = purpose
        self.token = token

    @property
    def renew_url(self) -> str | None:
        return renew_url(self.purpose, self.token) if self.purpose in RENEWABLE else None


def read(purpose: Purpose, token: str) -> Claims:
    """The claims of a member link; Forbidden (403 page) when tampered or made for another
    purpose, LinkExpired (the 410 page) when expired."""
    try:
        return signer().read(purpose, token, now=deps.now())
    except TokenExpired:
        raise LinkExpired(purpose, token) from None
    except TokenInvalid:
        raise errors.Forbidden("This link is not valid.") from None


def read_genuine(purpose: Purpose, token: str) -> tuple[Claims, bool]:
    """(claims, expired) of a link whose signature holds, expired or not: the expiry is waived,
    the signature never is (Forbidden when tampered or made for another purpose)."""
    try:
        return signer().read(purpose, token, now=deps.now()), False
    except TokenExpired as expired:
        return expired.claims, True
    except TokenInvalid:
        raise errors.Forbidden("This link is not valid.") from None

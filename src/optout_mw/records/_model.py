"""What the records store holds: subjects, their standing, the changes written, the events.

The event fields follow 11 CCR §7101(b): "the date of request, nature of request, manner
in which the request was made, the date of the business's response, the nature of the
response, and the basis for the denial of the request if the request is denied in whole
or in part", plus the signals seen and the configuration version in force.
"""

from __future__ import annotations

import ipaddress
import secrets
import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from optout_mw.records._settings import ClientIPPolicy


class SubjectKind(StrEnum):
    #: A random 128-bit id carried in the signed choice cookie: no IP, no fingerprint.
    BROWSER = "browser"
    #: The site's own account id, when the visitor is known.
    ACCOUNT = "account"


class Nature(StrEnum):
    """The nature of a request (§7101(b))."""

    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    #: A browser was linked to an account (a login); recorded when it changes a standing.
    LINK = "link"
    #: The account's state and links were deleted (the account was deleted).
    DELETE = "delete"


class Manner(StrEnum):
    """The manner in which a request was made (§7101(b))."""

    GPC = "gpc"
    US_PRIVACY = "usprivacy"
    GPP = "gpp"
    CMP = "cmp"
    #: The site's own opt-out page (a form post).
    FORM = "form"
    #: Carried over from a browser linked to the account (§7025(c)(1)).
    LINKED_BROWSER = "linked_browser"
    #: Made by the site's own code (an account settings page, a support ticket).
    API = "api"


class Response(StrEnum):
    """The nature of the response (§7101(b))."""

    COMPLIED = "complied"
    DENIED = "denied"


def new_browser_id() -> str:
    """A random 128-bit browser id, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)


def new_event_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Subject:
    kind: SubjectKind
    id: str

    @classmethod
    def browser(cls, browser_id: str) -> Subject:
        return cls(SubjectKind.BROWSER, browser_id)

    @classmethod
    def account(cls, account_id: str) -> Subject:
        return cls(SubjectKind.ACCOUNT, account_id)


@dataclass(frozen=True, slots=True)
class Standing:
    """A subject's stored state, as the request path sees it."""

    opted_out: bool
    #: When the current state began (seconds since the epoch).
    since: float
    manner: Manner | str
    jurisdiction: str | None
    #: Incremented on every change (optimistic concurrency).
    version: int
    #: Whose state this is: the account itself, or the account linked to a browser.
    subject: Subject


@dataclass(frozen=True, slots=True)
class Choice:
    """A request to opt out or in, for one subject.

    ``only_if_changed`` is for signals seen on a request (GPC from a known account): an
    event is written when the state changes, never once per request. A choice made on the
    opt-out page always writes its event.
    """

    subject: Subject
    nature: Nature
    manner: Manner | str
    requested_at: float
    response: Response = Response.COMPLIED
    denial_basis: str | None = None
    signals: tuple[str, ...] = ()
    jurisdiction: str | None = None
    client_ip: str | None = None
    user_agent: str | None = None
    only_if_changed: bool = False
    #: Apply only while the subject is at this version (None: whatever it is).
    expected_version: int | None = None
    #: Written once whatever the retries: the store ignores a second write of the same id.
    event_id: str = field(default_factory=new_event_id)


@dataclass(frozen=True, slots=True)
class Link:
    """A browser seen logged in to an account (``link_account``).

    ``browser_opted_out``: the request's own signals opted out, so the account is opted
    out too (§7025(c)(1): "any consumer profile associated with that browser").
    """

    browser_id: str
    account_id: str
    requested_at: float
    browser_opted_out: bool = False
    manner: Manner | str = Manner.LINKED_BROWSER
    signals: tuple[str, ...] = ()
    jurisdiction: str | None = None
    event_id: str = field(default_factory=new_event_id)


@dataclass(frozen=True, slots=True)
class Forget:
    """The account was deleted: its state and links go; its events stay for §7101."""

    account_id: str
    requested_at: float
    event_id: str = field(default_factory=new_event_id)


Change = Choice | Link | Forget


@dataclass(frozen=True, slots=True)
class Outcome:
    """What applying one change did."""

    event_id: str
    #: Whether a subject's state changed.
    changed: bool
    #: Whether an event was appended (False for an unchanged signal or a repeated id).
    recorded: bool
    #: False when ``expected_version`` did not match: nothing was written.
    applied: bool = True


@dataclass(frozen=True, slots=True)
class Event:
    """One row of the append-only event log."""

    seq: int
    event_id: str
    subject_kind: str
    subject_id: str
    nature: str
    manner: str
    requested_at: float
    responded_at: float
    response: str
    denial_basis: str | None
    signals: tuple[str, ...]
    jurisdiction: str | None
    config_version: str
    client_ip: str | None
    user_agent: str | None
    prev_mac: str | None
    mac: str | None


def keep_client_ip(address: str | None, policy: ClientIPPolicy) -> str | None:
    """The part of ``address`` the policy keeps; an unparsable address is not kept."""
    if address is None or policy is ClientIPPolicy.NONE:
        return None
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if policy is ClientIPPolicy.FULL:
        return str(ip)
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


#: User agents are kept to this many characters when kept at all.
MAX_USER_AGENT: int = 512

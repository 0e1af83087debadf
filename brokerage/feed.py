"""The partners' change feed: every event a partner may see, in commit order, read with an
opaque cursor.

Why not serve `DomainEvent` rows by id: ids are taken at INSERT, so a transaction holding
id 41 may commit after the one holding id 42. A reader that saw 42 and moved its cursor past
it would never see 41. Instead each event is appended to the feed of every partner that may
see it (`FeedEntry`) when it is dispatched, after its commit, and the appends are serialised
by one lock held until their transaction commits (a PostgreSQL transaction-level advisory
lock; SQLite serialises writers anyway). So feed positions become visible strictly in
increasing order: nothing ever commits below a position a reader has seen. Events of one
inquiry are written under the inquiry's row lock, and dispatching an event first appends the
inquiry's earlier events not dispatched yet, so a partner also sees each inquiry's events in
the order they happened.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.core import signing
from django.db import connection

from core.errors import BrokerageError
from core.events import EventKind
from core.models import DomainEvent
from orders.models import Inquiry

from .models import FeedEntry, PartnerOrganisation

CURSOR_SALT = "brokerage.partner-feed"
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
# Arbitrary, fixed: the key of the PostgreSQL advisory lock that orders feed appends.
_FEED_LOCK_KEY = 0x6D6967616B690001
K = EventKind

# What a partner may see of each event kind: the payload keys it receives. Kinds not listed
# (sealed applications, proposed awards, opened prices) never leave the network. Reasons of an
# escalation are internal; the buyer sees only that the committee decides.
PUBLIC_EVENTS: dict[EventKind, tuple[str, ...]] = {
    K.INQUIRY_SUBMITTED: (),
    K.INQUIRY_QUESTION_ASKED: (),
    K.INQUIRY_QUESTION_ANSWERED: (),
    K.INQUIRY_ESCALATED: (),
    K.INQUIRY_PUBLISHED: ("deadline",),
    K.INQUIRY_DEADLINE_CHANGED: ("deadline",),
    K.INQUIRY_WINDOW_CLOSED: (),
    K.INQUIRY_REJECTED: ("reason",),
    K.INQUIRY_REFERRAL: ("reason", "category"),
    K.INQUIRY_WITHDRAWN: ("reason",),
    K.AWARD_CONFIRMED: ("company_id",),
    # Referrals (written by brokerage.referral). The partner network an offer went to sees
    # its offer's moves; the partner that submitted the inquiry learns it was accepted (the
    # inquiry then names whom to contact).
    K.REFERRAL_OFFERED: ("offer_id",),
    K.REFERRAL_ACCEPTED: ("offer_id",),
    K.REFERRAL_DECLINED: ("offer_id", "reason"),
    K.REFERRAL_EXPIRED: ("offer_id",),
}
# Referral events the submitter of the inquiry receives (the others go to the target only).
SUBMITTER_REFERRAL_EVENTS = frozenset({K.REFERRAL_ACCEPTED})


def inquiry_id_of(event: DomainEvent) -> int | None:
    if event.aggregate == "inquiry":
        return event.aggregate_id
    return event.payload.get("inquiry_id")


def event_body(event: DomainEvent, *, inquiry_reference: str | None = None) -> dict:
    """The JSON a partner receives for an event, in the feed and in webhooks alike (the
    Standard Webhooks payload shape: type, timestamp, data)."""
    allowed = PUBLIC_EVENTS.get(event.kind, ())
    data = {key: event.payload[key] for key in allowed if key in event.payload}
    data["inquiry"] = {"id": inquiry_id_of(event), "reference": inquiry_reference}
    return {
        "event_id": event.pk,
        "type": event.kind,
        "timestamp": event.created_at.isoformat(),
        "data": data,
    }


# ---------------------------------------------------------------------------------------
# Appending (inside the dispatch transaction)


def _lock_feed() -> None:
    """Serialise feed appends until the transaction ends (no-op on SQLite)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_FEED_LOCK_KEY])


Audience = tuple[PartnerOrganisation, str]


def feed_append(*, targets: Iterable[tuple[DomainEvent, list[Audience]]]) -> int:
    """Append each event to the feeds of its (organisation, audience) pairs, in the given
    order, skipping entries that exist. Call inside a transaction; returns how many were
    added."""
    targets = [(event, audiences) for event, audiences in targets if audiences]
    if not targets:
        return 0
    _lock_feed()
    existing = set(
        FeedEntry.objects.filter(event_id__in=[e.pk for e, _ in targets]).values_list(
            "organisation_id", "event_id", "audience"
        )
    )
    rows = [
        FeedEntry(organisation=org, event=event, audience=audience)
        for event, audiences in targets
        for org, audience in audiences
        if (org.pk, event.pk, audience) not in existing
    ]
    FeedEntry.objects.bulk_create(rows)
    return len(rows)


# ---------------------------------------------------------------------------------------
# Reading


def cursor_encode(*, organisation_id: int, position: int) -> str:
    return signing.dumps([organisation_id, position], salt=CURSOR_SALT, compress=False)


def cursor_decode(cursor: str, *, organisation_id: int) -> int:
    """The position a cursor stands for. A forged, damaged or foreign cursor is refused."""
    try:
        org, position = signing.loads(cursor, salt=CURSOR_SALT)
    except (signing.BadSignature, TypeError, ValueError) as exc:
        raise BrokerageError("This cursor is not valid.", field="cursor", code="invalid") from exc
    if org != organisation_id or not isinstance(position, int) or position < 0:
        raise BrokerageError("This cursor is not valid.", field="cursor", code="invalid")
    return position


@dataclass
class FeedPage:
    events: list[dict]
    next_cursor: str
    has_more: bool


def feed_page(
    *,
    organisation: PartnerOrganisation,
    audiences,
    cursor: str = "",
    limit: int = DEFAULT_LIMIT,
) -> FeedPage:
    """Up to `limit` events for `audiences` after `cursor` (from the start without one),
    oldest first. `next_cursor` resumes after the last event returned (or stays put)."""
    limit = max(1, min(limit, MAX_LIMIT))
    after = cursor_decode(cursor, organisation_id=organisation.pk) if cursor else 0
    entries = list(
        FeedEntry.objects.filter(
            organisation=organisation, audience__in=list(audiences), pk__gt=after
        )
        .select_related("event")
        .order_by("pk")[: limit + 1]
    )
    has_more = len(entries) > limit
    entries = entries[:limit]
    references = _inquiry_references({inquiry_id_of(e.event) for e in entries})
    events = [
        event_body(e.event, inquiry_reference=references.get(inquiry_id_of(e.event)))
        for e in entries
    ]
    position = entries[-1].pk if entries else after
    return FeedPage(
        events=events,
        next_cursor=cursor_encode(organisation_id=organisation.pk, position=position),
        has_more=has_more,
    )


def _inquiry_references(ids) -> dict[int, str]:
    return dict(Inquiry.objects.filter(pk__in=ids).values_list("pk", "reference"))

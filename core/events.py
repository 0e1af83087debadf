"""Record domain events in the caller's transaction; dispatch them after commit."""

from django.db import transaction

from .models import DomainEvent
from .queueing import enqueue_each

# The dispatcher lives in brokerage (a higher layer): it is called by task name, not import.
DISPATCH_TASK = "brokerage.event_dispatch_task"


def record(*, kind: str, subject, actor=None, network_id=None, **payload) -> DomainEvent:
    """Write an event about `subject` (a model instance). Call inside the service's
    transaction; its dispatch is queued after commit."""
    event = DomainEvent.objects.create(
        kind=kind,
        aggregate=subject._meta.model_name,
        aggregate_id=subject.pk,
        network_id=network_id,
        payload=payload,
        actor=actor if actor is not None and actor.is_authenticated else None,
    )
    transaction.on_commit(lambda: enqueue_dispatch([event.pk]))
    return event


def enqueue_dispatch(event_ids) -> int:
    """Queue events for dispatch. A broker outage is logged, not raised: the relay retries."""
    return enqueue_each(DISPATCH_TASK, event_ids)

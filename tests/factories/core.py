"""Factories of the core app: the status log, the event outbox and idempotency keys."""

import factory
from django.contrib.contenttypes.models import ContentType

from core.models import DomainEvent, IdempotencyRecord, StatusChange

from .members import NetworkFactory, UserFactory


class StatusChangeFactory(factory.django.DjangoModelFactory):
    """A status-change row of `subject` (a network by default: any saved row will do)."""

    class Meta:
        model = StatusChange
        exclude = ("subject",)

    subject = factory.SubFactory(NetworkFactory)
    content_type = factory.LazyAttribute(lambda o: ContentType.objects.get_for_model(o.subject))
    object_id = factory.SelfAttribute("subject.pk")
    from_status = ""
    to_status = "active"


class DomainEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DomainEvent

    kind = "inquiry.submitted"
    aggregate = "inquiry"
    aggregate_id = factory.Sequence(lambda n: n + 1)


class IdempotencyRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdempotencyRecord

    user = factory.SubFactory(UserFactory)
    scope = "inquiry.create"
    key = factory.Sequence(lambda n: f"key-{n}")
    body_hash = "0" * 64

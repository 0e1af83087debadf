from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class StatusChange(models.Model):
    """One state change of any aggregate: from, to, who, when and why. Append-only."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    from_status = models.CharField(max_length=40, blank=True)
    to_status = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # For moves made by the system (a scheduled job), who made it in words.
    actor_label = models.CharField(max_length=100, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id", "created_at"])]

    def __str__(self):
        return f"{self.content_type.model}#{self.object_id}: {self.from_status} → {self.to_status}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("StatusChange rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("StatusChange rows are append-only")


class DomainEvent(models.Model):
    """Something that happened (an inquiry submitted, an award confirmed), written in the same
    transaction as the change: the outbox. The brokerage dispatcher turns each event into
    notifications (and, for partners, webhooks and the change feed) after commit; rows not yet
    dispatched are picked up again by a relay job, so no event is lost if the broker is down.
    """

    kind = models.CharField(max_length=60)
    aggregate = models.CharField(max_length=40)
    aggregate_id = models.PositiveBigIntegerField()
    network_id = models.PositiveBigIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["aggregate", "aggregate_id", "id"]),
            models.Index(
                fields=["created_at"],
                condition=models.Q(dispatched_at__isnull=True),
                name="event_undispatched",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.aggregate}#{self.aggregate_id}"


class IdempotencyRecord(models.Model):
    """A create request sent with an `Idempotency-Key`: who sent it, for which operation,
    a hash of its canonical body, whether it is still running, and what it made.

    Inserted and committed on its own before the work starts (core.idempotency), so a second
    request with the same key finds it at once instead of waiting on the first one's
    transaction: still running → 409, another body → 422, done → the first result again."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress"
        DONE = "done"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=60)  # the operation, e.g. "inquiry.create"
    key = models.CharField(max_length=100)
    body_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    result_id = models.PositiveBigIntegerField(null=True, blank=True)  # the object it made
    # When the request now running started (a retry may take over one that died).
    started_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "scope", "key"], name="one_request_per_idempotency_key"
            )
        ]

    def __str__(self):
        return f"{self.scope} {self.key} ({self.status})"

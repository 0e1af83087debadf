"""The one way a status moves: checked against the aggregate's table, recorded with actor."""

from collections.abc import Mapping

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .errors import InvalidTransition
from .models import StatusChange


def transition(
    obj: models.Model,
    *,
    to: str,
    allowed: Mapping[str, frozenset[str] | set[str]],
    actor=None,
    actor_label: str = "",
    reason: str = "",
    field: str = "status",
    update_fields: tuple[str, ...] = (),
) -> bool:
    """Move `obj` to status `to` if the table allows it; record the change.

    Call inside the service's transaction with `obj` locked. Returns False and does nothing
    when `obj` is already in `to` (a repeated request or task is a no-op).
    """
    current = getattr(obj, field)
    if current == to:
        return False
    if to not in allowed.get(current, ()):
        label = obj._meta.get_field(field).choices and dict(obj._meta.get_field(field).choices)
        raise InvalidTransition(
            f"Cannot move {obj._meta.verbose_name} from "
            f"'{label.get(current, current) if label else current}' to "
            f"'{label.get(to, to) if label else to}'.",
            field=field,
        )
    setattr(obj, field, to)
    obj.save(update_fields=[field, *update_fields])
    StatusChange.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        from_status=current,
        to_status=to,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor_label,
        reason=reason,
    )
    return True


def record_creation(obj: models.Model, *, actor=None, reason: str = "", field: str = "status"):
    """Record the first status of a new aggregate, so its history starts at its creation."""
    StatusChange.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        from_status="",
        to_status=getattr(obj, field),
        actor=actor if actor is not None and actor.is_authenticated else None,
        reason=reason,
    )


def history(obj: models.Model):
    return StatusChange.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
    ).select_related("actor")

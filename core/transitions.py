"""The one way a status moves: checked against the aggregate's table, recorded with actor.

`transition()` moves one locked row; `transition_many()` moves a set of rows in one UPDATE
(the other open invitations of a package, say) and records each row's change all the same.
No other code writes a status (tests/architecture/test_status_writes.py checks it)."""

from collections.abc import Mapping

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .errors import InvalidTransition
from .models import StatusChange

Table = Mapping[str, frozenset[str] | set[str]]


def _refusal(model: type[models.Model], field: str, current: str, to: str) -> InvalidTransition:
    choices = dict(model._meta.get_field(field).choices or ())
    return InvalidTransition(
        f"Cannot move {model._meta.verbose_name} from "
        f"'{choices.get(current, current)}' to '{choices.get(to, to)}'.",
        field=field,
    )


def _who(actor) -> dict:
    return {"actor": actor if actor is not None and actor.is_authenticated else None}


def transition(
    obj: models.Model,
    *,
    to: str,
    allowed: Table,
    actor=None,
    actor_label: str = "",
    reason: str = "",
    field: str = "status",
    update_fields: tuple[str, ...] = (),
) -> bool:
    """Move `obj` to status `to` if the table allows it; record the change.

    Call inside the service's transaction with `obj` locked. Returns False and does nothing
    when `obj` is already in `to` (a repeated request or task is a no-op): the caller saves
    its other fields itself then, if it changed any.
    """
    current = getattr(obj, field)
    if current == to:
        return False
    if to not in allowed.get(current, ()):
        raise _refusal(type(obj), field, current, to)
    setattr(obj, field, to)
    obj.save(update_fields=[field, *update_fields])
    StatusChange.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        from_status=current,
        to_status=to,
        actor_label=actor_label,
        reason=reason,
        **_who(actor),
    )
    return True


def transition_many(
    queryset: models.QuerySet,
    *,
    to: str,
    allowed: Table,
    actor=None,
    actor_label: str = "",
    reason: str = "",
    field: str = "status",
    changes: Mapping[str, object] | None = None,
) -> list[int]:
    """Move every row of `queryset` to `to` in one UPDATE, with `changes` (other fields);
    record one StatusChange per row. Returns the ids moved.

    Call inside the service's transaction. The rows are locked first; rows already in `to`
    are left as they are, and a row the table does not let move refuses the whole call
    (InvalidTransition), as `transition()` would. The UPDATE is guarded by the statuses read
    under the lock. Three queries, however many rows.
    """
    model = queryset.model
    rows = list(
        queryset.select_for_update().order_by("pk").values_list("pk", field)
    )  # lock in id order: two callers cannot deadlock
    moving = [(pk, current) for pk, current in rows if current != to]
    for _pk, current in moving:
        if to not in allowed.get(current, ()):
            raise _refusal(model, field, current, to)
    if not moving:
        return []
    ids = [pk for pk, _current in moving]
    model._base_manager.filter(
        pk__in=ids, **{f"{field}__in": {current for _pk, current in moving}}
    ).update(**{field: to}, **(changes or {}))
    content_type = ContentType.objects.get_for_model(model)
    StatusChange.objects.bulk_create(
        StatusChange(
            content_type=content_type,
            object_id=pk,
            from_status=current,
            to_status=to,
            actor_label=actor_label,
            reason=reason,
            **_who(actor),
        )
        for pk, current in moving
    )
    return ids


def record_creation(obj: models.Model, *, actor=None, reason: str = "", field: str = "status"):
    """Record the first status of a new aggregate, so its history starts at its creation."""
    StatusChange.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        from_status="",
        to_status=getattr(obj, field),
        reason=reason,
        **_who(actor),
    )


def history(obj: models.Model):
    return StatusChange.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
    ).select_related("actor")

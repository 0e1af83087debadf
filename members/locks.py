"""Row locks for services. A no-op on SQLite, which serialises writers anyway."""

from django.db import models


def lock_one(model: type[models.Model], pk: int):
    return model.objects.select_for_update(of=("self",)).get(pk=pk)

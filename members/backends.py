"""Authentication backend: Django's, loading the user's buyer profile and staff seats in the
same query."""

from django.contrib.auth import backends, get_user_model
from django.db import connection

from .permissions import staff_seats_column


class ModelBackend(backends.ModelBackend):
    """`roles_of(user).is_buyer` and its staff seats are asked on nearly every request;
    without the join and the array (PostgreSQL) each costs a query of its own (most users
    have no buyer profile, and a miss is not cached)."""

    def get_user(self, user_id):
        users = get_user_model()._default_manager.select_related("buyer")
        if connection.vendor == "postgresql":
            users = users.annotate(staff_seats_loaded=staff_seats_column())
        user = users.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

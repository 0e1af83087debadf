"""Authentication backend: Django's, loading the user's buyer profile in the same query."""

from django.contrib.auth import backends, get_user_model


class ModelBackend(backends.ModelBackend):
    """`roles_of(user).is_buyer` is asked on nearly every request; without the join it costs
    a query of its own (most users have no buyer profile, and a miss is not cached)."""

    def get_user(self, user_id):
        users = get_user_model()._default_manager.select_related("buyer")
        user = users.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from brokerage import notifications, selectors
from brokerage.models import Notification
from core.api import ScopedViewSet
from core.pagination import KeysetPagination


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "subject", "body", "link", "created_at", "read_at"]
        read_only_fields = fields


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The caller's inbox. `?unread=true` lists only unread notifications."""

    selector = staticmethod(selectors.notification_list)
    model = Notification
    serializer_class = NotificationSerializer
    pagination_class = KeysetPagination
    ordering_fields = ["created_at"]

    def get_queryset(self):
        qs = super().get_queryset()
        if self.request.query_params.get("unread") in ("1", "true"):
            qs = qs.filter(read_at__isnull=True)
        return qs

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = notifications.notification_mark_read(
            actor=request.user, notification=self.get_object()
        )
        return Response(NotificationSerializer(notification).data)

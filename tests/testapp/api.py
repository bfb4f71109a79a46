"""A Django REST framework API over ``Avatar`` for the tests: a plain ``ModelSerializer``
(the ``S3FileField`` mapping is the app's, nothing declared here) and a viewset."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from buckets.drf import upload_field_tokens
from tests.testapp.models import Avatar


class AvatarSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Avatar
        fields = ["id", "pdf"]


class AvatarViewSet(viewsets.ModelViewSet):  # type: ignore[type-arg]
    queryset = Avatar.objects.order_by("pk")
    serializer_class = AvatarSerializer
    permission_classes = [permissions.IsAuthenticated]

    @action(detail=False)
    def upload_fields(self, request: Request) -> Any:
        """The field tokens a client signs its uploads with."""
        return Response(upload_field_tokens(self.get_serializer()))

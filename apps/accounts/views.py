from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.serializers import MeOutputSerializer, MeUpdateSerializer
from apps.accounts.services import user_profile_update


class MeView(APIView):
    """The signed-in user's own profile."""

    @extend_schema(responses=MeOutputSerializer)
    def get(self, request: Request, version: str | None = None) -> Response:
        return Response(MeOutputSerializer(request.user).data)

    @extend_schema(request=MeUpdateSerializer, responses=MeOutputSerializer)
    def patch(self, request: Request, version: str | None = None) -> Response:
        serializer = MeUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = user_profile_update(user=request.user, data=serializer.validated_data)
        return Response(MeOutputSerializer(user).data)

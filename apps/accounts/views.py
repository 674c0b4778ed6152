from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.serializers import MeOutputSerializer, MeUpdateSerializer
from apps.accounts.services import user_delete, user_profile_update


class MeView(APIView):
    """The signed-in user's own profile. Whose it is comes from the access token alone."""

    @extend_schema(responses=MeOutputSerializer)
    def get(self, request: Request, version: str | None = None) -> Response:
        return Response(MeOutputSerializer(request.user).data)

    @extend_schema(request=MeUpdateSerializer, responses=MeOutputSerializer)
    def patch(self, request: Request, version: str | None = None) -> Response:
        serializer = MeUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = user_profile_update(user=request.user, data=serializer.validated_data)
        return Response(MeOutputSerializer(user).data)

    @extend_schema(
        request=None,
        responses={
            204: OpenApiResponse(description="The account and everything of it are gone."),
            503: OpenApiResponse(description="Storage unavailable; nothing was deleted."),
        },
        description=(
            "Delete the account: profile, closet, searches, every stored file, sessions "
            "(all access and refresh tokens stop working), cache and index entries."
        ),
    )
    def delete(self, request: Request, version: str | None = None) -> Response:
        user_delete(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

from rest_framework import serializers

from apps.accounts.models import User
from config.taxonomy import styles


class MeOutputSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "nickname",
            "gender",
            "age_band",
            "preferred_styles",
            "sizes",
            "date_joined",
        ]
        read_only_fields = fields


class MeUpdateSerializer(serializers.Serializer[User]):
    nickname = serializers.CharField(max_length=50, required=False, allow_blank=True)
    gender = serializers.ChoiceField(choices=User.Gender.choices, required=False)
    age_band = serializers.ChoiceField(choices=User.AgeBand.choices, required=False)
    preferred_styles = serializers.ListField(
        child=serializers.ChoiceField(choices=styles()), required=False, max_length=23
    )
    sizes = serializers.DictField(
        child=serializers.CharField(max_length=20), required=False, help_text='e.g. {"top": "M"}'
    )

    def validate_sizes(self, sizes: dict[str, str]) -> dict[str, str]:
        """Keys are garment names a person typed: short, printable text."""
        for key in sizes:
            if not key or len(key) > 30 or not key.isprintable():
                raise serializers.ValidationError(
                    f"Size names must be 1 to 30 printable characters; {key!r} is not."
                )
        if len(sizes) > 20:
            raise serializers.ValidationError("At most 20 sizes.")
        return sizes

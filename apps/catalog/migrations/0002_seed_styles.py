"""The 23 K-Fashion styles (config/taxonomy/styles.json, version 1) as Style rows.

The list is written out here, not read from the file, so the migration means the same
thing whenever it runs; a new taxonomy version comes with a new migration.
"""

from django.db import migrations

STYLES_V1 = [
    "classic", "manish", "feminine", "hippie", "modern", "country", "genderless",
    "sporty", "retro", "military", "preppy", "tomboy", "romantic", "western",
    "sophisticated", "resort", "kitsch", "street", "sexy", "oriental", "avantgarde",
    "hiphop", "punk",
]


def seed(apps, schema_editor):
    Style = apps.get_model("catalog", "Style")
    for position, slug in enumerate(STYLES_V1):
        Style.objects.update_or_create(slug=slug, defaults={"position": position})


def unseed(apps, schema_editor):
    apps.get_model("catalog", "Style").objects.filter(slug__in=STYLES_V1).delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]

from django.core.management import call_command


def test_no_model_change_lacks_a_migration(db):
    # Raises SystemExit(1) when makemigrations would write something.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)

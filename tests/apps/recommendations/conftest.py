"""The catalog's fixtures (its stand-in analyser, the seeded styles) for these tests."""

from tests.apps.catalog.conftest import _styles_present, analyser  # noqa: F401

"""Fixtures for the emergency tests: residents of the small world (shared with the community
tests, whose conftest builds them)."""

from tests.community.conftest import _media_in_tmp, make_resident, people  # noqa: F401

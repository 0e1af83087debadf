"""The order fixtures live in tests/conftest.py (browser and brokerage tests use them too)."""

from tests.helpers import pass_deadline

__all__ = ["pass_deadline"]

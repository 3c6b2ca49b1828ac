"""The signing page's tests run on SQLite unless they ask for both dialects."""

from tests.delivery.conftest import both_dialects, database_url

__all__ = ["both_dialects", "database_url"]

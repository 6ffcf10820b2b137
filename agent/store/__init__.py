"""Encrypted, audited storage of patient data (SQLite by default, PostgreSQL by URL)."""

from .crypto import Cipher, load_or_create_key
from .store import Store, utcnow

__all__ = ["Store", "Cipher", "load_or_create_key", "utcnow", "open_store"]


def open_store(settings) -> Store:
    """The store the settings describe, with the key from ``ATTUNE_KEY`` or the key file."""
    key = load_or_create_key(settings.resolved_key_file, settings.key)
    return Store(settings.resolved_database_url, key)

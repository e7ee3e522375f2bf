"""Open the memory and the keys table at start-up, one server process at a time.

Several workers starting at once on a fresh PostgreSQL database would all create the schema
together, and PostgreSQL refuses the concurrent ``CREATE TABLE``s (a unique violation in
``pg_type``). Each process therefore takes the backend's process lock (on PostgreSQL an advisory
lock, on its own short-lived connection) while it opens the memory (which creates or upgrades
the schema) and the keys table; the others wait for it and then find everything in place.
SQLite needs no lock: its writes are serialised by the database file.
"""

from __future__ import annotations

from confidante.memory.storage.backends import normalise_url, operations_for
from confidante.memory.store import Memory
from confidante.server.keys import KeyStore
from confidante.settings import Settings

#: The advisory lock held while one process prepares the database ("confsrvr").
STARTUP_LOCK = 0x636F6E66_73727672


def open_storage(settings: Settings, memory: Memory | None = None) -> tuple[Memory, KeyStore]:
    """Open the memory (unless given) and make sure the keys table exists (blocking).

    Args:
        settings: Where the database is.
        memory: An already open memory (only its keys table is prepared).

    Returns:
        The memory and the key store over its database.
    """
    if memory is not None:
        keys = KeyStore(memory.database)
        keys.prepare()
        return memory, keys
    url = normalise_url(settings.resolved_database_url)
    with operations_for(url).process_lock(url, STARTUP_LOCK):
        store = Memory.open(settings=settings)
        keys = KeyStore(store.database)
        keys.prepare()
    return store, keys

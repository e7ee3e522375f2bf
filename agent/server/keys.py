"""API keys: each key belongs to one user and is stored only as a hash.

The table ``server_api_keys`` (:class:`ApiKeyRecord`) lives in the memory database (same URL,
same engine), a table model like the memory's; :meth:`KeyStore.prepare` creates it when missing,
and columns added in a later version are added when the memory is opened (see
:func:`~confidante.memory.storage.schema.add_missing_columns`). A key is ``cft_`` followed by 43
random URL-safe characters (256 bits), so a plain SHA-256 is enough to store it: nobody can
guess a key from its hash.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Column, DateTime, select, update
from sqlmodel import Field, Session, SQLModel

from confidante._sync import sync_twin
from confidante.errors import InvalidInputError, NotFoundError
from confidante.memory.items import check_person_id, shown
from confidante.memory.storage.database import Database
from confidante.memory.storage.records import utcnow
from confidante.memory.storage.schema import create_tables
from confidante.memory.store import check_user_id

KEY_PREFIX = "cft_"


class ApiKeyRecord(SQLModel, table=True):
    """A stored API key: its owner, a label, the first characters and the hash of the secret."""

    __tablename__ = "server_api_keys"

    id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(max_length=200, index=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


#: The keys table (SQLAlchemy Core), for the statements below.
api_keys: Any = ApiKeyRecord.__table__  # type: ignore[attr-defined]


class ApiKeyInfo(BaseModel):
    """A stored key, without its secret.

    Attributes:
        id: The key's id (to revoke it).
        user: The user the key acts for.
        name: A label given at creation.
        prefix: The first characters of the key, to recognise it.
        created_at: When it was made.
        revoked_at: When it was revoked (None while valid).
    """

    id: str
    user: str
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None


def hash_key(secret: str) -> str:
    """Return the stored form of a key (SHA-256, hex)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _info(row: Any) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=row.id,
        user=row.user_id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


class KeyStore:
    """Create, check, list and revoke API keys in a memory database.

    Args:
        database: The memory database (see :class:`confidante.memory.storage.database.Database`).
    """

    def __init__(self, database: Database) -> None:
        self.database = database

    def prepare(self) -> None:
        """Create the keys table if it is missing (safe when several processes race)."""
        create_tables(self.database.engine, [api_keys])

    async def acreate(self, user_id: str, name: str = "") -> tuple[ApiKeyInfo, str]:
        """Make a key for a user; returns its record and the key (shown only this once).

        Raises:
            InvalidInputError: The user id is invalid, or reserved for shared memories
                (``@global``, ``@persona:NAME``): a key for one would plant memories that every
                user's retrieval reads.
        """
        check_person_id(user_id)
        if len(name) > 100 or "\x00" in name:
            raise InvalidInputError("a key name is at most 100 characters, no NUL")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        values = {
            "id": uuid.uuid4().hex,
            "user_id": user_id,
            "name": name,
            "prefix": secret[:12],
            "key_hash": hash_key(secret),
            "created_at": utcnow(),
            "revoked_at": None,
        }

        def write(session: Session) -> None:
            session.connection().execute(api_keys.insert().values(values))

        await self.database.run(write)
        return _info(_Row(values)), secret

    async def aauthenticate(self, secret: str) -> str | None:
        """Return the user a valid key acts for, or None (unknown or revoked key)."""
        if not secret.startswith(KEY_PREFIX) or len(secret) > 200:
            return None
        digest = hash_key(secret)

        def read(session: Session) -> str | None:
            query = select(api_keys.c.user_id, api_keys.c.key_hash).where(
                api_keys.c.key_hash == digest, api_keys.c.revoked_at.is_(None)
            )
            row = session.connection().execute(query).first()
            if row is None or not secrets.compare_digest(row.key_hash, digest):
                return None
            return str(row.user_id)

        return await self.database.run(read, write=False)

    async def alist_keys(self, user_id: str | None = None) -> list[ApiKeyInfo]:
        """Return the keys (all users', or one user's), oldest first, without secrets."""
        query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
        if user_id is not None:
            query = query.where(api_keys.c.user_id == check_user_id(user_id))

        def read(session: Session) -> list[ApiKeyInfo]:
            return [_info(row) for row in session.connection().execute(query)]

        return await self.database.run(read, write=False)

    async def arevoke(self, key_id: str) -> ApiKeyInfo:
        """Revoke a key by id; it stops working at once (``NotFoundError`` if unknown)."""

        def write(session: Session) -> ApiKeyInfo:
            connection = session.connection()
            row = connection.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
            if row is None:
                raise NotFoundError(f"no API key {shown(key_id)}")
            if row.revoked_at is None:
                now = utcnow()
                connection.execute(
                    update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=now)
                )
                return _info(row).model_copy(update={"revoked_at": now})
            return _info(row)

        if "\x00" in key_id or len(key_id) > 32:
            raise NotFoundError(f"no API key {shown(key_id)}")
        return await self.database.run(write)

    async def adelete_user(self, user_id: str) -> int:
        """Delete every key of a user; returns how many."""
        check_user_id(user_id)

        def write(session: Session) -> int:
            result = session.connection().execute(
                api_keys.delete().where(api_keys.c.user_id == user_id)
            )
            return int(result.rowcount or 0)

        return await self.database.run(write)

    create = sync_twin(acreate)
    authenticate = sync_twin(aauthenticate)
    list_keys = sync_twin(alist_keys)
    revoke = sync_twin(arevoke)
    delete_user = sync_twin(adelete_user)


class _Row:
    """Attribute access over a dict, to build an :class:`ApiKeyInfo` from inserted values."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

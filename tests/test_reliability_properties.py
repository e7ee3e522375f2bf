"""Property-based tests (hypothesis) of the memory API on SQLite.

A state machine drives remember / remember_many / update / forget / forget_user / cross-user
reads with generated users and texts (any Unicode but NUL and lone surrogates, odd spacing,
SQL and full-text syntax included) against a plain-dict model of what each user should have.
After every step each user's items must equal the model exactly (ids and texts), retrieval
must return only the user's own items, and another user's id must look not found.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    precondition,
    rule,
)
from workers.common import HashEmbedder

from confidante.errors import InvalidInputError, NotFoundError
from confidante.memory.items import text_fingerprint
from confidante.memory.store import Memory

USERS = st.sampled_from(["ana", "bob", "ana ", "Ana", "o'brien; --", "用户"])
_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
TEXTS = st.one_of(
    st.text(_CHARS, min_size=1, max_size=40),
    st.sampled_from(["I like tea.", "i like TEA", "'; DROP TABLE concepts; --", 'a" OR *']),
).filter(lambda text: bool(text.strip()))
INVALID = st.one_of(
    st.just(""),
    st.text(st.sampled_from(" \t\n\r"), min_size=1, max_size=5),
    st.text(_CHARS, max_size=5).map(lambda t: t + "\x00"),
    st.text(_CHARS, max_size=5).map(lambda t: t + "\udc80"),
)


class MemoryMachine(RuleBasedStateMachine):
    """The memory against a dict of ``user -> {id: text}``."""

    items = Bundle("items")

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="confidante-prop-"))
        self.memory = Memory.open(self.folder / "memory.db", embedder=HashEmbedder())
        self.memory.near_duplicate_threshold = None
        self.model: dict[str, dict[str, str]] = {}

    def teardown(self) -> None:
        self.memory.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _expected_id(self, user: str, text: str) -> str | None:
        fingerprint = text_fingerprint(text.strip())
        for item_id, stored in self.model.get(user, {}).items():
            if text_fingerprint(stored) == fingerprint:
                return item_id
        return None

    def _all_ids(self) -> set[str]:
        return {item_id for items in self.model.values() for item_id in items}

    @rule(target=items, user=USERS, text=TEXTS)
    def remember(self, user: str, text: str) -> tuple[str, str]:
        expected = self._expected_id(user, text)
        known = self._all_ids()
        item_id = self.memory.remember(user, text)
        if expected is not None:
            assert item_id == expected, "the same text must return the existing id"
        else:
            assert item_id not in known, "a new item reused an id"
            self.model.setdefault(user, {})[item_id] = text.strip()
        return user, item_id

    @rule(user=USERS, texts=st.lists(TEXTS, min_size=1, max_size=4))
    def remember_many(self, user: str, texts: list[str]) -> None:
        ids = self.memory.remember_many(user, texts)
        assert len(ids) == len(texts)
        for text, item_id in zip(texts, ids, strict=True):
            expected = self._expected_id(user, text)
            assert expected is None or expected == item_id
            self.model.setdefault(user, {}).setdefault(item_id, text.strip())

    @rule(user=USERS, bad=INVALID)
    def remember_invalid(self, user: str, bad: str) -> None:
        try:
            self.memory.remember(user, bad)
        except InvalidInputError:
            return
        raise AssertionError(f"{bad!r} was accepted")

    @rule(entry=items, text=TEXTS)
    def update(self, entry: tuple[str, str], text: str) -> None:
        user, item_id = entry
        if item_id not in self.model.get(user, {}):
            try:
                self.memory.update(user, item_id, text=text)
            except NotFoundError:
                return
            raise AssertionError("a forgotten item was updated")
        hit = self.memory.update(user, item_id, text=text)
        assert hit.text == text.strip()
        self.model[user][item_id] = text.strip()

    @rule(entry=consumes(items))
    def forget(self, entry: tuple[str, str]) -> None:
        user, item_id = entry
        if item_id in self.model.get(user, {}):
            self.memory.forget(user, item_id)
            del self.model[user][item_id]
        else:
            try:
                self.memory.forget(user, item_id)
            except NotFoundError:
                return
            raise AssertionError("a forgotten item was forgotten again")

    @precondition(lambda self: bool(self.model))
    @rule(user=USERS)
    def forget_user(self, user: str) -> None:
        self.memory.forget_user(user)
        self.model.pop(user, None)

    @rule(entry=items, other=USERS)
    def other_users_cannot_touch(self, entry: tuple[str, str], other: str) -> None:
        user, item_id = entry
        if other == user:
            return
        for call in (
            lambda: self.memory.get(other, item_id),
            lambda: self.memory.update(other, item_id, text="stolen"),
            lambda: self.memory.forget(other, item_id),
        ):
            try:
                call()
            except NotFoundError:
                continue
            raise AssertionError(f"{other!r} reached {user!r}'s item")

    @invariant()
    def lists_match_the_model(self) -> None:
        for user in ["ana", "bob", "ana ", "Ana", "o'brien; --", "用户"]:
            listed = {hit.id: hit.text for hit in self.memory.list_items(user)}
            assert listed == self.model.get(user, {}), user

    @invariant()
    def retrieval_returns_only_own_items(self) -> None:
        for user, owned in self.model.items():
            for text in list(owned.values())[:2]:
                hits = self.memory.retrieve(user, text, k=50)
                assert {hit.id for hit in hits} <= set(owned)
                assert any(hit.text == text for hit in hits), "an item cannot be found by its text"


MemoryMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestMemoryStateMachine = pytest.mark.slow(MemoryMachine.TestCase)

"""Settings: the ``model`` setting accepts every registered provider, and only those."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from langchain_core.language_models import BaseChatModel
from pydantic import ValidationError

from confidante import Settings
from confidante.models import NAMED_PROVIDERS, PROVIDERS, build_chat_model
from confidante.models.scripted import ScriptedChatModel


@pytest.fixture
def custom_provider() -> Iterator[None]:
    def build(settings: Settings) -> BaseChatModel:
        return ScriptedChatModel()

    PROVIDERS["house"] = build
    NAMED_PROVIDERS.add("house")
    try:
        yield
    finally:
        del PROVIDERS["house"]
        NAMED_PROVIDERS.discard("house")


@pytest.mark.parametrize("model", ["local", "scripted", "openai:gpt-4o-mini"])
def test_built_in_providers_are_accepted(model: str) -> None:
    assert Settings(model=model).model == model


@pytest.mark.parametrize("model", ["gpt-5", "lcoal", "openai", "openai:", "local:", ""])
def test_anything_else_is_refused_with_the_choices(model: str) -> None:
    with pytest.raises(ValidationError, match="use one of 'local', 'openai:MODEL_NAME'"):
        Settings(model=model)


def test_a_provider_added_to_the_registry_can_be_selected(custom_provider: None) -> None:
    settings = Settings(model="house:tiny")
    assert isinstance(build_chat_model(settings), ScriptedChatModel)
    with pytest.raises(ValidationError, match="'house:MODEL_NAME'"):
        Settings(model="house")

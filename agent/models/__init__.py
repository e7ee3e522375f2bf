"""Chat model providers (M in the personalization pipeline).

:func:`build_chat_model` maps the ``model`` setting to a provider:

- ``local``: the embedded llama.cpp model (:class:`~confidante.models.local.LocalChatModel`);
- ``scripted``: the deterministic :class:`~confidante.models.scripted.ScriptedChatModel`;
- ``openai:NAME``: :class:`~confidante.models.openai_compat.OpenAICompatibleChatModel`.

Any langchain-core chat model can also be passed directly wherever a model is accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from confidante.settings import Settings


def _local(settings: Settings) -> BaseChatModel:
    from confidante.models.local import LocalChatModel

    return LocalChatModel.from_settings(settings)


def _scripted(settings: Settings) -> BaseChatModel:
    from confidante.models.scripted import ScriptedChatModel

    return ScriptedChatModel()


def _openai(settings: Settings) -> BaseChatModel:
    from confidante.models.openai_compat import OpenAICompatibleChatModel

    return OpenAICompatibleChatModel(
        model_name=settings.model.split(":", 1)[1],
        base_url=settings.openai_base_url,
        api_key=settings.openai_api_key,
        timeout_s=settings.request_timeout_s,
        max_tokens=settings.max_reply_tokens,
    )


#: Provider name -> factory. Applications may add their own; ``Settings.model`` accepts any key
#: (``NAME`` or ``NAME:MODEL``).
PROVIDERS: dict[str, Callable[[Settings], BaseChatModel]] = {
    "local": _local,
    "scripted": _scripted,
    "openai": _openai,
}
#: Providers whose setting must name a model (``openai:MODEL_NAME``).
NAMED_PROVIDERS: set[str] = {"openai"}


def needs_model_name(provider: str) -> bool:
    """Return whether the ``model`` setting must name a model after ``provider:``."""
    return provider in NAMED_PROVIDERS


def build_chat_model(settings: Settings) -> BaseChatModel:
    """Return the chat model the settings name (``local``, ``scripted`` or ``openai:NAME``)."""
    return PROVIDERS[settings.model.split(":", 1)[0]](settings)


__all__ = ["NAMED_PROVIDERS", "PROVIDERS", "build_chat_model", "needs_model_name"]

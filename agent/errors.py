"""The error tree of confidante.

::

    ConfidanteError
    ├── ConfigurationError        a setting, a package or a model file is missing or wrong
    │   └── ModelNotAvailableError    the chosen chat model or embedder cannot be loaded
    ├── InvalidInputError         the caller passed something unusable (empty text, bad id...)
    │   ├── NotFoundError             no such user / memory for this user
    │   └── SecretRefusedError        a text to store holds a secret (``secret_policy=refuse``)
    └── ModelError                the chat model failed at run time (timeout, bad output)
        └── StructuredOutputError     output did not validate against the schema after retries

Errors for the developer's mistakes (``ConfigurationError``, ``InvalidInputError``) are kept
apart from run-time failures (``ModelError``).
"""

from __future__ import annotations


class ConfidanteError(Exception):
    """Base class of every error raised by confidante."""


class ConfigurationError(ConfidanteError):
    """A setting, an optional package or a model file is missing or wrong."""


class ModelNotAvailableError(ConfigurationError):
    """The chosen chat model or embedder cannot be loaded; the message says how to fix it."""


class InvalidInputError(ConfidanteError, ValueError):
    """The caller passed an unusable value (empty text, malformed id, unknown user...)."""


class NotFoundError(InvalidInputError, LookupError):
    """The user or the memory item does not exist (for this user)."""


class SecretRefusedError(InvalidInputError):
    """A text to store holds a secret and the write policy is ``refuse``; nothing was stored.

    Attributes:
        kinds: What was found (``card_number``, ``iban``, ``password``, ``api_key``...); the
            message names them too, never the secret itself.
    """

    def __init__(self, message: str, kinds: list[str] | None = None) -> None:
        super().__init__(message)
        self.kinds = list(kinds or [])


class ModelError(ConfidanteError):
    """The chat model failed at run time: a timeout, an error or unusable output."""


class StructuredOutputError(ModelError):
    """The model's output did not validate against the requested schema after retries."""


__all__ = [
    "ConfidanteError",
    "ConfigurationError",
    "InvalidInputError",
    "ModelError",
    "ModelNotAvailableError",
    "NotFoundError",
    "SecretRefusedError",
    "StructuredOutputError",
]

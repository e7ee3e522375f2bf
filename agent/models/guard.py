"""A switch that forbids network chat models, for test suites.

``block_network_models()`` makes every OpenAI-compatible model refuse to send a request.
confidante's own tests turn it on in ``conftest.py``; an application's tests can do the same.
"""

from __future__ import annotations

from confidante.errors import ConfigurationError

_blocked = False


def block_network_models(blocked: bool = True) -> None:
    """Forbid (or allow again) requests to network chat models in this process."""
    global _blocked
    _blocked = blocked


def check_network_allowed(model_name: str) -> None:
    """Raise if network models are blocked.

    Raises:
        ConfigurationError: ``block_network_models()`` is in force.
    """
    if _blocked:
        raise ConfigurationError(
            f"network model {model_name!r} called while network models are blocked "
            "(tests must use the scripted model)"
        )

"""Secrets a user may type, found so that they are never stored: cards, IBANs, passwords, keys.

:func:`find_secrets` returns the :class:`Span` of each secret in a text, :func:`redact` replaces
each with a placeholder ("[card number removed]"), and :func:`screen` applies a write policy
(:data:`SecretPolicy`): ``allow`` stores texts as they are, ``redact`` (the default) replaces
the secrets, ``refuse`` raises :class:`~confidante.errors.SecretRefusedError`. The memory
screens every text it writes (``Memory.secret_policy``) and the agent screens each message
before the graph sees it, so a secret reaches no table, checkpoint, log line or export.

What counts as a secret (``kind``: what it is):

- ``card_number``: 13 to 19 digits, in groups split by single spaces or dashes, with a card
  issuer's prefix and length (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay,
  Maestro) and a valid Luhn check digit (:mod:`stdnum.luhn`). A phone, order or account
  number rarely has all three; one that has them cannot be told from a card and is removed.
- ``iban``: a country code, two check digits and the account, compact or in groups of four,
  valid for that country's format and the mod-97 check (:mod:`stdnum.iban`).
- ``password``: the value a text says is a password, passphrase, passcode or PIN ("my
  password is hunter2", "the wifi password for guests is 'blue horse'", "password: x9!").
  Words that describe a password instead ("my password is too short") are not taken.
- ``api_key``: keys with a well-known prefix (OpenAI and Anthropic ``sk-``, Stripe
  ``sk_live_``, GitHub ``ghp_`` and ``github_pat_``, AWS ``AKIA...``, Google ``AIza``, Slack
  ``xox.-``, GitLab ``glpat-``, Hugging Face ``hf_``, npm, SendGrid, confidante's ``cft_``), and
  a value a text calls an API key, token or secret ("my api key is 3f9a...").
- ``token``: JSON Web Tokens, and long strings that look like keys: 32 to 256 characters of a
  key alphabet with upper case, lower case and digits, the high character entropy of random
  data (at least 4.1 bits per character), not mostly words (as an identifier is), outside of
  a URL.
- ``private_key``: a PEM private key block.

Detection (:mod:`confidante.memory.secret_rules`) is rules and checksums only: no model,
nothing downloaded. detect-secrets was weighed and not used: its detectors read source-code
lines (``password = "..."``), not sentences, and return matched strings without their
positions; its prefix list is the short one above.
"""

from __future__ import annotations

import bisect
from typing import Any, Literal, get_args

from confidante.errors import ConfigurationError, SecretRefusedError
from confidante.memory.secret_rules import (
    DETECTORS,
    KIND_OF_LABEL,
    LABELS,
    PLACEHOLDER,
    Span,
    entropy,
    placeholder,
)

SecretPolicy = Literal["allow", "redact", "refuse"]
#: The write policies, in the order the settings list them.
POLICIES: tuple[SecretPolicy, ...] = get_args(SecretPolicy)


def find_secrets(text: str) -> list[Span]:
    """Return the secrets in ``text`` (see the module docstring), in the order they appear.

    Spans never overlap: where two detectors claim characters, the first of private keys,
    keys and tokens, cards, IBANs and passwords wins.
    """
    kept: list[Span] = []  # sorted by start, never overlapping (so sorted by end too)
    starts: list[int] = []
    for detector in DETECTORS:
        for span in detector(text):
            at = bisect.bisect_left(starts, span.start)
            if (at == 0 or kept[at - 1].end <= span.start) and (
                at == len(kept) or span.end <= kept[at].start
            ):
                kept.insert(at, span)
                starts.insert(at, span.start)
    return kept


def _kinds(spans: list[Span]) -> list[str]:
    return list(dict.fromkeys(span.kind for span in spans))


def redact(text: str) -> tuple[str, list[str]]:
    """Replace every secret with its placeholder.

    Returns:
        The redacted text and the kinds removed, in order of first appearance (empty: the
        text is returned as it is).
    """
    spans = find_secrets(text)
    pieces, done = [], 0
    for span in spans:
        pieces += [text[done : span.start], placeholder(span.kind)]
        done = span.end
    return "".join([*pieces, text[done:]]), _kinds(spans)


def removed_kinds(text: str) -> list[str]:
    """Return the kinds whose placeholders ``text`` holds (what was removed from it)."""
    return list(dict.fromkeys(KIND_OF_LABEL[m.group(1)] for m in PLACEHOLDER.finditer(text)))


def said(kinds: list[str], article: Literal["the", "a"] = "the") -> str:
    """Name kinds in words: ``"the card number and the password"``, ``"a card number"``."""
    names = [
        f"{'an' if article == 'a' and LABELS[kind][0] in 'AEIOU' else article} {LABELS[kind]}"
        for kind in kinds
    ]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def withheld_note(kinds: list[str]) -> str:
    """The sentence a reply ends with when secrets were removed from the user's message."""
    if not kinds:
        return ""
    pronoun = "it was" if len(kinds) == 1 else "they were"
    return f"(I did not keep {said(kinds)} you typed: {pronoun} removed before anything was saved.)"


def refusal_reply(kinds: list[str]) -> str:
    """The reply to a message that was not kept because it held secrets (policy ``refuse``)."""
    return (
        f"I did not keep your message: it contained {said(kinds, 'a')}, and secrets are never "
        "stored. Please send it again without it."
    )


def check_policy(policy: str) -> SecretPolicy:
    """Return ``policy`` if it is one of :data:`POLICIES` (else ``ConfigurationError``)."""
    if policy not in POLICIES:
        raise ConfigurationError(f"secret_policy must be one of {', '.join(POLICIES)}: {policy!r}")
    return policy


def screen(text: str, policy: SecretPolicy, what: str = "text") -> str:
    """Apply a write policy to a text about to be stored.

    Args:
        text: The text.
        policy: ``allow`` (returned as it is), ``redact`` or ``refuse``.
        what: What the text is, for the error message ("text", "message", "caption"...).

    Raises:
        SecretRefusedError: ``refuse`` and the text holds a secret (the message names its kind,
            never its value).
    """
    if policy == "allow":
        return text
    if policy == "refuse":
        kinds = _kinds(find_secrets(text))
        if kinds:
            raise SecretRefusedError(
                f"the {what} contains {said(kinds, 'a')}; secrets are not stored "
                "(secret_policy=refuse): remove it and try again",
                kinds,
            )
        return text
    return redact(text)[0]


def screen_json(value: Any, policy: SecretPolicy, what: str = "attributes") -> Any:
    """Apply a write policy to every string inside a JSON value (dicts, lists, strings)."""
    if policy == "allow":
        return value
    if isinstance(value, str):
        return screen(value, policy, what)
    if isinstance(value, dict):
        return {key: screen_json(item, policy, what) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [screen_json(item, policy, what) for item in value]
    return value


__all__ = [
    "LABELS",
    "POLICIES",
    "SecretPolicy",
    "Span",
    "check_policy",
    "entropy",
    "find_secrets",
    "placeholder",
    "redact",
    "refusal_reply",
    "removed_kinds",
    "screen",
    "screen_json",
    "withheld_note",
]

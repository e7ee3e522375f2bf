"""The rules that find each kind of secret in a text (see :mod:`confidante.memory.secrets`).

Each detector yields the :class:`Span` of every secret of its kinds; :data:`DETECTORS` lists
them in priority order (where two spans overlap, the earlier detector's is kept). Checksums
come from python-stdnum (:mod:`stdnum.luhn`, :mod:`stdnum.iban`); the rest is regular
expressions and character statistics, so nothing is downloaded and no model runs.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from stdnum import iban, luhn, numdb
from stdnum.iso7064 import mod_97_10

#: What each kind is called in placeholders and messages.
LABELS = {
    "card_number": "card number",
    "iban": "IBAN",
    "password": "password",
    "api_key": "API key",
    "token": "access token",
    "private_key": "private key",
}


@dataclass(frozen=True)
class Span:
    """Where a secret is in a text (the secret itself is ``text[start:end]``, never kept here).

    Attributes:
        kind: What it is (a key of :data:`LABELS`).
        start: Its first character's index.
        end: The index after its last character.
    """

    kind: str
    start: int
    end: int


def placeholder(kind: str) -> str:
    """Return what replaces a secret of ``kind``: ``"[card number removed]"``."""
    return f"[{LABELS[kind]} removed]"


PLACEHOLDER = re.compile(r"\[(" + "|".join(map(re.escape, LABELS.values())) + r") removed\]")
KIND_OF_LABEL = {label: kind for kind, label in LABELS.items()}

# ------------------------------------------------------------------ card numbers
_DIGIT_RUN = re.compile(r"(?<![\d.])\d+(?:[ -]\d+)*(?![\d]|\.\d)")
#: (lowest prefix, highest prefix, allowed lengths): a prefix is compared on as many digits.
_ISSUERS: tuple[tuple[str, str, frozenset[int]], ...] = (
    ("4", "4", frozenset({13, 16, 19})),  # Visa
    ("51", "55", frozenset({16})),  # Mastercard
    ("2221", "2720", frozenset({16})),  # Mastercard, 2-series
    ("34", "34", frozenset({15})),  # American Express
    ("37", "37", frozenset({15})),
    ("300", "305", frozenset(range(14, 20))),  # Diners Club
    ("36", "36", frozenset(range(14, 20))),
    ("38", "39", frozenset(range(16, 20))),
    ("6011", "6011", frozenset(range(16, 20))),  # Discover
    ("644", "649", frozenset(range(16, 20))),
    ("65", "65", frozenset(range(16, 20))),
    ("62", "62", frozenset(range(16, 20))),  # UnionPay
    ("3528", "3589", frozenset(range(16, 20))),  # JCB
    ("50", "50", frozenset(range(13, 20))),  # Maestro
    ("56", "69", frozenset(range(13, 20))),
)


#: A card number is written in at most five groups (4-4-4-4-3 for 19 digits).
_MAX_GROUPS = 5


def _issued(digits: str) -> bool:
    """Whether a card issuer uses this prefix and length."""
    return any(
        low <= digits[: len(low)] <= high and len(digits) in lengths
        for low, high, lengths in _ISSUERS
    )


def _is_card(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and _issued(digits) and luhn.is_valid(digits)


def _cards(text: str) -> Iterator[Span]:
    """Card numbers: the longest valid run of whole digit groups from each group on."""
    for run in _DIGIT_RUN.finditer(text):
        groups = [(m.start(), m.group()) for m in re.finditer(r"\d+", run.group())]
        first = 0
        while first < len(groups):
            if groups[first][1][0] not in "23456":  # no issuer's numbers start otherwise
                first += 1
                continue
            found, digits = None, ""
            for last in range(first, min(first + _MAX_GROUPS, len(groups))):
                digits += groups[last][1]
                if len(digits) > 19:
                    break
                if _is_card(digits):
                    found = last
            if found is not None:
                start, (offset, end_group) = groups[first][0], groups[found]
                yield Span(
                    "card_number", run.start() + start, run.start() + offset + len(end_group)
                )
                first = found
            first += 1


# ------------------------------------------------------------------------ IBANs
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])(?=[A-Za-z]{2}\d{2})")
#: Compact, or in groups of four split by single spaces (the last group may be shorter).
_IBAN = re.compile(
    r"[A-Za-z]{2}\d{2}(?:[A-Za-z0-9]{11,30}(?![A-Za-z0-9])"
    r"|(?: [A-Za-z0-9]{4}){2,7}(?: [A-Za-z0-9]{1,4})?(?![A-Za-z0-9]))"
)


@functools.cache
def _iban_country(code: str) -> bool:
    """Whether IBANs exist for a country code (from python-stdnum's IBAN registry)."""
    return bool(numdb.get("iban").info(code)[0][1])


def _ibans(text: str) -> Iterator[Span]:
    """IBANs: the longest run of whole groups from each candidate start that is valid."""
    done = 0
    for start in _IBAN_START.finditer(text):
        at = start.start()
        if at < done or not _iban_country(text[at : at + 2].upper()):
            continue
        match = _IBAN.match(text, at)
        if match is None:
            continue
        ends = [match.start() + i for i, c in enumerate(match.group()) if c == " "][1:]
        for end in reversed([*ends, match.end()]):  # a following word may look like a group
            compact = text[match.start() : end].replace(" ", "").upper()
            moved = compact[4:] + compact[:4]  # the mod-97 check first: it rules out most
            if len(compact) >= 15 and mod_97_10.is_valid(moved) and iban.is_valid(compact):
                yield Span("iban", match.start(), end)
                done = end
                break


# -------------------------------------------------------------------- passwords
_QUOTED = r"\"[^\"\n]{1,100}\"|'[^'\n]{1,100}'|“[^”\n]{1,100}”"
_PASSWORD = re.compile(
    r"(?:\bpass(?:word|phrase|code)s?\b|\bpwd\b"
    r"|\b(?:my|the|our|your|his|her|their)\s+(?:[\w-]+\s+){0,2}?pin(?:\s+code|\s+number)?\b)"
    r"(?P<between>[^.?!\n:=\"]{0,40}?)"
    r"(?:\s+(?:is\s+now|is\s+set\s+to|will\s+be|is|was)\b|'s\b|\s*[:=])\s*"
    rf"(?P<value>{_QUOTED}|[^\s\"“']\S*)",
    re.IGNORECASE,
)
#: Words that say something about a password rather than being one.
_NOT_A_PASSWORD = frozenset(
    """a an the my your our his her their its it it's this that what which is was not no too
    very so really still now also just on in at under behind written saved stored somewhere
    expired wrong weak strong long short same different incorrect correct secure insecure easy
    hard simple complicated something case changed reset new old required needed empty blank
    missing forgotten lost unknown secret private shared ok okay fine good bad broken locked
    being going getting been set there here below above attached taped for and or but
    complex""".split()
)
_TRAILING = ".,;:!?)]}"


def _passwords(text: str) -> Iterator[Span]:
    for match in _PASSWORD.finditer(text):
        if re.search(r"\b(is|was)\b", match.group("between"), re.IGNORECASE):
            continue  # "the password field is ..." reaches past its own verb
        start, end = match.span("value")
        if match.group("value")[0] not in "\"'“":  # a quoted password goes with its quotes
            while end - start > 1 and text[end - 1] in _TRAILING:
                end -= 1
            if PLACEHOLDER.match(text, start) or text[start:end].lower() in _NOT_A_PASSWORD:
                continue
        if end > start:
            yield Span("password", start, end)


# ---------------------------------------------------------- API keys and tokens
_KEY_CHARS = r"A-Za-z0-9_\-"
_PREFIXED = re.compile(
    rf"(?<![{_KEY_CHARS}])(?:"
    + "|".join(
        [
            r"sk-(?:proj-|ant-|svcacct-|live-)?[A-Za-z0-9_\-]{20,}",  # OpenAI, Anthropic
            r"(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}",  # Stripe
            r"gh[pousr]_[A-Za-z0-9]{30,255}",  # GitHub
            r"github_pat_[A-Za-z0-9_]{22,255}",
            r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}",  # AWS
            r"AIza[0-9A-Za-z_\-]{35}",  # Google
            r"xox[abposr]-[A-Za-z0-9\-]{10,}",  # Slack
            r"xapp-\d-[A-Za-z0-9\-]{10,}",
            r"glpat-[A-Za-z0-9_\-]{20,}",  # GitLab
            r"hf_[A-Za-z0-9]{30,}",  # Hugging Face
            r"npm_[A-Za-z0-9]{36}",  # npm
            r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}",  # SendGrid
            r"cft_[A-Za-z0-9_\-]{30,}",  # confidante's own API keys
        ]
    )
    + rf")(?![{_KEY_CHARS}])"
)
_JWT = re.compile(
    rf"(?<![{_KEY_CHARS}.])eyJ[{_KEY_CHARS}]{{8,}}\.eyJ[{_KEY_CHARS}]{{8,}}\.[{_KEY_CHARS}]{{8,}}"
)
_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?:.*?-----END [A-Z ]*PRIVATE KEY-----|.*)", re.DOTALL
)
_CALLED_A_KEY = re.compile(
    r"\b(?:api[ _-]?key|access[ _-]?key|secret[ _-]?key|client[ _-]?secret|auth[ _-]?token"
    r"|access[ _-]?token|bearer[ _-]?token|api[ _-]?token|token|secret)s?\b"
    r"(?P<between>[^.?!\n:=]{0,30}?)(?:\s+(?:is|was)\b|'s\b|\s*[:=])\s*"
    r"(?P<value>[A-Za-z0-9_\-./+=]{12,})",
    re.IGNORECASE,
)
_LONG = re.compile(r"(?<![A-Za-z0-9_\-+/=])[A-Za-z0-9_\-+/=]{32,256}(?![A-Za-z0-9_\-+/=])")
#: Bits per character from which a long mixed string is taken for random (a key): 99.5 % of
#: random strings of 32 letters and digits have more.
MIN_ENTROPY = 4.1
#: The share of a long string made of words ("Long", "name") above which it is an identifier
#: ("getUserAccountBalance2024"): in one random string in a thousand is it this high.
MAX_WORDY = 0.7


def entropy(value: str) -> float:
    """Shannon entropy of a string's characters, in bits per character."""
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _looks_random(value: str) -> bool:
    classes = (str.isupper, str.islower, str.isdigit)
    mixed = all(sum(map(test, value)) >= 2 for test in classes)
    wordy = sum(len(word) for word in re.findall(r"[A-Z]?[a-z]{3,}", value)) / len(value)
    return mixed and wordy <= MAX_WORDY and entropy(value) >= MIN_ENTROPY


def _keys(text: str) -> Iterator[Span]:
    for pattern, kind in ((_PRIVATE_KEY, "private_key"), (_PREFIXED, "api_key"), (_JWT, "token")):
        yield from (Span(kind, m.start(), m.end()) for m in pattern.finditer(text))
    for match in _CALLED_A_KEY.finditer(text):
        value = match.group("value").rstrip(_TRAILING)
        has_digit, has_letter = any(map(str.isdigit, value)), any(map(str.isalpha, value))
        if has_digit and has_letter and len(value) >= 12:
            yield Span("api_key", match.start("value"), match.start("value") + len(value))
    for match in _LONG.finditer(text):
        word_start = text.rfind(" ", 0, match.start()) + 1
        if "://" in text[word_start : match.start()] or "//" in match.group():
            continue  # a part of a URL
        if _looks_random(match.group().strip("=")):
            yield Span("token", match.start(), match.end())


#: Detectors in priority order: where two spans overlap, the earlier detector's is kept.
DETECTORS = (_keys, _cards, _ibans, _passwords)


__all__ = ["DETECTORS", "KIND_OF_LABEL", "LABELS", "PLACEHOLDER", "Span", "entropy", "placeholder"]

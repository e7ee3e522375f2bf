"""The user's own spelling in the statements a model wrote from their message.

A small model retelling a message may drop accents ("forskola" for "förskola") or misspell an
unusual name ("Fion" for "Ffion"). The stored fact would then fail a search in the user's own
words, and a misspelled name would not find its subject: :func:`respelled` gives such words
back the message's spelling.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher


def _folded(word: str) -> str:
    """A word without its accents ("förskola" is "forskola")."""
    return "".join(
        c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c)
    ).casefold()


_ANY_WORD = re.compile(r"[^\W\d_][\w'-]*")


def respelled(text: str, message: str) -> str:
    """``text`` with the message's spelling of the words a model wrote without accents.

    A small model retelling "a förskola in Bergsjön" may write "forskola": the stored fact
    then fails a search for the user's own word. Only words that differ from one of the
    message's words by accents alone are changed.
    """
    text = _names_respelled(text, message)
    spelled: dict[str, str] = {
        _folded(word): word
        for word in _ANY_WORD.findall(message)
        if _folded(word) != word.casefold()
    }
    if not spelled:
        return text

    def spell(match: re.Match[str]) -> str:
        word = str(match.group(0))
        said = spelled.get(_folded(word))
        if said is None or _folded(word) != word.casefold():  # unknown, or accented already
            return word
        return said[0].upper() + said[1:] if word[0].isupper() else said

    return _ANY_WORD.sub(spell, text)


_CAPITALISED = re.compile(r"\b[A-Z][\w'-]{3,}")


def _bare(word: str) -> str:
    """A word without its possessive ("Ivan's" is "Ivan")."""
    return word.removesuffix("'s").removesuffix("’s")


def _names_respelled(text: str, message: str) -> str:
    """``text`` with a name the model misspelled ("Fion") spelled as the message does ("Ffion").

    A capitalised word of four letters or more that the message never says takes the one
    name of the message that starts with the same letter and is nearly the same word.
    """
    said = {_bare(word).casefold() for word in _ANY_WORD.findall(message)}
    names = {_bare(name) for name in _CAPITALISED.findall(message)}

    def spell(match: re.Match[str]) -> str:
        word = match.group(0)
        bare = _bare(word)
        if bare.casefold() in said:
            return word
        near = [
            name
            for name in names
            if name[0] == word[0]
            and SequenceMatcher(None, name.casefold(), bare.casefold()).ratio() >= 0.8
        ]
        return near[0] + word[len(bare) :] if len(near) == 1 else word

    return _CAPITALISED.sub(spell, text)

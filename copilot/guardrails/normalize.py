"""Untrusted text folded to one spelling before the rules read it, so obfuscation does not hide a phrase.

``fold`` applies NFKC (full-width and mathematical letters become ASCII), maps look-alike characters of other
scripts to the Latin letter they imitate (Cyrillic "bаnk" becomes "bank"; the map is Unicode's confusables
table as shipped by ``confusable_homoglyphs``) and drops accents, so rules are written once, unaccented, for
English, French, German, Spanish, Dutch and Italian. ``unspace`` joins letters spelled out one by one
("i g n o r e  a l l", "i.g.n.o.r.e"), ``rot13`` undoes the ROT13 cipher and ``unleet`` reads digits written for
letters ("1gn0r3 pr3v10us" is "ignore previous"; only worth it when ``looks_leet``). All are linear in the
length of the text.
"""

from __future__ import annotations

import codecs
import itertools
import re
import string
import unicodedata
from functools import cache

__all__ = ["fold", "looks_leet", "rot13", "unleet", "unspace"]

_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
#: Letters spelled out one by one: tokens of one letter, or letters joined by one separator (``i.g.n.o.r.e``).
_SEPARATORS = frozenset(".-_*·•/|")
#: Fewest spelled-out letters that count as a word run (``P O Box`` stays as it is).
MIN_SPELLED = 5


@cache
def _skeleton() -> dict[int, str]:
    """Non-ASCII characters that look like an ASCII letter or digit, mapped to it (about 1,300 characters)."""
    from confusable_homoglyphs.utils import load

    data = load("confusables.json")
    table: dict[int, str] = {}
    for target in string.digits + string.ascii_letters:  # letters last: Cyrillic О is the letter O, not zero
        for entry in data.get(target, []):
            char = entry.get("c", "")
            if len(char) == 1 and ord(char) > 127 and not unicodedata.category(char).startswith("M"):
                # Unicode's skeleton of a capital I is "l"; a capital look-alike (Greek Iota) reads as "I"
                table[ord(char)] = "I" if target == "l" and char.isupper() else target
    return table


def fold(text: str) -> str:
    """``text`` in NFKC, look-alike characters replaced by the Latin ones they imitate, accents removed,
    white space compacted (``compact_space``)."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    if not text.isascii():
        text = text.translate(_skeleton())
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return compact_space(text)


_SPACE_RUN = re.compile(r"[^\S\n]++")
_LINE_BREAKS = re.compile(r"(?: ?\n)++ ?")


def compact_space(text: str) -> str:
    """``text`` with each run of spaces one space and each run of line breaks one line break.

    The rules' ``\\s*`` and ``^`` then never walk a long run of white space again and again (50 KB of
    line breaks would otherwise cost minutes), and no rule depends on how much white space there is.
    """
    return _LINE_BREAKS.sub("\n", _SPACE_RUN.sub(" ", text))


def rot13(text: str) -> str:
    """``text`` with the ROT13 cipher applied (which also undoes it)."""
    return codecs.encode(text, "rot13")


#: Digits and signs written for the letters they resemble.
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a"})
#: A leet digit between two letters ("pr3v", "1gn0r"): product codes put their digits after the letters instead.
_LEET_WORD = re.compile(r"[^\W\d_][013457@]++[^\W\d_]")
#: Fewest such spots that make a text look written in leetspeak.
MIN_LEET = 3


def looks_leet(text: str) -> bool:
    """True when ``text`` has at least ``MIN_LEET`` digits written between letters, as leetspeak does."""
    return sum(1 for _ in itertools.islice(_LEET_WORD.finditer(text), MIN_LEET)) >= MIN_LEET


def unleet(text: str) -> str:
    """``text`` with leetspeak digits read as letters (``4ss1st4nt`` -> ``assistant``) if it looks leet."""
    return text.translate(_LEET) if looks_leet(text) else text


def _spelled(token: str) -> str | None:
    """The letters of a token spelled with one separator between them (``i.g.n.o.r.e`` -> ``ignore``)."""
    if len(token) < 3:
        return None
    letters, separators = token[0::2], token[1::2]
    if len(set(separators)) == 1 and separators[0] in _SEPARATORS and letters.isalpha():
        return letters
    return None


#: A quick test for spelled-out letters (five one-letter tokens in a row, or five letters joined by one separator),
#: so ordinary text skips the token walk. Bounded repetitions only: linear time.
_SPELLED_HINT = re.compile(
    r"(?<!\S)(?:[^\W\d_][:,;.!?]?\s{1,4}){4}[^\W\d_](?!\S)|(?:[^\W\d_][.\-_*\u00b7\u2022/|]){4}[^\W\d_]"
)


def unspace(text: str) -> str:
    """``text`` with runs of spelled-out letters joined into words; unchanged when it has none.

    In a run of one-letter tokens a wider gap (two spaces or more, a tab) separates words; without such gaps
    the letters become one word. Dotted spellings (``i.g.n.o.r.e``) become one word each when the text has at
    least one of ``MIN_SPELLED`` letters (so ``e.g.`` in ordinary text stays as it is).
    """
    if not _SPELLED_HINT.search(text):
        return text
    tokens = [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"\S+", text)]
    spelled = {i: s for i, (_, _, token) in enumerate(tokens) if (s := _spelled(token.rstrip(":,;!?")))}
    dotted = any(len(s) >= MIN_SPELLED for s in spelled.values())
    out: list[str] = []
    last = 0
    changed = False
    i = 0
    while i < len(tokens):
        start, end, token = tokens[i]
        if _letter(token):
            j = i
            while j + 1 < len(tokens) and _letter(tokens[j + 1][2]) and not _ends_run(tokens[j][2]):
                j += 1
            if j - i + 1 >= MIN_SPELLED:
                out.append(text[last:start])
                words = [tokens[i][2][0]]
                for k in range(i + 1, j + 1):
                    gap = text[tokens[k - 1][1] : tokens[k][0]]
                    words.append((" " if len(gap) >= 2 or "\t" in gap else "") + tokens[k][2][0])
                out.append("".join(words) + tokens[j][2][1:])
                last = tokens[j][1]
                changed = True
                i = j + 1
                continue
        elif dotted and i in spelled:
            out.append(text[last:start])
            out.append(spelled[i] + token[len(token.rstrip(":,;!?")) :])
            last = end
            changed = True
        i += 1
    if not changed:
        return text
    out.append(text[last:])
    return "".join(out)


def _letter(token: str) -> bool:
    """A one-letter token, maybe with closing punctuation (``t:``)."""
    return token[0].isalpha() and (len(token) == 1 or (len(token) == 2 and token[1] in ":,;.!?"))


def _ends_run(token: str) -> bool:
    return len(token) == 2

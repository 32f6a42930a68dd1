"""Dates as suppliers write them, in English, German, French, Spanish and Dutch, parsed with ``dateparser``.

A linear scan cuts the text into short runs of date-like words (month and weekday names and relative
words from dateparser's own locale data, numbers, a few connectives); each run is handed to
``dateparser`` anchored to the email's date. What dateparser does not read is handled here: ISO weeks
("KW 51", "week 51"), parts of a month ("mid-December", "Anfang Januar", "fin décembre"), the end of the
month, and ranges ("7-9 December", "between Dec 7 and Dec 9"), each as an earliest/latest pair.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, cached_property, lru_cache

import dateparser
from dateparser.languages.loader import LocaleDataLoader
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from text_to_num import alpha2digit

__all__ = ["LANGUAGES", "LOOKBACK_DAYS", "FoundDate", "find_dates", "relative_date"]

#: The languages supplier mail is read in.
LANGUAGES = ("en", "de", "fr", "es", "nl")

#: A date written without a year is the next occurrence on or after (email date - LOOKBACK_DAYS): emails
#: talk about the near future and the recent past ("left our warehouse on Friday, November 20").
LOOKBACK_DAYS = 31

#: Longest run of tokens handed to dateparser at once: its cost per call is bounded, whatever the text.
MAX_RUN_TOKENS = 8
#: Longest text scanned at once; the extractor passes sentences, far below this.
MAX_TEXT_CHARS = 20_000
#: Most distinct phrases handed to dateparser per call (~1 ms each): a text of a thousand dates is an attack.
MAX_PARSES = 64


@dataclass(frozen=True)
class FoundDate:
    """A date (or the earliest of a range) found in text, with where it was."""

    value: date
    start: int
    end: int
    text: str
    weekday_mismatch: bool = False
    latest: date | None = field(default=None, compare=False)
    approximate: bool = field(default=False, compare=False)
    relative: bool = field(default=False, compare=False)  # written without a number: "tomorrow", "next Tuesday"

    @property
    def is_range(self) -> bool:
        """True when the text gives a window ("KW 51", "mid-December", "7-9 Dec"), not one day."""
        return self.latest is not None and self.latest != self.value


# -- lexicon -------------------------------------------------------------------------------------------
_MONTH_KEYS = [m.lower() for m in calendar.month_name[1:]]
_WEEKDAY_KEYS = [d.lower() for d in calendar.day_name]
_UNIT_KEYS = ("day", "week", "month", "year")
#: Words dateparser lists that are ordinary words in the same language (German "Die" as Dienstag).
_COLLISIONS = {"en": {"may", "mar", "sun", "sat", "wed", "mon"}, "de": {"die", "mit", "don", "so"}, "fr": {"mer"}}
_CONNECTIVES = {
    "en": {"the", "of", "on", ","},
    "de": {"den", "der", "des", "dem", "am", ","},
    "fr": {"le", "du", "de", "la", ","},
    "es": {"el", "de", "del", ","},
    "nl": {"de", "van", "het", "op", ","},
}
_ORDINALS = {"st", "nd", "rd", "th", "er", "e", "eme", "ème", "º", "o"}
_WEEK_CUES = {"kw", "cw", "wk", "week", "woche", "semaine", "sem", "semana", "wk."}
_PART_CUES = {
    "mid": (11, 20),
    "mitte": (11, 20),
    "mi": (11, 20),
    "mediados": (11, 20),
    "medio": (11, 20),
    "half": (11, 20),
    "early": (1, 10),
    "beginning": (1, 10),
    "anfang": (1, 10),
    "début": (1, 10),
    "debut": (1, 10),
    "principios": (1, 10),
    "begin": (1, 10),
    "late": (21, 31),
    "end": (21, 31),
    "ende": (21, 31),
    "fin": (21, 31),
    "finales": (21, 31),
    "eind": (21, 31),
    "einde": (21, 31),
}
_END_OF_MONTH = {"monatsende", "ultimo", "month-end"}
_BETWEEN = {"between", "zwischen", "entre", "tussen"}
_RANGE_JOIN = {"-", "–", "to", "through", "thru", "until", "till", "bis", "au", "al", "tot"}
_RANGE_JOIN |= {"and", "und", "et", "y", "en"}
_AND_WORDS = {"and", "und", "et", "y", "en"}


@dataclass(frozen=True)
class _Lexicon:
    months: dict[str, int]
    weekdays: dict[str, int]
    relative: set[str]  # one-word relative dates: "tomorrow", "morgen", "demain"
    modifiers: set[str]  # words of relative phrases: "next", "nächste", "prochain"
    in_words: set[str]
    units: set[str]
    numbers: dict[str, str]
    glue: set[str]
    known: frozenset[str] = frozenset()  # every word above: a word outside it (most words) is "other" at once

    @cached_property
    def long_months(self) -> tuple[str, ...]:
        """The month names long enough for a one-letter slip to be read as them (``MIN_MISSPELT_MONTH``)."""
        return tuple(m for m in self.months if len(m) >= MIN_MISSPELT_MONTH)


@cache
def _lexicon(language: str) -> _Lexicon:
    """The words of ``language`` and, for the others, of English too: supplier mail mixes them ("Bonjour,
    P00008 will be delivered on December 4"), and a detector can take an English email for French."""
    own = _own_lexicon(language)
    if language == "en":
        return own
    en = _own_lexicon("en")
    bad = set().union(*_COLLISIONS.values())
    return _Lexicon(
        {w: m for w, m in (en.months | own.months).items() if w not in bad},
        {w: d for w, d in (en.weekdays | own.weekdays).items() if w not in bad},
        en.relative | own.relative,
        en.modifiers | own.modifiers,
        en.in_words | own.in_words,
        en.units | own.units,
        en.numbers | own.numbers,
        en.glue | own.glue,
        en.known | own.known,
    )


def _own_lexicon(language: str) -> _Lexicon:
    """Month, weekday and relative words of ``language`` from dateparser's locale data."""
    info = LocaleDataLoader().get_locale(language).info
    bad = _COLLISIONS.get(language, set())

    def words(key: str) -> list[str]:
        return [w.lower().rstrip(".") for w in info.get(key, []) if w.strip()]

    months = {w: i + 1 for i, key in enumerate(_MONTH_KEYS) for w in words(key) if len(w) >= 3 and w not in bad}
    weekdays = {w: i for i, key in enumerate(_WEEKDAY_KEYS) for w in words(key) if len(w) >= 3 and w not in bad}
    relative: set[str] = set()
    modifiers: set[str] = set()
    for phrases in info.get("relative-type", {}).values():
        for phrase in phrases:
            parts = phrase.lower().split()
            if len(parts) == 1:
                relative.add(parts[0])
            else:
                modifiers.update(parts)
    units = {w for key in _UNIT_KEYS for w in words(key) if len(w) >= 3}
    modifiers -= units
    numbers = {k.lower(): v for item in info.get("simplifications", []) for k, v in item.items() if v.isdigit()}
    relative -= {"now", "jetzt", "maintenant", "ahora", "nu"}
    glue = _CONNECTIVES.get(language, set()) | _ORDINALS | {"-", "–", "."}
    in_words = set(words("in")) | {"over", "binnen", "dentro", "dans"}
    known = frozenset(
        {*months, *weekdays, *relative, *modifiers, *in_words, *units, *numbers, *glue}
        | _WEEK_CUES
        | set(_PART_CUES)
        | _END_OF_MONTH
        | _RANGE_JOIN
        | _BETWEEN
    )
    return _Lexicon(months, weekdays, relative, modifiers, in_words, units, numbers, glue, known)


# -- tokens ----------------------------------------------------------------------------------------------
# One pass, no nested repetition: an ISO date, a numeric day.month(.year) or month/day(/year), a word (with
# its digits: "30th", "1er", "KW51", "P00010"), or one punctuation mark.
_TOKEN = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}(?!\w)|\d{1,2}-\d{1,2}(?:-(?:\d{4}|\d{2}))?(?![\w-])|\d{1,2}(?:[./]\d{1,4}){1,2}\.?(?!\w)"
    r"|\w+\.?|[–,-]"
)
_DASHED_PAIR = re.compile(r"(\d{1,2})(-)(\d{1,2})")
_ORDINAL_NUMBER = re.compile(r"(\d{1,2})(st|nd|rd|th|er|e|eme|ème|º|o)\.?", re.IGNORECASE)
_WEEK_NUMBER = re.compile(r"(kw|cw|wk)(\d{1,2})", re.IGNORECASE)


@dataclass(frozen=True)
class _Token:
    text: str
    low: str  # lower case, without a trailing dot; "30th" -> "30", "KW51" -> "51" (kind "weeknum")
    start: int
    end: int
    kind: str  # month weekday relative numdate int week weeknum part eom join between glue other


def _kind(text: str, low: str, lex: _Lexicon, language: str) -> tuple[str, str]:
    bare = low.rstrip(".")
    if bare[:1].isdigit():
        if not bare.isdigit():
            if any(c in bare for c in "./-"):
                return "numdate", bare
            ordinal = _ORDINAL_NUMBER.fullmatch(low)
            return ("int", ordinal.group(1)) if ordinal else ("other", bare)
        return "int", bare
    if bare not in lex.known and not bare.startswith(("kw", "cw", "wk", "monat")):
        return "other", bare
    week = _WEEK_NUMBER.fullmatch(bare)
    if week:
        return "weeknum", week.group(2)
    if bare in lex.months:
        short = len(bare) <= 3 and not text.endswith(".")
        if (short or bare in ("may", "mar")) and not text[0].isupper() and language == "en":
            return "other", bare
        return "month", bare
    if bare in lex.weekdays:
        return ("weekday" if len(bare) > 3 or text[0].isupper() else "other"), bare
    if bare in lex.relative:
        return "relative", bare
    for kind, words in (("week", _WEEK_CUES), ("part", _PART_CUES), ("eom", _END_OF_MONTH)):
        if bare in words:
            return kind, bare
    if bare in _RANGE_JOIN:
        return "join", bare
    if bare in _BETWEEN:
        return "between", bare
    if bare in lex.glue or bare in lex.modifiers or bare in lex.in_words or bare in lex.units or bare in lex.numbers:
        return "glue", bare
    if _is_month_unit(bare):
        return "glue", bare
    return "other", bare


def _words(text: str, language: str) -> list[tuple[str, int, int]]:
    """(word, start, end) of ``text``. "14-12-2026" is one date everywhere; "14-12" is one only in Dutch, and
    there not before a month ("7-9 december"): elsewhere it is a range of days or of hours ("7-9 December")."""
    found = [(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    out: list[tuple[str, int, int]] = []
    for i, (word, start, end) in enumerate(found):
        pair = _DASHED_PAIR.fullmatch(word)
        next_word = found[i + 1][0].lower().rstrip(".") if i + 1 < len(found) else ""
        if pair and (language != "nl" or next_word in _MONTH_WORDS_NL):
            out.extend((pair.group(g), start + pair.start(g), start + pair.end(g)) for g in (1, 2, 3))
        else:
            out.append((word, start, end))
    return out


_MONTH_WORDS_NL = frozenset(
    {
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
        "jan",
        "feb",
        "mrt",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "okt",
        "nov",
        "dec",
    }
)


#: Shortest month name a one-letter slip is read for: shorter ones ("junio", "august") are names or other words.
MIN_MISSPELT_MONTH = 7


def _misspelt_month(low: str, lex: _Lexicon) -> str | None:
    """The one month name ``low`` is a single typo away from ("dicimbre", "Novmber"), if any."""
    if len(low) < MIN_MISSPELT_MONTH - 1 or not low.isalpha():
        return None
    near = process.extract(low, lex.long_months, scorer=Levenshtein.distance, score_cutoff=1, limit=None)
    close = {lex.months[m]: m for m, _, _ in near}
    return next(iter(close.values())) if len(close) == 1 else None


def _tokens(text: str, lex: _Lexicon, language: str) -> list[_Token]:
    """The date-like tokens of ``text``; the other words are left out (the gap they leave ends a run)."""
    out: list[_Token] = []
    after_in = False
    previous = ""
    for word, start, end in _words(text, language):
        kind, low = _kind(word, word.lower(), lex, language)
        if kind == "other":
            month = _misspelt_month(low, lex)
            if month:
                word, low, kind = month, month, "month"  # "dicimbre" is diciembre
        if low == "mañana" and previous in ("esta", "la", "por"):
            kind = "other"  # "esta mañana" is this morning, not tomorrow
        previous = low
        if kind == "other" and after_in and alpha2digit(word, language, threshold=0) != word:
            kind = "glue"  # "in zwei Wochen", "dentro de dos semanas"
        after_in = low in lex.in_words or low in _CONNECTIVES.get(language, ())
        if kind != "other" or (out and out[-1].kind != "other"):  # of the other words, one break is enough
            out.append(_Token(word, low, start, end, kind))
    return out


def _runs(tokens: Sequence[_Token], text: str, lex: _Lexicon) -> list[list[_Token]]:
    """Maximal runs of date-like tokens next to each other (only spaces between), at most MAX_RUN_TOKENS each."""
    runs: list[list[_Token]] = []
    current: list[_Token] = []
    for tok in tokens:
        adjacent = current and not text[current[-1].end : tok.start].strip()
        alone = tok.kind == "relative" or (current and current[-1].kind == "relative")  # "heute 12 der 20"
        if tok.kind == "other" or not adjacent or alone or len(current) >= MAX_RUN_TOKENS:
            if current:
                runs.append(current)
            current = [tok] if tok.kind != "other" else []
            continue
        current.append(tok)
    if current:
        runs.append(current)
    return [run for run in runs if _worth_reading(run, lex)]


_ANCHORS = frozenset({"month", "weekday", "relative", "numdate", "weeknum", "week", "part", "eom"})


def _worth_reading(run: Sequence[_Token], lex: _Lexicon) -> bool:
    """A run of connectives alone ("a-a-a-", "the of the") holds no date; one with a unit may ("in two weeks")."""
    return any(t.kind in _ANCHORS or t.low in lex.units or _is_month_unit(t.low) for t in run)


# -- resolution ------------------------------------------------------------------------------------------
def _resolve_year(month: int, day: int, reference: date) -> date | None:
    """The next ``day``/``month`` on or after ``reference - LOOKBACK_DAYS``."""
    earliest = reference - timedelta(days=LOOKBACK_DAYS)
    for year in (reference.year - 1, reference.year, reference.year + 1):
        try:
            value = date(year, month, day)
        except ValueError:
            continue
        if value >= earliest:
            return value
    return None


def _numeric(token: str, language: str, reference: date) -> date | None:
    """``2026-12-15``, ``15.12.2026``, ``15.12.``, ``12/15/2026`` (US in English), ``11/29``."""
    bare = token.rstrip(".")
    parts = re.split(r"[./-]", bare)
    if not all(p.isdigit() for p in parts) or len(parts) < 2:
        return None
    numbers = [int(p) for p in parts]
    if len(parts[0]) == 4:
        if len(parts) != 3 or "-" not in bare:
            return None
        year, month, day = numbers
    else:
        if "-" in bare and len(parts) == 2 and language != "nl":
            return None  # "8-11" is a range of hours or quantities, not a date (in Dutch "29-11" is a date)
        a, b = numbers[0], numbers[1]
        us = "/" in bare and language == "en"
        month, day = (a, b) if us else (b, a)
        if month > 12 and day <= 12:
            month, day = day, month
        year = None
        if len(parts) == 3:
            if len(parts[2]) not in (2, 4):
                return None
            year = numbers[2] + (2000 if len(parts[2]) == 2 else 0)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    if year is None:
        return _resolve_year(month, day, reference)
    try:
        return date(year, month, day)
    except ValueError:
        return None


class _Budget:
    """Phrases read so far in one ``find_dates`` call: repeats are answered from memory, and at most MAX_PARSES."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str, date], date | None] = {}

    def parse(self, phrase: str, language: str, base: date) -> date | None:
        key = (phrase, language, base)
        if key not in self.seen:
            if len(self.seen) >= MAX_PARSES:
                return None
            self.seen[key] = _parse(phrase, language, base)
        return self.seen[key]


@lru_cache(maxsize=4096)
def _parse(phrase: str, language: str, base: date) -> date | None:
    """``dateparser`` on one short phrase: pure in its arguments, so remembered across calls (a long email
    repeats the same few dates in every line; each call of ``find_dates`` reads one sentence)."""
    settings = {
        "RELATIVE_BASE": datetime(base.year, base.month, base.day, 12),
        "PREFER_DATES_FROM": "future",
        "PREFER_DAY_OF_MONTH": "first",
        "RETURN_AS_TIMEZONE_AWARE": False,
        "REQUIRE_PARTS": [],
    }
    try:
        languages = [language] if language == "en" else [language, "en"]
        parsed = dateparser.parse(phrase, languages=languages, settings=settings)  # type: ignore[arg-type]
    except (ValueError, OverflowError):
        return None
    return parsed.date() if parsed is not None else None


def _iso_week(week: int, year: int | None, reference: date) -> tuple[date, date] | None:
    if not 1 <= week <= 53:
        return None
    years = [year] if year else [reference.year, reference.year + 1]
    for y in years:
        try:
            monday = date.fromisocalendar(y, week, 1)
        except ValueError:
            continue
        if year or monday + timedelta(days=6) >= reference - timedelta(days=LOOKBACK_DAYS):
            return monday, monday + timedelta(days=4)
    return None


def _month_part(month: int, year: int | None, days: tuple[int, int], reference: date) -> tuple[date, date] | None:
    first = date(year, month, 1) if year else _resolve_year(month, 1, reference)
    if first is None:
        return None
    last_day = calendar.monthrange(first.year, first.month)[1]
    return first.replace(day=days[0]), first.replace(day=min(days[1], last_day))


def _end_of_month(reference: date) -> date:
    return reference.replace(day=calendar.monthrange(reference.year, reference.month)[1])


def _year_after(tokens: Sequence[_Token], i: int) -> int | None:
    if i < len(tokens) and tokens[i].kind == "int" and len(tokens[i].low) == 4:
        return int(tokens[i].low)
    return None


def _span(
    tokens: Sequence[_Token], text: str, value: date, latest: date | None, approximate: bool, relative: bool = False
) -> FoundDate:
    start, end = tokens[0].start, tokens[-1].end
    return FoundDate(value, start, end, text[start:end], latest=latest, approximate=approximate, relative=relative)


def _special(seg: Sequence[_Token], text: str, lex: _Lexicon, reference: date) -> FoundDate | None:
    """Weeks, parts of a month and the end of the month, which dateparser does not read."""
    for i, tok in enumerate(seg):
        nxt = seg[i + 1] if i + 1 < len(seg) else None
        week_number = (
            tok.low if tok.kind == "weeknum" else nxt.low if tok.kind == "week" and nxt and nxt.kind == "int" else None
        )
        if week_number is not None:
            after = i + 1 if tok.kind == "weeknum" else i + 2
            year = _year_after(seg, after) or _year_after(seg, after + 1)
            window = _iso_week(int(week_number), year, reference)
            if window:
                last = seg[after] if year and seg[after].kind == "int" else seg[after - 1]
                return _span([tok, last], text, window[0], window[1], True)
        if tok.kind == "eom":
            day = _end_of_month(reference)
            return _span([tok], text, day, day, False, relative=True)
        if tok.kind == "part":
            rest = [t for t in seg[i + 1 :] if t.kind not in ("glue", "join") or _is_month_unit(t.low)]
            if not rest:
                continue
            target = rest[0]
            if target.kind == "month":
                year = _year_after(seg, seg.index(target) + 1)
                window = _month_part(lex.months[target.low], year, _PART_CUES[tok.low], reference)
                if window:
                    return _span([tok, target], text, window[0], window[1], True)
            elif _PART_CUES[tok.low][0] == 21 and _is_month_unit(target.low):
                day = _end_of_month(reference)
                return _span([tok, target], text, day, day, False, relative=True)
    return None


def _is_month_unit(word: str) -> bool:
    return word in ("month", "mois", "mes", "maand") or word.startswith("monat")


def _loose(t: _Token, lex: _Lexicon) -> bool:
    return t.kind in ("glue", "join", "between") and t.low not in lex.modifiers | lex.in_words | lex.units


def _trim(seg: Sequence[_Token], lex: _Lexicon) -> list[_Token]:
    """The segment without leading and trailing connectives (relative words such as "next" stay)."""
    keep = list(seg)
    while keep and _loose(keep[0], lex):
        keep.pop(0)
    while keep and _loose(keep[-1], lex) and keep[-1].low not in lex.modifiers:
        keep.pop()
    return keep


def _accept(seg: Sequence[_Token], lex: _Lexicon) -> bool:
    if {t.kind for t in seg} & {"month", "weekday", "relative", "numdate"}:
        return True
    lows = [t.low for t in seg]
    has_unit = any(w in lex.units for w in lows)
    return has_unit and (lows[0] in lex.in_words or any(w in lex.modifiers for w in lows))


def _read(seg: Sequence[_Token], language: str, base: date, budget: _Budget) -> date | None:
    """The date dateparser reads in the segment, number words as digits ("in zwei Wochen" -> "in 2 Wochen");
    failing that, without its connectives ("Freitag, den 4. Dezember" -> "Freitag, 4. Dezember")."""
    value = budget.parse(alpha2digit(" ".join(t.text for t in seg), language, threshold=0), language, base)
    if value is None:
        words = [t.text for t in seg if not (t.kind == "glue" and t.low in _CONNECTIVES.get(language, ()))]
        if len(words) < len(seg):
            value = budget.parse(alpha2digit(" ".join(words), language, threshold=0), language, base)
    return value


def _segment(
    seg: list[_Token], text: str, lex: _Lexicon, language: str, reference: date, budget: _Budget
) -> list[FoundDate]:
    special = _special(seg, text, lex, reference)
    if special is not None:
        return [special]
    found = _one(_trim(seg, lex), text, lex, language, reference, budget)
    if found or not any(t.low == "," for t in seg):
        return found
    pieces: list[list[_Token]] = [[]]  # "Dec 1, Dec 8": a list of dates read as one failed; each alone
    for tok in seg:
        if tok.low == ",":
            pieces.append([])
        else:
            pieces[-1].append(tok)
    return [f for piece in pieces for f in _one(_trim(piece, lex), text, lex, language, reference, budget)]


def _one(
    seg: list[_Token], text: str, lex: _Lexicon, language: str, reference: date, budget: _Budget
) -> list[FoundDate]:
    if not seg or not _accept(seg, lex):
        return []
    numdates = [t for t in seg if t.kind == "numdate"]
    if numdates and not any(t.kind == "month" for t in seg):
        out = []
        for tok in numdates:
            value = _numeric(tok.text, language, reference)
            if value is not None:
                out.append(FoundDate(value, tok.start, tok.end, tok.text, _mismatch(seg, value, lex)))
        return out
    has_year = any(t.kind == "int" and len(t.low) == 4 for t in seg)
    has_month = any(t.kind == "month" for t in seg)
    if has_month and not any(t.kind == "int" for t in seg):
        return []  # "December" alone is a month, not a day
    base = reference - timedelta(days=LOOKBACK_DAYS) if has_month and not has_year else reference
    value = _read(seg, language, base, budget)
    if value is None:  # "nächsten Dienstag", "mardi prochain": the weekday alone, the next one
        plain = [t for t in seg if t.low not in lex.modifiers and t.kind != "glue"]
        if plain and len(plain) < len(seg) and any(t.kind == "weekday" for t in plain):
            value = budget.parse(" ".join(t.text for t in plain), language, reference)
    written_years = {int(t.low) for t in seg if t.kind == "int" and len(t.low) == 4}
    if value is not None and value.year not in written_years and abs(value.year - reference.year) > 2:
        # "position 3 on December 14, 2026" read as 2114-12-03: a number before the date is not its day
        anchor = next((i for i, t in enumerate(seg) if t.kind in ("month", "weekday")), 0)
        return _one(seg[anchor:], text, lex, language, reference, budget) if anchor else []
    days = [int(t.low) for t in seg if t.kind == "int" and len(t.low) <= 2]
    if value is None or (has_month and days and value.day not in days):
        return []  # dateparser reads "32 December" as December 2032: the day written must be the day read
    start, end = seg[0].start, seg[-1].end
    relative = not any(t.kind in ("int", "numdate") for t in seg)
    return [FoundDate(value, start, end, text[start:end], _mismatch(seg, value, lex), relative=relative)]


def _mismatch(seg: Sequence[_Token], value: date, lex: _Lexicon) -> bool:
    days = {lex.weekdays[t.low] for t in seg if t.kind == "weekday"}
    has_day = any(t.kind in ("int", "numdate") for t in seg)
    return bool(days) and has_day and value.weekday() not in days


def _from_run(
    run: list[_Token], text: str, lex: _Lexicon, language: str, reference: date, budget: _Budget
) -> list[FoundDate]:
    """The dates of a run; two joined by "-", "to", "bis", "au", "al", "tot" (or "between ... and") are one window."""
    between = any(t.kind == "between" for t in run)
    pieces: list[tuple[list[_Token], str | None]] = [([], None)]
    for i, tok in enumerate(run):
        if tok.kind == "join" and i and run[i - 1].kind == "part":
            continue  # "mid-December"
        if tok.kind == "join":
            pieces.append(([], tok.low))
        else:
            pieces[-1][0].append(tok)
    out: list[FoundDate] = []
    pending_day: _Token | None = None
    for seg, join in pieces:
        bare = [t for t in seg if t.kind not in ("glue", "between")]
        if len(bare) == 1 and bare[0].kind == "int" and len(bare[0].low) <= 2:
            pending_day = bare[0]  # "7" of "7-9 December", "du 7 au 9 décembre"
            continue
        found = _segment(seg, text, lex, language, reference, budget)
        joins = join is not None and (join not in _AND_WORDS or between)
        if found and pending_day is not None and joins and 1 <= int(pending_day.low) < found[0].value.day:
            first = found[0]
            start = pending_day.start
            out.append(
                FoundDate(
                    first.value.replace(day=int(pending_day.low)),
                    start,
                    first.end,
                    text[start : first.end],
                    latest=first.latest or first.value,
                )
            )
            out.extend(found[1:])
        elif found and out and joins and join != "to" and not out[-1].is_range and out[-1].value < found[0].value:
            # "from 1 December to 10 December" is a move as often as a window: only "-", "until", "bis"... join
            prev = out[-1]
            if found[0].value <= prev.value + timedelta(days=62):
                out[-1] = FoundDate(
                    prev.value,
                    prev.start,
                    found[0].end,
                    text[prev.start : found[0].end],
                    latest=found[0].latest or found[0].value,
                )
                out.extend(found[1:])
            else:
                out.extend(found)
        else:
            out.extend(found)
        pending_day = None
    return out


def find_dates(text: str, reference: date, language: str | None = None, *, relative: bool = False) -> list[FoundDate]:
    """Dates in ``text`` written in ``language`` (default English), resolved against ``reference`` (the email's date).

    A date without a year is the next occurrence after ``reference - LOOKBACK_DAYS``; weeks, parts of a month
    and ranges come with ``latest``. With ``relative``, dates written without a number ("next Tuesday",
    "in zwei Wochen", "demain", "end of month") count from ``reference``; without it they are left out, as a
    check of what a text claims (grounding) wants: "today" in a reply is no claim of a date.
    """
    lang = language if language in LANGUAGES else "en"
    text = text[:MAX_TEXT_CHARS]
    lex = _lexicon(lang)
    found: list[FoundDate] = []
    budget = _Budget()
    for run in _runs(_tokens(text, lex, lang), text, lex):
        try:
            found.extend(_from_run(run, text, lex, lang, reference, budget))
        except (ValueError, OverflowError):  # a day or year out of range in hostile text: no date, no crash
            continue
    return sorted((f for f in found if relative or not f.relative), key=lambda f: f.start)


_RELATIVE = {"today": 0, "this morning": 0, "this afternoon": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}


def relative_date(phrase: str, reference: date) -> date | None:
    """``tomorrow``, ``today``, ``yesterday`` resolved against ``reference``."""
    offset = _RELATIVE.get(phrase.strip().lower())
    return None if offset is None else reference + timedelta(days=offset)

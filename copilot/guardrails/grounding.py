"""Grounding: every reference, date, quantity, amount and tracking number in a text the copilot wrote
must come from the facts it gathered or from the message it answers. Promises that only a person may
make (refunds, discounts, credits, compensation) are flagged too.

``check_grounding(text, evidence)`` returns the unsupported spans; callers decide what to do (drafts
fall back to the template; answers are flagged). The evidence is plain text and JSON-able data: the
customer's message, the tools' results, the knowledge-base passages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date, datetime
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from copilot.text.references import DOCUMENT_REF
from copilot.text.values import find_dates, find_money

__all__ = ["Evidence", "GroundingReport", "Span", "check_grounding"]

SpanKind = Literal["reference", "date", "number", "amount", "tracking", "promise"]

_TRACKING = re.compile(r"\b(?:1Z[0-9A-Z]{16}|[A-Z]{2}\d{9}[A-Z]{2}|\d{12,22})\b")
_NUMBER = re.compile(r"(?<![\w.,/-])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w/])|(?<![\w.,/-])\d+(?:\.\d+)?(?![\w/])")
_PROMISE = re.compile(
    r"\b(?:(?:full|partial)\s+)?refund(?:ed|s)?\b|\bdiscount(?:ed|s)?\b|\bcredit(?:ed)?\s+(?:note|your account)\b"
    r"|\bcompensat\w+\b|\bfree of charge\b|\bwaive[ds]?\b|\bguarantee[ds]?\b",
    re.IGNORECASE,
)
_NEGATED = re.compile(r"\b(?:not|no|never|cannot|can't|won't|non)\b[\w\s-]{0,20}$", re.IGNORECASE)
#: Small counts ("2 of them", "within 48 hours" from the policy) read naturally without a source.
_SMALL = frozenset(float(n) for n in range(0, 11))


class Span(BaseModel):
    """A part of the text that nothing supports."""

    model_config = ConfigDict(frozen=True)

    kind: SpanKind
    text: str
    start: int
    end: int
    reason: str


class GroundingReport(BaseModel):
    """The verdict on one text."""

    model_config = ConfigDict(frozen=True)

    grounded: bool
    unsupported: list[Span]
    checked: int

    def summary(self) -> str:
        """One line: what is unsupported."""
        if self.grounded:
            return f"grounded ({self.checked} facts checked)"
        return "; ".join(f"{s.kind} {s.text!r}: {s.reason}" for s in self.unsupported)


class Evidence:
    """What a text may state: the facts (any JSON-able data) and the message it answers, indexed once.

    The cheap indexes (references, tracking numbers, ISO dates, plain numbers) are built at once; the written
    dates and amounts ("November 20", "$8,658.00") only when a claim is not supported by the cheap ones, so
    a checked answer whose dates and amounts come from the facts' own fields never tokenizes the facts.
    """

    def __init__(self, *sources: Any, reference_date: date, allowed_promises: Iterable[str] = ()) -> None:
        texts = [s if isinstance(s, str) else json.dumps(s, default=str, ensure_ascii=False) for s in sources]
        self.text = "\n".join(texts)
        self.reference_date = reference_date
        self.references = {m.group(0).upper() for m in DOCUMENT_REF.finditer(self.text)}
        self.tracking = {m.group(0).upper() for m in _TRACKING.finditer(self.text)}
        self._iso_dates = {datetime.fromisoformat(m).date() for m in re.findall(r"\d{4}-\d{2}-\d{2}", self.text)}
        self._plain_numbers = {_num(m.group(0)) for m in _NUMBER.finditer(self.text)} | _date_parts(self._iso_dates)
        self.allowed_promises = {p.lower() for p in allowed_promises}

    @cached_property
    def dates(self) -> set[date]:
        """Every date the evidence states: its ISO dates and its written ones."""
        return {d.value for d in find_dates(self.text, self.reference_date)} | self._iso_dates

    @cached_property
    def numbers(self) -> set[float]:
        """Every number the evidence states: plain, amounts, and the day, month and year of its dates."""
        amounts = {round(m.money.amount, 2) for m in find_money(self.text)}
        return self._plain_numbers | amounts | _date_parts(self.dates)

    def supports_date(self, value: date) -> bool:
        """True when the evidence states ``value``."""
        return value in self._iso_dates or value in self.dates

    def supports_number(self, value: float) -> bool:
        """True when the evidence states ``value`` (as a number, an amount or part of a date)."""
        return value in self._plain_numbers or value in self.numbers


def _date_parts(days: Iterable[date]) -> set[float]:
    return {float(part) for day in days for part in (day.day, day.month, day.year)}


def _num(text: str) -> float:
    return round(float(text.replace(",", "")), 2)


def check_grounding(text: str, evidence: Evidence) -> GroundingReport:
    """The spans of ``text`` that ``evidence`` does not support (none: grounded)."""
    bad: list[Span] = []
    checked = 0
    masked = text
    for m in DOCUMENT_REF.finditer(text):
        checked += 1
        if m.group(0).upper() not in evidence.references:
            bad.append(
                Span(
                    kind="reference",
                    text=m.group(0),
                    start=m.start(),
                    end=m.end(),
                    reason="no such record in the facts",
                )
            )
        masked = masked[: m.start()] + " " * (m.end() - m.start()) + masked[m.end() :]
    for m in _TRACKING.finditer(masked):
        checked += 1
        if m.group(0).upper() not in evidence.tracking:
            bad.append(
                Span(
                    kind="tracking", text=m.group(0), start=m.start(), end=m.end(), reason="not a known tracking number"
                )
            )
        masked = masked[: m.start()] + " " * (m.end() - m.start()) + masked[m.end() :]
    for d in find_dates(masked, evidence.reference_date):
        checked += 1
        if not evidence.supports_date(d.value):
            bad.append(
                Span(kind="date", text=d.text, start=d.start, end=d.end, reason=f"{d.value} is not in the facts")
            )
        masked = masked[: d.start] + " " * (d.end - d.start) + masked[d.end :]
    for money in find_money(masked):
        checked += 1
        if not evidence.supports_number(round(money.money.amount, 2)):
            bad.append(
                Span(
                    kind="amount",
                    text=text[money.start : money.end],
                    start=money.start,
                    end=money.end,
                    reason="amount not in the facts",
                )
            )
        masked = masked[: money.start] + " " * (money.end - money.start) + masked[money.end :]
    for m in _NUMBER.finditer(masked):
        value = _num(m.group(0))
        if value in _SMALL:
            continue
        checked += 1
        if not evidence.supports_number(value):
            bad.append(
                Span(kind="number", text=m.group(0), start=m.start(), end=m.end(), reason="number not in the facts")
            )
    for m in _PROMISE.finditer(text):
        if m.group(0).lower() in evidence.allowed_promises or _NEGATED.search(text[max(0, m.start() - 30) : m.start()]):
            continue  # "are not refunded", "no discount": a refusal is not a promise
        bad.append(
            Span(kind="promise", text=m.group(0), start=m.start(), end=m.end(), reason="only a person can promise this")
        )
    bad.sort(key=lambda s: s.start)
    return GroundingReport(grounded=not bad, unsupported=bad, checked=checked)

"""The input checks stay linear on adversarial input: long runs of the tokens their rules look for."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from copilot.email import css as hidden_css
from copilot.email import html_to_text
from copilot.guardrails.bank_change import find_bank_change
from copilot.guardrails.injection import detect_injection
from copilot.guardrails.normalize import fold, unspace

SIZE = 50_000
INPUTS = {
    "verbs": "ignore " * (SIZE // 7),
    "determiners": "ignore" + " all the your previous" * (SIZE // 22),
    "spelled": "a " * (SIZE // 2),
    "dotted": "a.b.c.d.e " * (SIZE // 10),
    "negations": "no not never " * (SIZE // 13) + "new bank details",
    "bank words": "new bank " * (SIZE // 9),
    "homoglyphs": "\u0430\u0435\u043e\u0440" * (SIZE // 4),
    "digits": "1" * SIZE,
    "punctuation": ".,;:-" * (SIZE // 5),
}
CHECKS: dict[str, Callable[[str], object]] = {
    "rules": lambda text: detect_injection(text, source="email", use_embeddings=False),
    "bank": find_bank_change,
    "fold": fold,
    "unspace": unspace,
}


@pytest.mark.parametrize("check", list(CHECKS))
@pytest.mark.parametrize("name", list(INPUTS))
def test_each_check_reads_50kb_of_adversarial_text_quickly(check: str, name: str) -> None:
    started = time.perf_counter()
    CHECKS[check](INPUTS[name])
    assert time.perf_counter() - started < 2.0, (check, name)


def test_style_rules_with_deep_selectors_stay_linear() -> None:
    style = "".join(f".a{i} .b{i} > .c{i} ~ d{i} {{display:none}}" for i in range(20_000))  # cut at 100 KB
    body = "<div class='a1 b2 c3'>" * 2_000 + "text" + "</div>" * 2_000
    started = time.perf_counter()
    visible, _, _, _ = html_to_text(f"<style>{style}</style>{body}")
    assert time.perf_counter() - started < 3.0 and visible == "text"


def test_many_rules_on_one_class_times_many_elements_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """2,000 rules filed under one class against 48,000 elements (1 MB): 96 M checks (43.6 s) without a budget.

    Counted, not timed: the rule-against-element checks stop at the budget (the seconds are in
    ``python -m benchmarks.security``).
    """
    matched = 0
    original = hidden_css._Compound.matches

    def counting(self: object, element: hidden_css.Element) -> bool:
        nonlocal matched
        matched += 1
        return original(self, element)  # type: ignore[arg-type]

    monkeypatch.setattr(hidden_css._Compound, "matches", counting)
    style = ".c{display:none}" * 2_000
    body = "<div class=c>x</div>" * 48_000
    _, _, hidden, _ = html_to_text(f"<style>{style}</style>{body}")
    assert 0 < matched <= hidden_css.MAX_RULE_CHECKS
    assert hidden.startswith("x")  # the first elements are still matched and hidden

"""The supplier-email eval set itself: its size and spread, and that every case is about real sandbox records."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from typing import Any

import pytest
from stdnum import iso6346

from copilot.skills.supplier_email.schemas import ChangeKind
from evals.schema import EvalCase, datasets_dir, load_dataset
from evals.scorers.extraction import language_of
from odoo_sandbox._data import load_dataset as load_sandbox

CARRIERS = {"ups", "fedex", "dhl", "dpd", "gls", "tnt", "usps", "container", "bl"}


@cache
def _cases() -> tuple[EvalCase, ...]:
    return tuple(load_dataset(datasets_dir() / "supplier_email.jsonl", skill="supplier_email"))


def _sandbox() -> dict[str, Any]:
    data = load_sandbox().records
    partners = data["res.partner"]
    codes = {p["default_code"] for p in data["product.product"].values() if p.get("default_code")}
    lines = data["purchase.order.line"]
    products = data["product.product"]
    orders = {
        po["name"]: {products[lines[i]["product_id"]].get("default_code") for i in po["order_line"]}
        for po in data["purchase.order"].values()
    }
    emails = {p["email"].lower() for p in partners.values() if p.get("email")}
    return {"codes": codes, "orders": orders, "emails": emails}


def _ups_check_digit_ok(number: str) -> bool:
    total = 0
    for i, char in enumerate(number[2:-1]):
        value = int(char) if char.isdigit() else (ord(char) - 63) % 10
        total += value * 2 if i % 2 else value
    return (10 - total % 10) % 10 == int(number[-1])


def test_the_set_has_the_size_and_spread_issue_14_asks_for() -> None:
    cases = _cases()
    hand_written = [c for c in cases if c.metadata.source == "hand-written"]
    languages = Counter(language_of(c.metadata.tags) for c in cases)
    threads = [c for c in cases if {"quoted-thread", "forwarded"} & set(c.metadata.tags)]
    negatives = [c for c in cases if not c.target.get("changes")]
    tracked = [c for c in cases if c.target.get("tracking")]
    assert len(hand_written) >= 250
    assert all(languages[lang] >= 40 for lang in ("de", "fr", "es", "nl")), languages
    assert len(threads) >= 30 and len(negatives) >= 30 and len(tracked) >= 20


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c.id)
def test_each_case_is_about_real_sandbox_records_and_follows_the_labelling_rules(case: EvalCase) -> None:
    sandbox = _sandbox_cached()
    target, email = case.target, case.input
    sender = email["from"].rsplit("<", 1)[-1].rstrip(">").lower()
    suspicious = {"unverified-sender", "lookalike-domain", "free-mail"} & set(case.metadata.tags)
    assert sender in sandbox["emails"] or suspicious, f"{sender} is not a sandbox contact"
    assert sum(t.startswith("lang:") for t in case.metadata.tags) <= 1
    kinds = {k.value for k in ChangeKind}
    for ref in target["po_refs"]:
        assert ref in sandbox["orders"], ref
    for change in target["changes"]:
        assert change["kind"] in kinds and change["po"] in target["po_refs"], change
        if change.get("product_code"):
            assert change["product_code"] in sandbox["orders"][change["po"]], change
        if change.get("substitute_code"):
            assert change["substitute_code"] in sandbox["codes"], change
    if "needs_reply" in target:
        assert target["needs_reply"] == any(c["kind"] == "question" for c in target["changes"])
    for ref in target.get("tracking", []):
        number, carrier = ref["number"], ref["carrier"]
        assert carrier in CARRIERS and number == "".join(number.split()).upper()
        assert number in "".join(json.dumps(email).split()).upper(), f"{number} is not in the email"
        if carrier == "ups":
            assert number.startswith("1Z") and len(number) == 18 and _ups_check_digit_ok(number), number
        if carrier == "container":
            assert iso6346.is_valid(number), number


@cache
def _sandbox_cached() -> dict[str, Any]:
    return _sandbox()

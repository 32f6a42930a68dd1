"""The intent router of the deterministic engine: what the buyer asks, and about which records.

Keywords decide the intent; the records come from the question (PO names, vendor names, product codes
and names, checked against Odoo) and, for "it", "that PO" or "the vendor", from the thread's earlier turns.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from copilot.odoo import OdooClient
from copilot.skills.answer.schemas import Intent
from copilot.state.schemas import Turn
from copilot.text.references import PO_REF, is_document_reference
from copilot.tools import _values as v
from copilot.tools.partner import find_partners
from copilot.tools.schemas import Ref

__all__ = ["Routed", "ThreadContext", "Vocabulary", "load_vocabulary", "route"]

#: A product code is short: the look-ahead bounds each try to 40 characters, so "a-a-a-..." is linear.
_CODE = re.compile(r"\b(?=[A-Z0-9_-]{1,40}(?![A-Z0-9_-]))[A-Z][A-Z0-9]*(?:[_-][A-Z0-9]+)*\d[A-Z0-9]*\b", re.IGNORECASE)

_SAID = re.compile(
    r"\b(?:said|say|says|saying|wrote|write|written|writes|e-?mails?|e-?mailed|mails?|messages?|news|heard|hear"
    r"|replied|reply|respond(?:ed)?|told|correspondence|contacted|update from)\b",
    re.IGNORECASE,
)
_LATE = re.compile(r"\b(?:late|overdue|delayed|behind schedule|past due|slipp\w*|running behind)\b", re.IGNORECASE)
_WEEK = re.compile(r"\b(?:this|next|current|coming)\s+week\b|\bweek\b", re.IGNORECASE)
_NEXT_WEEK = re.compile(r"\bnext\s+week\b", re.IGNORECASE)
_RECEIPT = re.compile(
    r"\b(?:arriv\w*|receiv\w*|receipts?|incoming|expect\w*|due|coming|deliver\w*|land\w*|come in|coming in)\b",
    re.IGNORECASE,
)
_ARRIVING_NOW = re.compile(
    r"\bwhat(?:'s| is| are)?\s+(?:arriving|coming in|due in|expected in)\b|\bexpected receipts\b", re.IGNORECASE
)
_STATUS = re.compile(
    r"\b(?:status|going on|happening|up with|news|arriv\w*|when|where|update|received|receipt|ship\w*|state"
    r"|expected|deliver\w*|eta|late|confirmed|stand|how much|total|amount|lines?)\b",
    re.IGNORECASE,
)
_PRODUCT_Q = re.compile(
    r"\b(?:open|pending|orders?|pos?|purchase orders?|on order|incoming|coming|when|restock|replenish\w*|bought"
    r"|ordered|buy|expect\w*|arriv\w*|stock|supply)\b",
    re.IGNORECASE,
)
_IT = re.compile(
    r"\b(?:it|its|it's|that order|this order|that po|this po|the po|the order|same order|that one|this one"
    r"|that purchase order|this purchase order|the purchase order)\b",
    re.IGNORECASE,
)
_THE_VENDOR = re.compile(r"\b(?:the|that|this|same) (?:vendor|supplier)\b|\bthey\b|\bthem\b|\btheir\b", re.IGNORECASE)
_THAT_PRODUCT = re.compile(r"\b(?:that|this|the same) (?:product|item|article)\b", re.IGNORECASE)
_WHAT_ABOUT = re.compile(r"^\s*(?:and\s+)?(?:what|how)\s+about\b|^\s*and\s+(?:for\s+)?\w+\s*\??\s*$", re.IGNORECASE)
#: A capitalized phrase used like a vendor: "from Acme", "Acme's orders", "Acme orders".
_NAMED = re.compile(
    r"\b(?:from|by|with|of|for|about)\s+(?P<a>[A-Z][\w&.-]*(?:\s+[A-Z][\w&.-]*){0,3})"
    r"|\b(?P<b>[A-Z][\w&.-]*(?:\s+[A-Z][\w&.-]*){0,3})(?:'s)?\s+(?:orders|POs|purchase orders|emails?)\b"
)
_STOP = frozenset(
    [
        "i",
        "po",
        "pos",
        "purchase",
        "order",
        "orders",
        "what",
        "which",
        "when",
        "where",
        "who",
        "how",
        "is",
        "are",
        "the",
        "a",
        "an",
        "any",
        "our",
        "my",
        "we",
        "you",
        "it",
        "vendor",
        "vendors",
        "supplier",
        "suppliers",
        "email",
        "emails",
        "odoo",
        "this",
        "next",
        "week",
        "today",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "and",
        "or",
        "rfq",
        "rfqs",
        "receipts",
    ]
)
#: Words of vendor names too common to identify a vendor on their own.
_GENERIC = frozenset(
    [
        "ready",
        "office",
        "furniture",
        "interior",
        "interiors",
        "corner",
        "company",
        "group",
        "the",
        "and",
        "supply",
        "supplies",
        "trading",
        "home",
        "design",
        "wood",
        "mat",
        "inc",
        "ltd",
        "llc",
        "gmbh",
        "sa",
        "bv",
        "co",
    ]
)


@dataclass(frozen=True)
class Vocabulary:
    """The vendors and products the question may name, read once from Odoo."""

    vendors: list[Ref]
    products: list[tuple[Ref, str | None, str]]  # (product, internal reference, name without the code)


def load_vocabulary(client: OdooClient, *, limit: int = 2000) -> Vocabulary:
    """The vendors of recent purchase orders and the purchasable products (two round trips)."""
    orders = client.search_read("purchase.order", [], ["partner_id"], order="date_order desc", limit=limit)
    vendors: dict[int, Ref] = {}
    for row in orders:
        ref = v.ref(row["partner_id"])
        if ref is not None:
            vendors.setdefault(ref.id, ref)
    rows = client.search_read(
        "product.product", [("purchase_ok", "=", True)], ["display_name", "default_code", "name"], limit=limit
    )
    products = [
        (Ref(id=r["id"], name=str(r["display_name"])), v.text(r["default_code"]), str(r["name"] or "")) for r in rows
    ]
    return Vocabulary(vendors=list(vendors.values()), products=products)


@dataclass(frozen=True)
class ThreadContext:
    """What earlier turns of the thread were about, most recent first."""

    purchase_orders: list[str] = field(default_factory=list)
    vendors: list[Ref] = field(default_factory=list)
    products: list[Ref] = field(default_factory=list)
    intent: Intent | None = None

    @classmethod
    def from_turns(cls, turns: list[Turn]) -> ThreadContext:
        """The latest records of each kind in ``turns`` (oldest first, as the store returns them)."""
        pos: list[str] = []
        vendors: list[Ref] = []
        products: list[Ref] = []
        for turn in reversed(turns):
            if not pos and turn.entities.purchase_orders:
                pos = list(turn.entities.purchase_orders)
            if not vendors and turn.entities.vendors:
                vendors = list(turn.entities.vendors)
            if not products and turn.entities.products:
                products = list(turn.entities.products)
        intent = None
        for turn in reversed(turns):
            if turn.intent != Intent.UNSUPPORTED:
                intent = Intent(turn.intent)
                break
        return cls(purchase_orders=pos, vendors=vendors, products=products, intent=intent)


@dataclass
class Routed:
    """The router's reading of a question."""

    intent: Intent
    purchase_orders: list[str] = field(default_factory=list)
    vendors: list[Ref] = field(default_factory=list)
    products: list[Ref] = field(default_factory=list)
    product_query: str | None = None
    unknown_vendor: str | None = None
    next_week: bool = False
    from_thread: bool = False
    ambiguous_pos: list[str] = field(default_factory=list)


def _words(text: str) -> str:
    return " " + re.sub(r"[^\w&]+", " ", text.lower()).strip() + " "


def _find_vendors(question: str, vocab: Vocabulary) -> list[Ref]:
    low = _words(question)
    found: list[Ref] = []
    for vendor in sorted(vocab.vendors, key=lambda r: -len(r.name)):
        name = _words(vendor.name)
        if name.strip() and name in low:
            found.append(vendor)
            continue
        for token in vendor.name.split():  # "Gemini" for Gemini Furniture, only when written as a name
            clean = re.sub(r"\W", "", token)
            if len(clean) >= 4 and clean.lower() not in _GENERIC and re.search(rf"\b{re.escape(clean)}\b", question):
                found.append(vendor)
                break
    return list(dict.fromkeys(found))


def _not_a_code(token: str) -> bool:
    """An order, ticket or document name, or a bare number, is not a product code."""
    return token.isdigit() or is_document_reference(token)


def _find_products(question: str, vocab: Vocabulary) -> tuple[list[Ref], str | None]:
    codes = {m.group(0).upper() for m in _CODE.finditer(question) if not _not_a_code(m.group(0))}
    by_code = [p for p, code, _ in vocab.products if code and code.upper() in codes]
    if by_code:
        return by_code, ", ".join(sorted({c for _, c, _ in vocab.products if c and c.upper() in codes}))
    low = _words(question)
    best: list[Ref] = []
    best_len = 0
    for product, _, name in vocab.products:
        key = _words(name)
        if len(key.strip()) < 4 or key not in low:
            continue
        if len(key) > best_len:
            best, best_len = [product], len(key)
        elif len(key) == best_len:
            best.append(product)
    if best:
        return best, next(n for p, _, n in vocab.products if p == best[0])
    if codes:
        return [], sorted(codes)[0]  # looks like a product code, but Odoo has none
    return [], None


def _unknown_name(question: str, vendors: list[Ref], products: list[Ref], vocab: Vocabulary) -> str | None:
    """A capitalized name used like a vendor that is neither a known vendor nor a product."""
    if vendors:
        return None
    for m in _NAMED.finditer(question):
        phrase = (m.group("a") or m.group("b") or "").strip(" .?!,")
        words = [w for w in phrase.split() if w.lower().strip("'s") not in _STOP]
        if not words or PO_REF.search(phrase) or _CODE.fullmatch(phrase):
            continue
        name = " ".join(words)
        if any(name.lower() in _words(n) for _, _, n in vocab.products):
            continue
        return name
    return None


def _resolve_unknown_vendor(client: OdooClient, name: str) -> Ref | None:
    """A partner matching ``name`` (its company), when the question names a vendor we have no PO from."""
    found = find_partners(client, name, limit=1)
    if not found:
        return None
    match = found[0]
    return match.company or Ref(id=match.id, name=match.display_name)


def route(
    question: str,
    *,
    client: OdooClient,
    vocab: Vocabulary | Callable[[], Vocabulary],
    context: ThreadContext | None = None,
) -> Routed:
    """The intent and the records of ``question``, using ``context`` for "it", "that PO" and "the vendor".

    ``vocab`` may be a function that reads it: a question naming a PO never needs the vendors and products
    (its intent and records come from the reference), so it is not read then (two round trips saved).
    """
    ctx = context or ThreadContext()
    pos = list(dict.fromkeys(m.group(0).upper() for m in PO_REF.finditer(question)))
    vendors: list[Ref] = []
    products: list[Ref] = []
    product_query: str | None = None
    unknown: str | None = None
    if not pos:
        vocabulary = vocab if isinstance(vocab, Vocabulary) else vocab()
        vendors = _find_vendors(question, vocabulary)
        products, product_query = _find_products(question, vocabulary)
        unknown = _unknown_name(question, vendors, products, vocabulary)
    if unknown:
        resolved = _resolve_unknown_vendor(client, unknown)
        if resolved is not None:
            vendors, unknown = [resolved], None
    said, late = bool(_SAID.search(question)), bool(_LATE.search(question))
    week = bool(_WEEK.search(question) and _RECEIPT.search(question)) or bool(_ARRIVING_NOW.search(question))
    it, the_vendor = bool(_IT.search(question)), bool(_THE_VENDOR.search(question))
    out = Routed(intent=Intent.UNSUPPORTED, next_week=bool(_NEXT_WEEK.search(question)), unknown_vendor=unknown)

    def from_thread_po() -> list[str]:
        if not ctx.purchase_orders:
            return []
        out.from_thread = True
        if len(ctx.purchase_orders) > 1:
            out.ambiguous_pos = ctx.purchase_orders
            return []
        return ctx.purchase_orders[:1]

    def from_thread_vendor() -> list[Ref]:
        if ctx.vendors:
            out.from_thread = True
        return ctx.vendors[:1]

    if pos:
        follow_up_said = ctx.intent is Intent.SUPPLIER_SAID and bool(_WHAT_ABOUT.search(question))
        out.intent = Intent.SUPPLIER_SAID if said or follow_up_said else Intent.PO_STATUS
        out.purchase_orders = pos
    elif said:
        out.intent = Intent.SUPPLIER_SAID
        if vendors or unknown:
            out.vendors = vendors
        elif it or (ctx.purchase_orders and not the_vendor):
            out.purchase_orders = from_thread_po()
        elif the_vendor or ctx.vendors:
            out.vendors = from_thread_vendor()
    elif late and it and ctx.purchase_orders and not vendors:
        out.intent = Intent.PO_STATUS
        out.purchase_orders = from_thread_po()
    elif late:
        out.intent = Intent.LATE_POS
        out.vendors = vendors or (from_thread_vendor() if the_vendor else [])
    elif week:
        out.intent = Intent.RECEIPTS_THIS_WEEK
        out.vendors = vendors or (from_thread_vendor() if the_vendor else [])
    elif products or (product_query and _PRODUCT_Q.search(question)):
        out.intent = Intent.PRODUCT_OPEN_POS
    elif _THAT_PRODUCT.search(question) and ctx.products:
        out.intent = Intent.PRODUCT_OPEN_POS
        out.products, out.from_thread = ctx.products, True
    elif it and _STATUS.search(question):  # with no earlier PO: ask which one
        out.intent = Intent.PO_STATUS
        out.purchase_orders = from_thread_po()
    elif _WHAT_ABOUT.search(question) and ctx.intent is not None and (vendors or unknown):
        vendor_intents = (Intent.LATE_POS, Intent.SUPPLIER_SAID, Intent.RECEIPTS_THIS_WEEK)
        out.intent = ctx.intent if ctx.intent in vendor_intents else Intent.LATE_POS
        out.vendors = vendors
    if out.intent is Intent.PRODUCT_OPEN_POS and not out.products:
        out.products, out.product_query = products, product_query
    if out.intent in (Intent.LATE_POS, Intent.SUPPLIER_SAID, Intent.RECEIPTS_THIS_WEEK) and not out.vendors:
        out.vendors = vendors if not out.purchase_orders else []
    if out.intent is Intent.UNSUPPORTED or out.vendors:
        out.unknown_vendor = None if out.vendors else out.unknown_vendor
    return out

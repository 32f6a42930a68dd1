"""Text signals that are not order changes: PO references, other document numbers, and risk signals
(bank detail changes, instructions addressed to an AI, claims of prior agreement)."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property

from copilot.guardrails.bank_change import find_bank_change, sentence_around
from copilot.guardrails.injection import InjectionDetector, detect_injection
from copilot.skills.supplier_email.schemas import EmailReference
from copilot.text.references import DEFAULT_PO_PATTERN
from copilot.text.tracking import carrier_of, find_tracking_numbers, normalise_tracking

__all__ = [
    "DEFAULT_PO_PATTERN",
    "Sentence",
    "agreement_claims",
    "ai_instructions",
    "bank_change",
    "compile_po_pattern",
    "find_po_refs",
    "other_references",
    "product_codes",
    "sentences",
]


_CODE = re.compile(r"\[(?P<code>[A-Za-z0-9][A-Za-z0-9_.\-/]{1,40})\]")
# A sentence ends at ".", "!" or "?" before a capital, a digit or an opening sign; in German not after a day
# written "4." ("Freitag, den 4. Dezember"), where the dot makes the number an ordinal.
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\[(\"'¿¡ÄÖÜÉÈÀ])")
_SPLIT_ORDINAL_DOT = re.compile(r"(?<=[.!?])(?<!\b\d\.)(?<!\b\d\d\.)\s+(?=[A-Z0-9\[(\"'ÄÖÜ])")


#: Where a clause ends inside a sentence: a comma, semicolon or colon, or a "but" (in the five languages).
CLAUSE_BREAK = re.compile(r"[,;:]|\s(?:but|aber|mais|pero|maar)\s", re.IGNORECASE)


@dataclass(frozen=True)
class Sentence:
    """A sentence of the email body, with the PO references and product codes it names."""

    text: str
    line: int
    list_item: bool
    po_refs: tuple[str, ...]
    codes: tuple[str, ...]
    language: str = "en"

    @cached_property
    def clause_breaks(self) -> tuple[int, ...]:
        """Where each clause break of the text ends, in order (scanned once, however many dates ask)."""
        return tuple(m.end() for m in CLAUSE_BREAK.finditer(self.text))

    def clause_start(self, pos: int) -> int:
        """Where the clause holding ``pos`` starts: after the last clause break that ends at or before it."""
        index = bisect_right(self.clause_breaks, pos)
        return self.clause_breaks[index - 1] if index else 0

    @property
    def lower(self) -> str:
        """The text in lower case."""
        return self.text.lower()


def compile_po_pattern(pattern: str | re.Pattern[str] | None) -> re.Pattern[str]:
    """The PO reference pattern (case-insensitive); ``None`` gives Odoo's default ``P\\d{5}``."""
    if isinstance(pattern, re.Pattern):
        return pattern
    return re.compile(pattern or DEFAULT_PO_PATTERN, re.IGNORECASE)


#: A real email names a handful of POs; beyond this the rest are ignored (a flood is an attack, not a request).
MAX_PO_REFS = 25


# "PO-00007", "PO 00007", "PO#00007": the default P00007 as buyers and suppliers also write it
_PO_VARIANT = re.compile(r"\bPO ?[-#:]? ?(?P<n>\d{5,40}+)(?!\d)", re.IGNORECASE)


def find_po_refs(text: str, pattern: re.Pattern[str]) -> list[str]:
    """PO references in ``text``, upper case, first occurrence order (at most ``MAX_PO_REFS``).

    With Odoo's default numbering, the written variants ``PO-00007``/``PO 00007`` are read as ``P00007``."""
    found: dict[tuple[int, str], None] = {}
    for m in pattern.finditer(text or ""):
        found.setdefault((m.start(), m.group(0).upper()), None)
    if pattern.pattern == DEFAULT_PO_PATTERN:
        for m in _PO_VARIANT.finditer(text or ""):
            found.setdefault((m.start(), f"P{m.group('n')}"), None)
    names: dict[str, None] = {}
    for _, name in sorted(found):
        names.setdefault(name, None)
        if len(names) >= MAX_PO_REFS:
            break
    return list(names)


def product_codes(text: str) -> list[str]:
    """Bracketed internal references (``[FURN_8900]``) in ``text``; at least one letter each."""
    return list(dict.fromkeys(m.group("code") for m in _CODE.finditer(text) if re.search("[A-Za-z]", m.group("code"))))


#: Longest sentence the rules read; a longer run without a sentence end is cut into pieces of this size
#: (at a space when there is one), so no rule ever scans more than this at once.
MAX_SENTENCE_CHARS = 1_000


def sentences(text: str, pattern: re.Pattern[str], language: str = "en") -> list[Sentence]:
    """The body split into sentences (list items and paragraphs first, then sentence ends), in ``language``.

    Runs of white space inside a sentence are one space, and no sentence is longer than
    ``MAX_SENTENCE_CHARS``: the rules' cost is bounded per sentence, whatever the email holds.
    """
    out: list[Sentence] = []
    for number, raw_line in enumerate(text.split("\n")):
        line = raw_line.strip()
        if not line:
            continue
        list_item = line.startswith(("- ", "* ", "• "))
        if list_item:
            line = line[2:].strip()
        for part in (_SPLIT_ORDINAL_DOT if language == "de" else _SPLIT).split(line):
            for piece in _pieces(" ".join(part.split())):
                refs, codes = tuple(find_po_refs(piece, pattern)), tuple(product_codes(piece))
                out.append(Sentence(piece, number, list_item, refs, codes, language))
    return out


def _pieces(text: str) -> list[str]:
    """``text`` cut into pieces of at most ``MAX_SENTENCE_CHARS``, at the last space of each when there is one."""
    pieces: list[str] = []
    while len(text) > MAX_SENTENCE_CHARS:
        cut = text.rfind(" ", MAX_SENTENCE_CHARS // 2, MAX_SENTENCE_CHARS + 1)
        cut = cut if cut > 0 else MAX_SENTENCE_CHARS
        pieces.append(text[:cut].strip())
        text = text[cut:].strip()
    if text:
        pieces.append(text)
    return [p for p in pieces if p]


# -- other references ------------------------------------------------------------------------------
# A document number is short: each run is bounded and every space run is possessive, so a label repeated
# thousands of times ("PROPROPRO...", "invoice" followed by 50,000 spaces) is read in linear time.
_REF = r"(?P<ref>[A-Z0-9]{1,40}+(?:[-/][A-Z0-9]{1,40}+){1,8}+(?![A-Z0-9])|[A-Z]{1,5}\d{4,40}+(?!\d)|\d{6,40}+(?!\d))"
_LABEL = r"\s*+(?:(?:no\.?|number|#)\s*+)?(?::\s*+)?"
_REFERENCES: list[tuple[str, re.Pattern[str]]] = [
    ("proforma", re.compile(r"pro-?\s?forma(?: invoice)?" + _LABEL + _REF, re.IGNORECASE)),
    (
        "tracking",
        re.compile(r"(?:tracking|waybill|AWB|PRO)(?:\s*+/\s*+tracking)?" + _LABEL + _REF),
    ),
    ("invoice", re.compile(r"invoice" + _LABEL + _REF, re.IGNORECASE)),
    ("packing_list", re.compile(r"packing list" + _LABEL + _REF, re.IGNORECASE)),
    (
        "vendor_order",
        re.compile(
            r"(?:our|vendor|supplier)\s++(?:(?:order|sales order|SO)\s*+)?(?:ref(?:erence)?|number|no\.?)"
            r"\s*+(?:(?:is|:)\s*+)?" + _REF,
            re.IGNORECASE,
        ),
    ),
    (
        "vendor_order",
        re.compile(
            r"(?:order (?:confirmation|acknowledge?ment)|confirmation number|sales order|auftragsbest[äa]tigung"
            r"|auftragsnummer|AB-Nr\.?|confirmation de commande|accus[ée] de r[ée]ception de commande"
            r"|confirmaci[óo]n de(?:l)? pedido|nuestro pedido|orderbevestiging|ons ordernummer)"
            r"\s*+(?:(?:no\.?|nr\.?|n\.?[º°o]\.?|number|nummer|num[ée]ro|#)\s*+)?(?::\s*+)?" + _REF,
            re.IGNORECASE,
        ),
    ),
    (
        "lot",
        re.compile(r"\blot" + _LABEL + r"(?P<ref>[A-Za-z0-9_]{1,40}+(?:-[A-Za-z0-9_]{1,40}+){1,8}+)", re.IGNORECASE),
    ),
]


def other_references(text: str, pattern: re.Pattern[str]) -> list[EmailReference]:
    """Document numbers that are not our POs: tracking (with its carrier), invoices, the vendor's own order, lots."""
    found: dict[str, EmailReference] = {}
    for tracking in find_tracking_numbers(text):
        if not pattern.fullmatch(tracking.number):
            found[tracking.number] = EmailReference(kind="tracking", value=tracking.number, carrier=tracking.carrier)
    for kind, regex in _REFERENCES:
        for match in regex.finditer(text):
            value = match.group("ref").rstrip(".-/")
            if kind == "tracking":
                value = normalise_tracking(value)
            if pattern.fullmatch(value) or value in found or not re.search(r"\d", value):
                continue
            carrier = carrier_of(value) if kind == "tracking" else None
            found[value] = EmailReference(kind=kind, value=value, carrier=carrier)  # type: ignore[arg-type]
    return list(found.values())


# -- risk signals ----------------------------------------------------------------------------------
def bank_change(text: str, *, iban_alone: bool = True) -> str | None:
    """The sentence asking us to pay to new bank details, if any, in any of the languages we buy in.

    The shared detector's verdict (``copilot.guardrails.bank_change``): homoglyphs folded, negations in the same
    clause excluded; ``iban_alone=False`` ignores a bare IBAN (attachments and quoted mail carry the usual one).
    """
    return find_bank_change(text, iban_alone=iban_alone)


def ai_instructions(
    text: str, *, hidden: bool = False, header: bool = False, detector: InjectionDetector | None = None
) -> bool:
    """True when ``text`` addresses an AI assistant or carries prompt-injection phrasing.

    The verdict is the shared injection detector's (``copilot.guardrails.injection``): heuristics plus
    similarity to known attack patterns. Hidden text needs only a weak signal ("do not mention",
    "without asking"); visible text needs a strong one, so ordinary business prose does not trip it.
    ``header``: the text is the subject and display name, where a claim of approval ("pre-approved") flags too.
    ``detector``: the root's detector (its embedding layer); None: the rules alone, no model loaded.
    """
    source = "email_hidden" if hidden else "email_header" if header else "email"
    return detect_injection(text, source=source, detector=detector).flagged


_AGREEMENT = re.compile(
    r"\bas agreed\b|\balready (?:been )?(?:approved|agreed|accepted|authori[sz]ed)\b|\bapproved by\b"
    r"|\bverbally (?:agreed|approved)\b|\bas (?:confirmed|discussed) (?:by|on the) (?:phone|call|telephone)\b",
    re.IGNORECASE,
)


def agreement_claims(text: str) -> str | None:
    """The sentence claiming a prior agreement or approval (which Odoo cannot show), if any."""
    match = _AGREEMENT.search(text)
    return sentence_around(text, match.start()) if match else None

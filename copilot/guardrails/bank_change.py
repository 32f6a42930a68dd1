"""Requests to pay to new bank details, in English, French, German, Spanish, Dutch and Italian.

Bank-detail changes are the costliest supplier-email fraud, so ``find_bank_change`` errs on the side of
flagging: the wording of a change ("new bank details", "nouvelles coordonnées bancaires", "neue
Bankverbindung", "nuevos datos bancarios", "nieuwe bankgegevens", "nuove coordinate bancarie", "our bank
account has changed", ...) or an IBAN that is not marked as unchanged. The text is folded first
(``copilot.guardrails.normalize.fold``): homoglyphs such as Cyrillic "bаnk" and accents do not hide a phrase.
A negation in the same clause ("our bank details have not changed", "there are no new bank details") is not a
change; "No worries - new bank details" is (the negation belongs to another clause). Every pattern is a
bounded, non-nested regular expression: linear time on any input.
"""

from __future__ import annotations

import re

from copilot.guardrails.normalize import fold
from copilot.text.iban import find_iban_like

__all__ = ["find_bank_change"]

_I = re.IGNORECASE
_CHANGE_WORDING = re.compile(
    # English
    r"\b(?:changed|chang(?:e|ing)\s+(?:of\s+)?(?:our\s+)?|switched\s+(?:to\s+)?(?:a\s+)?(?:new\s+)?"
    r"|moved\s+(?:to\s+)?(?:a\s+)?(?:new\s+)?)banks?\b(?!\s+holiday)"
    r"|\b(?:new|updated|changed|different|revised|alternative|alternate)\s+(?:bank(?:ing)?|remittance|payment|account"
    r"|wire|beneficiary)\s*(?:details|information|info|account|instructions|coordinates|number|data)\b"
    r"|\b(?:bank|banking|remittance|account|payment|beneficiary)\s+(?:details|information|account|data|coordinates)\s+"
    r"(?:have|has)\s+(?:recently\s+|now\s+)?(?:been\s+)?(?:changed|updated|modified)"
    r"|\bnew\s+(?:iban|account number|sort code|routing number|swift|bic|bank)\b(?!\s+holiday)"
    r"|\b(?:remit|pay|transfer|wire|send)\w{0,6}\s+(?:\S+\s+){0,5}?(?:to|into|on)\s+(?:our|the|this)\s+new\s+"
    r"(?:bank\s+)?account\b"
    # French
    r"|\bnouv(?:eau|el|elle|eaux|elles)\s+(?:coordonnees\s+bancaires|rib|iban|compte(?:\s+bancaire)?|banque"
    r"|domiciliation)\b"
    r"|\b(?:coordonnees\s+bancaires|rib|iban|compte\s+bancaire|domiciliation(?:\s+bancaire)?)\s+(?:a|ont)\s+"
    r"(?:ete\s+)?(?:change|modifie)"
    r"|\bchangement\s+(?:de\s+|d')(?:banque|compte|rib|iban|coordonnees\s+bancaires|domiciliation)\b"
    r"|\bchange\w{0,2}\s+de\s+(?:banque|compte\s+bancaire|rib)\b"
    # German
    r"|\bneue[nmrs]?\s+(?:bankverbindung|bankdaten|kontoverbindung|kontodaten|konto(?:nummer)?|iban|bank)\b"
    r"|\b(?:bankverbindung|bankdaten|kontoverbindung|kontodaten|iban|kontonummer)\s+(?:hat\s+sich|haben\s+sich|wurde"
    r"|wurden|ist|sind)\s+(?:\S+\s+){0,2}?geandert"
    r"|\b(?:anderung|wechsel)\s+(?:unserer|unseres|der|des)\s+(?:bankverbindung|bankdaten|kontoverbindung|bank"
    r"|kontos)\b|\b(?:bankwechsel|kontoanderung|kontowechsel)\b"
    # Spanish
    r"|\bnuev[oa]s?\s+(?:datos\s+bancarios|cuenta(?:\s+bancaria)?|iban|banco|numero\s+de\s+cuenta)\b"
    r"|\b(?:datos\s+bancarios|cuenta\s+bancaria|iban|numero\s+de\s+cuenta)\s+(?:han|ha)\s+cambiado"
    r"|\bcambio\s+de\s+(?:banco|cuenta(?:\s+bancaria)?|datos\s+bancarios|iban)\b"
    # Dutch
    r"|\bnieuwe?\s+(?:bankgegevens|bankrekening(?:nummer)?|rekeningnummer|rekening|iban|bank)\b"
    r"|\b(?:bankgegevens|rekeningnummer|bankrekening(?:nummer)?|iban)\s+(?:is|zijn|werd|werden)\s+(?:\S+\s+)?gewijzigd"
    r"|\bwijziging\s+(?:van\s+)?(?:onze\s+|ons\s+|de\s+|het\s+)?(?:bankgegevens|rekeningnummer|bankrekening)\b"
    r"|\bgewijzigde\s+(?:bankgegevens|rekeningnummer|bankrekening)\b"
    # Italian
    r"|\bnuov[oaei]\s+(?:coordinate\s+bancarie|conto(?:\s+corrente)?|iban|banca)\b"
    r"|\b(?:coordinate\s+bancarie|conto\s+corrente|conto|iban)\s+(?:e|sono)\s+(?:stat[oie]\s+)?(?:cambiat|modificat"
    r"|variat)\w*"
    r"|\b(?:cambio|variazione|modifica)\s+(?:di\s+|delle\s+|del\s+|dell')?(?:banca|conto|coordinate\s+bancarie|iban)\b",
    _I,
)
_UNCHANGED = re.compile(
    r"\b(?:unchanged|same as (?:before|always)|as before|as usual|no change|stays? the same|remains? the same"
    r"|inchange\w*|unverandert|bleibt|sin cambios|no ha cambiado|ongewijzigd|invariat\w*|non (?:e|sono) cambiat\w*)\b",
    _I,
)
#: A word that negates the change when it stands in the same clause just before it.
_NEGATION = re.compile(
    r"\b(?:not|never|no|nor|don't|doesn't|haven't|hasn't|ne|n'|pas|jamais|aucun\w*|nicht|kein\w*|nie|niemals|nunca"
    r"|ningun\w*|niet|geen|nooit|non|mai|nessun\w*)\b",
    _I,
)
#: Phrases that start with "no" but negate nothing ("No worries - new bank details").
_NOT_A_NEGATION = re.compile(r"\bno (?:worries|problem|problems|need|doubt|pasa nada)\b|\bpas de souci\b", _I)
_CLAUSE_BREAK = re.compile(r"[.;:!?,\n()\u2013\u2014]| - ")


def _negated(text: str, start: int) -> bool:
    """True when a negation stands in the clause before ``start`` (at most 40 characters back)."""
    before = text[max(0, start - 40) : start]
    breaks = list(_CLAUSE_BREAK.finditer(before))
    clause = before[breaks[-1].end() :] if breaks else before
    clause = _NOT_A_NEGATION.sub(" ", clause)
    return _NEGATION.search(clause) is not None


def find_bank_change(text: str, *, iban_alone: bool = True) -> str | None:
    """The sentence that asks to pay to new bank details, if any.

    ``iban_alone=False`` ignores a bare IBAN without change wording (invoices and signatures in attachments and
    quoted mail carry the vendor's usual IBAN).
    """
    folded = fold(text or "")
    for match in _CHANGE_WORDING.finditer(folded):
        if not _negated(folded, match.start()):
            return sentence_around(folded, match.start())[:500]
    if iban_alone:
        for start, end in find_iban_like(folded):
            around = folded[max(0, start - 60) : end + 60]
            if not _UNCHANGED.search(around):  # "IBAN ... (unchanged)" in a signature is not a change
                return sentence_around(folded, start)[:500]
    return None


def sentence_around(text: str, index: int) -> str:
    """The sentence (up to ". " or a line break on either side) that holds ``text[index]``."""
    start = max(text.rfind(". ", 0, index), text.rfind("\n", 0, index)) + 1
    ends = [e for e in (text.find(". ", index), text.find("\n", index)) if e != -1]
    end = min(ends) + 1 if ends else len(text)
    return text[start:end].strip()

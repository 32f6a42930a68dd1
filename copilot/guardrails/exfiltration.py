"""Data exfiltration: what a draft or an answer may carry out of the company.

An outgoing text may contain a URL, an e-mail address, a phone number or bank details (IBAN, account
number, BIC/SWIFT) only when the same value is in the thread it answers, in the facts and passages it
was written from, or on an allow-list; a payment card number never. It may not name a partner other
than the conversation's customer, nor another customer's order references. A prompt-injected model
that writes "send your documents to https://evil.example/upload" or "our new bank account is ..." or
that tells one customer about another fails this check, and the caller falls back to its template.

``check_exfiltration(text, evidence_texts=..., customer_names=..., other_partner_names=..., allow=...)``
returns an ``ExfiltrationVerdict``. Values are compared normalised: URLs without scheme, ``www.`` and
trailing punctuation (and exactly: a link the customer sent does not allow the same link with data
appended), e-mails case-insensitively, phone numbers by their digits, bank details without spaces.
An allow-list entry is trusted: a domain (``example.com``) allows any URL or e-mail address on it or
its subdomains, a URL allows the URLs it prefixes, anything else is compared like the evidence.
``allow_list_from_texts`` reads ``Allowed links: ...`` / ``copilot-allow: ...`` lines from trusted text
(the company's knowledge base; never the customer's message).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from copilot.guardrails.pii import _PHONE, find_pii
from copilot.text.references import DOCUMENT_REF

__all__ = [
    "ExfiltrationFinding",
    "ExfiltrationVerdict",
    "allow_list_from_texts",
    "check_exfiltration",
    "find_urls",
]

FindingKind = Literal["url", "email", "phone", "iban", "card", "account", "bic", "partner", "reference"]

_URL_TAIL = r"[^\s<>\"'`)\]}]*"
_URL = re.compile(
    r"\b(?:(?:https?|ftp|sftp|file|data|javascript|vbscript|mailto|tel|sms|callto|skype|whatsapp):" + _URL_TAIL
    + r"|www\." + _URL_TAIL + r")",
    re.IGNORECASE,
)  # fmt: skip
_TLDS = (
    "com|net|org|io|co|info|biz|xyz|app|dev|ai|me|ru|cn|tk|ml|ga|cf|gq|top|online|site|link|click|live|shop|store|"
    "ly|gl|to|be|de|fr|uk|nl|eu|us|ca|au|in|es|it|ch|at|pl|se|no|dk|fi|pt|cz|ie|gr|hu|ro|sk|br|mx|jp|kr|tw|hk|sg|"
    "za|ng|ke|example|test|invalid|onion|zip|mov|cloud|page|tech|email|work|support|help|pay|bank"
)
_BARE_DOMAIN = re.compile(
    r"(?<![@\w.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:" + _TLDS + r")(?::\d{2,5})?(?:/" + _URL_TAIL + r")?"
    r"(?![\w-])",
    re.IGNORECASE,
)
#: "evil[.]com", "evil (dot) com": a link written to slip past a filter is still a link.
#: Labels are bounded (DNS: 63) and start only where a run of label characters starts, so "a-a-a-..." is linear.
_OBFUSCATED_DOMAIN = re.compile(
    r"(?<![a-z0-9-])[a-z0-9-]{1,63}"
    r"(?:(?:\s*+(?:\[\.\]|\(\.\)|\[dot\]|\(dot\)|\{dot\})|\s++dot(?=\s))\s*+[a-z0-9-]{1,63})+\b",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?'\")]}>"
_ALLOW_LINE = re.compile(
    r"^[ \t>*-]*(?:copilot[-_ ]allow|allowed[ \t]+(?:links?|urls?|domains?|contacts?|e-?mails?|phones?))[ \t]*:"
    r"[ \t]*(?P<items>.+)$",
    re.IGNORECASE | re.MULTILINE,
)
_LEGAL_SUFFIX = re.compile(
    r"(?<![\s,])[\s,]++(?:inc|llc|ltd|limited|corp|corporation|co|gmbh|ag|sa|sas|sarl|srl|spa|bv|nv|plc|oy|ab|as)\.?$",
    re.IGNORECASE,
)


class ExfiltrationFinding(BaseModel):
    """One value the text may not carry, and why."""

    model_config = ConfigDict(frozen=True)

    kind: FindingKind
    text: str
    start: int
    end: int
    reason: str


class ExfiltrationVerdict(BaseModel):
    """``ok`` when nothing in the text leaves the company that should not."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    findings: list[ExfiltrationFinding]
    checked: int

    def summary(self) -> str:
        """One line: what would leak."""
        if self.ok:
            return f"no exfiltration ({self.checked} values checked)"
        return "; ".join(f"{f.kind} {f.text!r}: {f.reason}" for f in self.findings)


def find_urls(text: str) -> list[tuple[int, int]]:
    """The spans of URLs, bare domains (``evil.example/upload``) and obfuscated domains in ``text``."""
    spans: list[tuple[int, int]] = []
    masked = _mask_emails(text)
    for pattern in (_URL, _BARE_DOMAIN, _OBFUSCATED_DOMAIN):
        for m in pattern.finditer(masked):
            if pattern is _OBFUSCATED_DOMAIN and not re.search(r"\[|\(|\{|\sdot\s", m.group(0), re.IGNORECASE):
                continue
            end = m.end()
            while end > m.start() and text[end - 1] in _TRAILING:
                end -= 1
            if end > m.start() and not any(s <= m.start() < e for s, e in spans):
                spans.append((m.start(), end))
    return sorted(spans)


def _mask_emails(text: str) -> str:
    for span in find_pii(text, kinds=("email",)):
        text = text[: span.start] + " " * (span.end - span.start) + text[span.end :]
    return text


def _norm_url(value: str) -> str:
    value = value.strip().rstrip(_TRAILING).lower()
    value = re.sub(r"\s*(?:\[\.\]|\(\.\)|\[dot\]|\(dot\)|\{dot\}|\sdot\s)\s*", ".", value)
    value = re.sub(r"^[a-z][a-z0-9+.-]*://", "", value)
    value = value.removeprefix("www.")
    return value.rstrip("/")


def _host(normalized_url: str) -> str:
    return re.split(r"[/?#:]", normalized_url, maxsplit=1)[0]


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _compact(value: str) -> str:
    return re.sub(r"[\s-]", "", value).upper()


def _same_phone(a: str, b: str) -> bool:
    """The same number, written with or without its country code or trunk prefix."""
    a, b = a.lstrip("0"), b.lstrip("0")
    short, long = sorted((a, b), key=len)
    return len(short) >= 7 and long.endswith(short)


class _Known:
    """The values the evidence and the allow-list contain, normalised once."""

    def __init__(self, texts: Iterable[str], allow: Iterable[str]) -> None:
        self.urls: set[str] = set()
        self.emails: set[str] = set()
        self.phones: set[str] = set()
        self.bank: set[str] = set()
        self.text = ""
        joined = "\n".join(texts)
        self.text = joined.lower()
        self._collect(joined)
        self.domains: set[str] = set()
        self.url_prefixes: set[str] = set()
        for entry in allow:
            entry = entry.strip()
            if not entry:
                continue
            if "@" in entry and not entry.startswith("@"):
                self.emails.add(entry.lower())
            elif re.fullmatch(r"@?(?:[a-z0-9-]+\.)+[a-z]{2,}", entry, re.IGNORECASE):
                self.domains.add(entry.lstrip("@").lower())
            elif "/" in entry or _URL.match(entry):
                self.url_prefixes.add(_norm_url(entry))
            elif len(_digits(entry)) >= 7 and not re.search(r"[A-Za-z]", entry):
                self.phones.add(_digits(entry))
            else:
                self.bank.add(_compact(entry))
            self._collect(entry)

    def _collect(self, text: str) -> None:
        for start, end in find_urls(text):
            self.urls.add(_norm_url(text[start:end]))
        for span in find_pii(text):
            if span.kind == "email":
                self.emails.add(span.text.lower())
            elif span.kind in ("iban", "account", "bic"):
                self.bank.add(_compact(span.text))
        for m in _PHONE.finditer(text):  # any digit run the evidence has, whatever its shape
            self.phones.add(_digits(m.group(0)))

    def domain_allowed(self, host: str) -> bool:
        return any(host == d or host.endswith("." + d) for d in self.domains)

    def url_ok(self, url: str) -> bool:
        norm = _norm_url(url)
        if norm in self.urls or self.domain_allowed(_host(norm)):
            return True
        return any(norm == p or norm.startswith(p.rstrip("/") + "/") for p in self.url_prefixes)

    def email_ok(self, email: str) -> bool:
        email = email.lower()
        return email in self.emails or self.domain_allowed(email.rsplit("@", 1)[-1])

    def phone_ok(self, phone: str) -> bool:
        digits = _digits(phone)
        return any(_same_phone(digits, known) for known in self.phones)

    def bank_ok(self, value: str) -> bool:
        return _compact(value) in self.bank


def _name_variants(name: str) -> set[str]:
    name = " ".join(name.split())
    variants = {name}
    base = re.sub(r"^the\s+", "", name, flags=re.IGNORECASE)
    variants.add(base)
    variants.add(_LEGAL_SUFFIX.sub("", base))
    return {v for v in variants if len(v) >= 4}


def _texts(values: Iterable[Any]) -> list[str]:
    return [v if isinstance(v, str) else json.dumps(v, default=str, ensure_ascii=False) for v in values]


def check_exfiltration(
    draft_text: str,
    *,
    evidence_texts: Iterable[Any] = (),
    customer_names: Iterable[str] = (),
    other_partner_names: Iterable[str] = (),
    other_references: Iterable[str] = (),
    allow: Iterable[str] = (),
) -> ExfiltrationVerdict:
    """What in ``draft_text`` would carry data out that neither the thread, the evidence nor ``allow`` has.

    ``evidence_texts``: the customer's message, the facts and the knowledge-base passages (strings or
    JSON-able data). ``customer_names``: the conversation's customer and its contacts (never flagged).
    ``other_partner_names``: the other partners the copilot knows; naming one is a finding unless it is
    allowed. ``other_references``: order references of other customers; repeating one is a finding
    unless the evidence (the customer's own words) has it.
    """
    known = _Known(_texts(evidence_texts), allow)
    allowed_names = {a.strip().lower() for a in allow}
    findings: list[ExfiltrationFinding] = []
    checked = 0

    def add(kind: FindingKind, start: int, end: int, reason: str) -> None:
        if not any(f.start < end and start < f.end for f in findings):
            findings.append(
                ExfiltrationFinding(kind=kind, text=draft_text[start:end], start=start, end=end, reason=reason)
            )

    for span in find_pii(draft_text, kinds=("email", "iban", "card", "account", "bic", "phone")):
        checked += 1
        if span.kind == "card":
            add("card", span.start, span.end, "a payment card number is never written in a reply")
        elif span.kind == "email" and not known.email_ok(span.text):
            add("email", span.start, span.end, "e-mail address not in the thread, the facts or the allow-list")
        elif span.kind == "phone" and not known.phone_ok(span.text):
            add("phone", span.start, span.end, "phone number not in the thread, the facts or the allow-list")
        elif span.kind in ("iban", "account", "bic") and not known.bank_ok(span.text):
            add(span.kind, span.start, span.end, "bank details not in the thread, the facts or the allow-list")
    for start, end in find_urls(draft_text):
        checked += 1
        if not known.url_ok(draft_text[start:end]):
            add("url", start, end, "link not in the thread, the facts or the allow-list")
    customers = {v.lower() for name in customer_names for v in _name_variants(name)}
    for name in other_partner_names:
        for variant in sorted(_name_variants(name), key=len, reverse=True):
            low = variant.lower()
            if low in allowed_names or any(low in c for c in customers):
                continue  # "Gemini" of "Gemini Furniture" is the customer's own name
            words = variant.split()
            pattern = r"(?<!\w)" + r"[\s,]+".join(map(re.escape, words)) + r"(?!\w)"
            checked += 1
            # one word ("Lumber" of "Lumber Inc") is a name only when written as one: "the lumber" is not
            m = re.search(pattern, draft_text, re.IGNORECASE if len(words) > 1 else 0)
            if m:
                add("partner", m.start(), m.end(), "names a partner other than the conversation's customer")
                break
    foreign = {r.upper() for r in other_references}
    for m in DOCUMENT_REF.finditer(draft_text):
        if m.group(0).upper() in foreign:
            checked += 1
            if m.group(0).lower() not in known.text:
                add("reference", m.start(), m.end(), "another customer's order")
    findings.sort(key=lambda f: f.start)
    return ExfiltrationVerdict(ok=not findings, findings=findings, checked=checked)


def allow_list_from_texts(texts: Iterable[str]) -> list[str]:
    """The entries of ``Allowed links: a, b`` / ``copilot-allow: a b`` lines in trusted texts (the knowledge base)."""
    entries: list[str] = []
    for text in texts:
        for m in _ALLOW_LINE.finditer(text or ""):
            for item in re.split(r"[,;]\s*|\s{2,}|\s(?=[a-z]+://)", m.group("items")):
                item = item.strip().strip("`<>").rstrip(".")
                if item and item not in entries:
                    entries.append(item)
    return entries

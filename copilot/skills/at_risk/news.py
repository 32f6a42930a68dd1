"""The vendors' news on their POs: arrival dates and quantities their e-mails in the PO chatter announce.

Each e-mail (``mail.message`` of type email on a ``purchase.order``, written by the PO's vendor or one of its
contacts) goes through the supplier-email skill's deterministic extractor; only what it found about dates and
quantities is kept, per PO and product. The text is untrusted data: it can move the date or split the quantity a
receipt is scored with, nothing else (no instruction in it is followed, nothing is written). A message the
extractor flags (hidden instructions, a bank change) moves nothing.

Read in order, oldest first, a PO's news is:

* a **main date** per product (or for the whole PO): a new arrival date, or ``None`` when the vendor gives none
  (force majeure, on hold, a product discontinued or cancelled). A ship date becomes an arrival date
  ``transit_days`` business days later; a date on Odoo's own planned day confirms it and is no news;
* **parts** per product: a partial shipment (what was shipped arrives on the e-mail's arrival date, the backorder on
  its date, travelling as long as the shipment did) or a short supply (the rest on its backorder date, or never).
"""

from __future__ import annotations

import email.utils
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from copilot.citations import Citation
from copilot.email import InboundEmail
from copilot.email.body import clean_line, convert_body
from copilot.skills.at_risk.reads import ref_id, ref_name, when
from copilot.skills.supplier_email.extract import Candidate, Extraction, extract
from copilot.skills.supplier_email.schemas import ChangeKind, Quantity
from copilot.text.language import LanguageDetector

__all__ = ["Announced", "Part", "PoNews", "read_news", "vendor_of"]

_NEVER_KINDS = (ChangeKind.DELAY_NO_DATE, ChangeKind.SUBSTITUTION, ChangeKind.CANCELLATION)
_WHY = {
    ChangeKind.DELAY_NO_DATE: "no delivery date given",
    ChangeKind.SUBSTITUTION: "product no longer available (substitute offered)",
    ChangeKind.CANCELLATION: "cancelled by the vendor",
}


@dataclass(frozen=True, slots=True)
class Announced:
    """What one e-mail says of a date: the arrival day (None: no date at all), why, and which message says so."""

    day: date | None
    why: str
    message: Citation
    sent: date


@dataclass(frozen=True, slots=True)
class Part:
    """A quantity (in the e-mail's unit; None: all the rest) arriving as ``announced`` says (None: as planned)."""

    quantity: Quantity | None
    announced: Announced | None


@dataclass(slots=True)
class PoNews:
    """One PO's news per product code (``None``: the whole PO), the latest e-mail last."""

    po_id: int
    main: dict[str | None, Announced] = field(default_factory=dict)
    parts: dict[str, list[Part]] = field(default_factory=dict)

    def date_for(self, code: str | None) -> Announced | None:
        """The latest main date said for the product or the whole PO."""
        said = [a for a in (self.main.get(code) if code else None, self.main.get(None)) if a is not None]
        return max(said, key=lambda a: (a.sent, a.message.id)) if said else None


def vendor_of(partner: Mapping[str, Any] | None, partner_id: int | None) -> int | None:
    """The commercial partner (company) of a partner row, else its own id."""
    if partner is None:
        return partner_id
    return ref_id(partner.get("commercial_partner_id")) or partner_id


def _email(row: Mapping[str, Any], po_name: str) -> InboundEmail:
    name, address = email.utils.parseaddr(str(row.get("email_from") or ""))
    subject = str(row.get("subject") or "")
    body = convert_body(str(row.get("body") or ""), is_html=True, subject=subject)
    return InboundEmail(
        from_name=name or None,
        from_address=address.lower() if "@" in address else None,
        subject=clean_line(subject),
        date=when(row.get("date")),
        thread=Citation(model="purchase.order", id=int(row["res_id"]), display_name=po_name),
        **body,
    )


def _add_business_days(day: date, days: int) -> date:
    out = day
    while days > 0:
        out += timedelta(days=1)
        if out.weekday() < 5:
            days -= 1
    return out


def _applies(candidate: Candidate, po_name: str) -> bool:
    return candidate.po_name is None or candidate.po_name.upper() == po_name.upper()


def _agrees(day: date, code: str | None, planned: Mapping[str, date]) -> bool:
    """Whether ``day`` is the day Odoo already plans (for the product, or for any product of the PO)."""
    return day == planned.get(code) if code else day in planned.values()


def _fold_dates(
    news: PoNews, found: list[Candidate], mail: tuple[Citation, date], planned: Mapping[str, date], transit_days: int
) -> date | None:
    """Record the e-mail's new dates; return its arrival day for the whole PO (a shipment's), if it gives one."""
    cite, sent = mail
    arrival: date | None = None
    for c in found:
        if c.kind is not ChangeKind.NEW_DATE or c.new_date is None:
            continue
        if _agrees(c.new_date, c.product_code, planned):
            continue  # the date Odoo already plans: a confirmation, no news
        day = _add_business_days(c.new_date, transit_days) if c.date_role == "ship" else c.new_date
        news.main[c.product_code] = Announced(day, f"arriving {day:%Y-%m-%d}", cite, sent)
        if c.date_role == "delivery" and c.product_code is None:
            arrival = day
    return arrival


def _fold_quantities(news: PoNews, found: list[Candidate], mail: tuple[Citation, date], arrival: date | None) -> None:
    """Record what will not come, and how partial shipments and short supplies split a product."""
    cite, sent = mail
    transit = (arrival - sent).days if arrival is not None else 0  # a backorder travels as the shipment did
    for c in found:
        if c.kind in _NEVER_KINDS and not c.rest_cancelled:
            news.main[c.product_code] = Announced(None, _WHY[c.kind], cite, sent)
            continue
        if c.kind not in (ChangeKind.PARTIAL_SHIPMENT, ChangeKind.SHORT_QUANTITY) or not c.product_code:
            continue
        shipped = Announced(arrival, f"shipped, arriving {arrival:%Y-%m-%d}", cite, sent) if arrival else None
        parts = [Part(c.quantity, shipped)] if c.quantity is not None else []
        if c.rest_cancelled or (c.backorder is not None and c.backorder_date is None):
            why = "the rest cancelled" if c.rest_cancelled else "backorder without a date"
            parts.append(Part(None, Announced(None, why, cite, sent)))
        elif c.backorder is not None and c.backorder_date is not None:
            day = c.backorder_date + timedelta(days=transit)
            parts.append(Part(None, Announced(day, f"backorder arriving {day:%Y-%m-%d}", cite, sent)))
        elif c.kind is ChangeKind.PARTIAL_SHIPMENT and shipped is not None:
            parts.append(Part(None, shipped))  # "shipped (complete)": the rest with it
        if parts:
            news.parts[c.product_code] = parts


def _po_news(
    news: PoNews,
    po_name: str,
    extraction: Extraction,
    mail: tuple[Citation, date],
    planned: Mapping[str, date],
    transit_days: int,
) -> None:
    """Fold one e-mail's candidates about this PO (or no PO in particular) into the PO's news."""
    found = [c for c in extraction.candidates if _applies(c, po_name) and not c.line_statement]
    arrival = _fold_dates(news, found, mail, planned, transit_days)
    _fold_quantities(news, found, mail, arrival)


def read_news(
    messages: Iterable[Mapping[str, Any]],
    *,
    po_names: Mapping[int, str],
    po_vendors: Mapping[int, int],
    planned: Mapping[int, Mapping[str, date]],
    partners: Mapping[int, Mapping[str, Any]],
    transit_days: int = 2,
    languages: LanguageDetector | None = None,
) -> dict[int, PoNews]:
    """Each PO's news from its vendor's e-mails (oldest first); messages of anyone else are skipped.

    ``po_vendors``: PO id -> the vendor's commercial partner id; ``planned``: PO id -> product code -> Odoo's
    planned day (a date the e-mail gives on that day is no news); ``partners``: rows with ``commercial_partner_id``
    of the messages' authors.
    """
    detector = languages or LanguageDetector()
    out: dict[int, PoNews] = {}
    rows = sorted(messages, key=lambda r: (str(r.get("date") or ""), int(r.get("id") or 0)))
    by_po: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        po_id = int(row.get("res_id") or 0)
        author = ref_id(row.get("author_id"))
        vendor = po_vendors.get(po_id)
        if vendor is None or author is None or vendor_of(partners.get(author), author) != vendor:
            continue  # not the vendor's own word
        by_po[po_id].append(row)
    for po_id, po_rows in by_po.items():
        name = po_names.get(po_id, "")
        news = out[po_id] = PoNews(po_id)
        for row in po_rows:
            mail = _email(row, name)
            sent = mail.date.date() if mail.date else None
            if sent is None:
                continue
            extraction = extract(mail, languages=detector)
            if extraction.bank_change or extraction.ai_instructions_hidden or extraction.ai_instructions_visible:
                continue  # a message that tries to steer a reader is not news to plan by
            label = f"{ref_name(row.get('author_id')) or 'vendor'}, {sent:%Y-%m-%d}: {mail.subject or 'e-mail'}"
            cite = Citation.model_construct(model="mail.message", id=int(row["id"]), display_name=label[:120])
            _po_news(news, name, extraction, (cite, sent), planned.get(po_id, {}), transit_days)
    return out

"""Deterministic extraction: what a supplier email announces, before anything is checked against Odoo.

Rules read the visible body sentence by sentence (never the hidden text; the quoted part only to find
PO references when the new text has none). Each rule proposes ``Candidate`` changes; ``compare`` then
matches them to Odoo's PO lines and drops what turns out to agree with Odoo.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from copilot.email import InboundEmail
from copilot.email.forwarded import find_forward, is_header_line
from copilot.guardrails.injection import InjectionDetector
from copilot.guardrails.message import header_text, message_context, message_text
from copilot.skills.supplier_email import signals
from copilot.skills.supplier_email.schemas import ChangeKind, EmailReference, Money, Quantity
from copilot.skills.supplier_email.signals import Sentence
from copilot.text.language import LanguageDetector
from copilot.text.money import price_unit
from copilot.text.quantities import numbers_as_digits
from copilot.text.values import (
    UOM_WORDS,
    FoundDate,
    FoundMoney,
    find_dates,
    find_money,
    normalise_uom,
    parse_number,
    parse_quantity,
    relative_date,
)

__all__ = ["Candidate", "Extraction", "extract"]

DateRole = Literal["ship", "delivery", "unspecified"]


class Candidate(BaseModel):
    """A change proposed by a rule, not yet compared with Odoo."""

    kind: ChangeKind
    evidence: str
    po_name: str | None = None
    product_code: str | None = None
    product_text: str | None = Field(default=None, description="Product as written, when no code is given")
    new_date: date | None = None
    latest_date: date | None = Field(default=None, description="End of the window when the email gives one")
    date_role: DateRole | None = None
    old_date: date | None = Field(default=None, description="The email's statement of the current date")
    quantity: Quantity | None = Field(default=None, description="Shipped, available or stated quantity")
    of_quantity: Quantity | None = Field(default=None, description="The email's statement of the ordered quantity")
    backorder: Quantity | None = None
    backorder_date: date | None = None
    rest_cancelled: bool = Field(default=False, description="Short supply: the rest is cancelled, not backordered")
    price: Money | None = None
    old_price: Money | None = Field(default=None, description="The email's statement of the current price")
    percent: float | None = Field(default=None, description="A price change stated as a percentage")
    substitute_code: str | None = None
    substitute_text: str | None = None
    cause: str | None = None
    alternatives: list[tuple[str | None, str]] = Field(
        default_factory=list, description="(PO or None, sentence): conditional alternatives the supplier offers"
    )
    line_statement: bool = Field(
        default=False, description="A plain 'N x product @ price' line: a change only if Odoo differs"
    )


class Extraction(BaseModel):
    """Everything the rules found in one email."""

    language: str = Field(default="en", description="ISO code of the email's language (en, de, fr, es, nl)")
    reference_date: date
    po_refs: list[str]
    po_refs_source: Literal["body", "quoted", "thread", "none"]
    candidates: list[Candidate]
    references: list[EmailReference]
    stated_totals: list[tuple[str | None, Money, str]] = Field(
        default_factory=list, description="(PO or None, amount, sentence) for totals the email states"
    )
    reply_by: date | None = None
    reply_deadline: str | None = None
    bank_change: str | None = None
    agreement_claim: str | None = None
    ai_instructions_visible: bool = False
    ai_instructions_hidden: bool = False

    def kinds(self) -> set[ChangeKind]:
        """Kinds of the candidates (line statements excluded)."""
        return {c.kind for c in self.candidates if not c.line_statement}


# -- patterns ------------------------------------------------------------------------------------
_I = re.IGNORECASE
_NUM = r"(?<![\w.,/-])(?P<q>\d+(?:\.\d+)?)"
_CONFIRM = re.compile(
    r"\bwe (?:hereby |are pleased to |can |gladly )?confirm\b|\b(?:order|po|lines?)\s+(?:is|are|has been|have been)\s+"
    r"confirmed\b|\bno changes? (?:on|from) our side\b|\bas ordered\b|\border confirmation\b"
    r"|\b(?:and|hereby|gladly) confirm (?:it|them|the order|your order|receipt)\b|\bwe acknowledge\b"
    r"|\border acknowledge?ment\b|\backnowledged\b"
    r"|(?:^|[:\-–]\s)(?:order )?confirmed\b|\border confirmed\b|\bconfirmed (?:to|for) ship"
    r"|(?:^|[:\-–]\s)on track\b"
    # de, fr, es, nl
    r"|\bbest[äa]tigen\b|\bbest[äa]tigt\b|\bauftragsbest[äa]tigung\b|\bwie bestellt\b"
    r"|\bconfirm(?:ons|ée?s?)\b|\bconfirmation de (?:la )?commande\b|\bcomme command[ée]e?s?\b"
    r"|\bconfirmamos\b|\bconfirmad[oa]s?\b|\bconfirmaci[óo]n de(?:l)? pedido\b|\bseg[úu]n (?:lo )?pedido\b"
    r"|\bbevestig(?:en|d)\b|\borderbevestiging\b|\bzoals besteld\b",
    _I,
)
# on plan: "arrives Monday as planned", "wie geplant", "comme prévu", "como estaba previsto", "zoals gepland"
_ON_PLAN = re.compile(
    r"\bas (?:planned|scheduled)\b|\bas per (?:your|the) (?:po|order)\b|\bon schedule\b|\bwie geplant\b"
    r"|\bplanm[äa](?:ß|ss)ig\b|\bcomme pr[ée]vu\b|\bcomo (?:estaba )?(?:previsto|planificado|planeado)\b"
    r"|\bzoals gepland\b|\bop schema\b",
    _I,
)
_QUESTION = re.compile(
    r"\?\s*$|\b(?:please|kindly)\s+(?:confirm|let us know|advise|tell us|reply|respond|approve|decide|choose|indicate"
    r"|get back)\b|\b(?:could|can|would) you\b|\blet us know (?:which|whether|if|how|what|when)\b"
    r"|\bwhich (?:option |one )?(?:do )?you prefer\b|\bawait(?:ing)? your (?:confirmation|decision|answer|reply)\b"
    # de, fr, es, nl
    r"|\bbitte\s+(?:best[äa]tigen|teilen|geben|antworten|um)\b|\bk[öo]nn(?:en|ten) sie\b"
    r"|\bmerci de (?:nous )?(?:confirmer|indiquer|r[ée]pondre)\b|\bpouvez-vous\b|\bpourriez-vous\b"
    r"|\bpor favor,?\s+(?:confirme|ind[ií]quenos|conf[ií]rmenos|resp[óo]ndanos)\b"
    r"|\bpueden? (?:usted(?:es)? )?confirmar\b"
    r"|\bkunt u\b|\bkunnen (?:jullie|u)\b|\bgraag (?:uw )?(?:bevestiging|bevestigen|reactie)\b",
    _I,
)
_NOT_A_QUESTION = re.compile(
    # "please quote it on any correspondence", out-of-office "for urgent matters you can contact ..."
    r"\bbei r[üu]ckfragen\b|\bon (?:any|all) (?:further )?correspondence\b|\btoute correspondance\b"
    r"|\btoda (?:la )?correspondencia\b|\bcorrespondentie\b|\bcontact opnemen\b|\bdringende zaken\b"
    r"|\bin dringenden f[äa]llen\b|\burgent matters\b|\bpour toute urgence\b|\basuntos urgentes\b"
    r"|^\s*if\b|\bif you have (?:any )?(?:further |other )?questions\b|\bshould you have\b"
    r"|\blet us know if (?:anything|something|any\w*) (?:is )?(?:missing|wrong|damaged)\b",
    _I,
)
# "before we confirm P00001": a confirmation still to come
_NOT_YET = re.compile(
    r"\b(?:before|once|until|after|when|as soon as)\s+(?:we|you)\s+(?:can\s+)?confirm"
    r"|\b(?:bevor|sobald|avant que|antes de que|voordat|zodra)\s+(?:\w+\s+){0,3}?(?:best[äa]tig|confirm|bevestig)"
    # the confirmation is a document still to come: "Die Auftragsbestätigung erhalten Sie morgen"
    r"|\b(?:erhalten sie|you(?:'ll| will) receive|vous recevrez|recibir[áa]n?|u ontvangt|ontvangt u)\b"
    # a payment's receipt confirmed is no order confirmation
    r"|\b(?:receipt|recepci[óo]n|r[ée]ception|ontvangst|eingang)\s+(?:of|del?|du|van|der|des)?\s*+(?:\w+\s+)?"
    r"(?:payment|pago|paiement|betaling|zahlung)",
    _I,
)
_DEADLINE = re.compile(
    r"\b(?:by|before|until)\s+(?P<when>tomorrow|today|tonight|end of (?:the )?day)\b(?:\s+(?:noon|morning|evening|"
    r"\d{1,2}(?::\d{2})?\s*(?:am|pm)))?",
    _I,
)
_REPLY_WORDS = re.compile(
    r"\bhear (?:back|from you)\b|\breply\b|\banswer\b|\brespond\b|\bconfirm|\blet us know\b|\bdecision\b"
    r"|\bneed to know\b|\bantwort\w*|\bbest[äa]tigen sie\b|\br[ée]ponse\b|\brespuesta\b|\bantwoord\w*",
    _I,
)
_BY_END = re.compile(r"\b(?:by|before|until|bis|sp[äa]testens|avant|antes del?|voor|uiterlijk)\s*+$", _I)
_PROMISE = re.compile(
    r"\b(?:ship\w*|deliver\w*|eta|arriv\w*|expected|estimated|schedul\w*|dispatch\w*|truck|ready|pick-?up|transit|load\w*"
    r"|liefer\w*|versand\w*|versend\w*|verschieb\w*|verschoben|ankunft|eintreff\w*|abhol\w*|ausgeliefert|erfolgt"
    r"|livr\w*|exp[ée]di\w*|report[ée]\w*|enl[èe]vement|d[ée]part"
    r"|entreg\w*|env[ií]\w*|despach\w*|retras\w*|lleg\w*|recogida"
    r"|lever\w*|verzend\w*|verzonden|verscho\w*|aankomst|ophaal\w*"
    r"|reach\w*|expect\w*|delay\w*|postpon\w*|slipp?\w*|moved|pushed back|rescheduled"
    r"|follow\w*|voraussichtlich|folg\w*|pr[ée]vu\w*|suivr\w*|previst\w*|seguir\w*|verwacht\w*|volg\w*"
    # going out, leaving, coming: "go out Monday", "geht/gehen ... raus", "verladen", "kommt am", "partira le",
    # "sale/salen/saldrá el", "gaat ... de deur uit", "op transport", "vertrekt", "komt op"
    r"|go(?:es)? out|leav\w*|on (?:its|their) way|verlad\w*|raus|zugestellt|zustell\w*|kommt|kommen|komt"
    r"|partir(?:a|ont|ait)|partent|arriv\w*|d[ée]cal\w*|sale (?:el|hoy|ma[ñn]ana|esta)|sal(?:en|ir|dr[áa]n?)"
    r"|list[ao]s?|deur uit|op transport|ausliefer\w*|anliefer\w*|ex-works"
    r"|promis\w*|zugesagt|versprochen|prometid\w*|beloofd|versp[äa]t\w*|verz[öo]ger\w*|te laat|vertraagd|en retard"
    r"|new (?:[\w-]{1,20} )?date|neue[nr]? (?:liefer)?termin|nouvelle date|nueva fecha|nieuwe (?:lever)?datum"
    r"|vertrek\w*|komen|geladen|geleverd|verzending)\b",
    _I,
)
_OLD_DATE = re.compile(
    r"\b(?:requested|original(?:ly)?|previous(?:ly)?|initial(?:ly)?|planned|instead of|rather than"
    r"|cannot (?:ship|deliver)"
    r"|was due|were due|statt|anstatt|urspr[üu]nglich|au lieu de|initialement|en lugar de|en vez de|originalmente"
    r"|in plaats van|oorspronkelijk)\b[^.]{0,30}$|\bfrom\s*$|\(\s*not\s*$"
    # the date the buyer asked for: "(Sie hatten den 1. Dezember angefragt)", "(you had asked for Dec 1)"
    r"|\b(?:sie hatten|you had|you asked for|vous aviez|usted hab[íi]a|ustedes hab[íi]an|u had|jullie hadden)\b"
    r"[^.]{0,20}$",
    _I,
)
_PAST_EVENT = re.compile(
    r"\b(?:left|departed|flooded|since|shipped|picked up|collected|received|sent|invoiced|dated"
    r"|was delivered|seit|depuis|desde|sinds|erhalten|reçu|recibido|ontvangen)\b[^.]{0,30}$",
    _I,
)
_CONDITIONAL = re.compile(
    r"^\s*(?:if|unless|should you|alternatively|otherwise|falls|wenn|sollten|alternativ|si|sinon|en caso de|indien"
    r"|anders)\b|\bif you (?:would )?(?:rather|prefer)\b",
    _I,
)
_OPTION = re.compile(r"^\s*(?:\d\)|\([a-z]\)|option\s+\d)", _I)
_BACKORDER_WORD = re.compile(
    r"\bback-?\s?order|\bremaining\b|\brestlich\w*|\br[üu]ckstand|\breliquat|\brestant\w*|\bel resto\b"
    r"|\brestante\w*|\bresterende\b|\bnalevering"
    # "the other 4", "4 to follow", "die ausstehenden 4", "les 4 autres", "las últimas 4", "de overige/laatste 4"
    r"|\bto follow\b|\bausstehend\w*|\bverbleibend\w*|\bautres\b|\b[úu]ltim[oa]s\b|\bpendientes?\b"
    r"|\boverige\b|\blaatste\b",
    _I,
)
_SHIPPED_Q = re.compile(
    _NUM + rf"\s*(?P<u>{UOM_WORDS})?\b(?P<what>(?:\s+[\w\-\[\]]+){{0,6}}?)"
    r"\s+(?:have been |has been |were |was |are |being |wurden |sind |werden |ont été |sont |han sido |fueron "
    r"|se han |zijn |werden )?(?:today |heute |aujourd'hui |hoy |vandaag )?"
    r"(?:shipped|dispatched|sent out|loaded|versandt|verschickt|verladen|exp[ée]di[ée]e?s?|envi[ao]d[oa]s"
    r"|despachad[oa]s|verzonden|verstuurd)\b",
    _I,
)
_BACKORDER_Q = re.compile(
    _NUM + rf"\s*(?P<u>{UOM_WORDS})?\b(?P<what>(?:\s+[\w\-\[\]]+){{0,4}}?)\s+(?:(?:are|is|will be|remain)\s+)?"
    r"(?:on\s+back-?\s?order|back-?\s?ordered)\b"
    rf"|back-?\s?order(?:ed)?\s+(?:the\s+)?(?:remaining\s+|other\s+|rest\s+of\s+the\s+)?(?P<q2>\d+(?:\.\d+)?)\s*(?P<u2>{UOM_WORDS})?",
    _I,
)
_PARTIAL = re.compile(
    r"\b(?:shipped|delivered|dispatched) partially\b|\bpartial(?:ly)? (?:shipment|delivery|shipped|delivered)\b"
    r"|\bsplit (?:shipment|delivery)\b",
    _I,
)
_SHORT = re.compile(
    r"\b(?:only|just)\s+(?:be\s+able\s+to\s+)?(?:supply|ship|deliver|send|provide|fulfil+|make|produce|have)\s+"
    + _NUM
    + rf"\s*(?P<u>{UOM_WORDS})?\s+(?:of|out of)\s+(?:the\s+|your\s+)?(?P<of>\d+(?:\.\d+)?)\s*(?P<u2>{UOM_WORDS})?"
    r"(?P<what>[^.:;,]*)",
    _I,
)
_ORDERED = r"(?:ordered|bestellt|command[ée]e?s?|pedid[oa]s?|besteld)"
# "we can only produce 120 pcs of the Drawer Black (that's 10 of your 15 dozen)": the quantities in the line's unit
_ONLY = r"(?:only|just|nur|que|s[óo]lo|solamente|seulement|uniquement|maar|slechts)"
# ... "(das sind 10 Ihrer 15 Dutzend)", "(soit 10 de vos 15 douzaines)", "(8 de sus 15 docenas)", "(8 van uw 15 dozijn)"
_SHORT_THATS = re.compile(
    rf"\b{_ONLY}\b(?P<what>[^.()]{{0,120}}?)\((?:that's|that is|i\.e\.|=|das sind|soit|c'est-[àa]-dire|es decir"
    r"|o sea|dat zijn|dat is)?\s*+(?P<q>\d{1,7}(?:\.\d{1,3})?)\s++"
    r"(?:(?:of|out of|von|de|des|sur|van)\s++)?(?:your|the|ihrer|ihren|sus|vos|uw|los|las|les)\s++"
    rf"(?P<of>\d{{1,7}}(?:\.\d{{1,3}})?)\s*+(?P<u2>{UOM_WORDS})?(?P<u>)\)",
    _I,
)
# "nous ne pouvons fournir que 6 des 9", "solo podemos servir 6 de las 9", "kunnen we slechts 6 van de 9 leveren"
_SHORT_ONLY_OF = re.compile(
    rf"\b{_ONLY}\s++(?:[\w']{{1,30}}\s++){{0,3}}?"
    + _NUM
    + rf"(?:\s*+(?P<u>{UOM_WORDS}))?\s++(?:of|out of|der|von|des|sur|de|van)\s++"
    r"(?:(?:the|your|den|les|los|las|de|vos|sus|uw|ihren?)\s++)?"
    rf"(?P<of>\d{{1,7}})(?![\d.,]\d)\s*+(?P<u2>{UOM_WORDS})?(?P<what>[^.:;,]{{0,120}})",
    _I,
)
# "wir können nur 14 Stück liefern, der Rest ist gestrichen": short when the rest is cancelled
_SHORT_REST = re.compile(
    rf"\b{_ONLY}\s++(?:[\w']{{1,30}}\s++){{0,3}}?"
    + _NUM
    + rf"\s*+(?P<u>{UOM_WORDS})?(?P<what>[^.:;,]{{0,80}})(?P<of>)(?P<u2>)",
    _I,
)
# "we can supply only 3 of the 5 dozen [E-COM06] Corner Desk Right Sit"
_SHORT_AFTER = re.compile(
    r"\b(?:supply|ship|deliver|send|provide|produce|make)\s+(?:only|just)\s+"
    + _NUM
    + rf"\s*(?P<u>{UOM_WORDS})?\s+(?:of|out of)\s+(?:the\s+|your\s+)?(?P<of>\d+(?:\.\d+)?)\s*(?P<u2>{UOM_WORDS})?"
    r"(?P<what>[^.:;,]*)",
    _I,
)
# "we can only supply 6 Large Desks (10 ordered)", "nur 6 Stück liefern (10 bestellt)"
_SHORT_ORDERED = re.compile(
    r"\b(?:only|just|nur|seulement|uniquement|que|s[óo]lo|slechts|maar)\s+(?:\w+\s+){0,3}?"
    + _NUM
    + rf"\s*(?P<u>{UOM_WORDS})?\b(?P<what>[^.:;,()]{{0,80}}?)\s*+\((?:of\s+|von\s+|sur\s+|de\s+|van\s+)?"
    rf"(?P<of>\d{{1,7}})\s*(?P<u2>{UOM_WORDS})?\s*{_ORDERED}\)",
    _I,
)
# goods going out today, in the present tense: "heute gehen ... raus", "heute verlassen ... das Werk",
# "aujourd'hui nous expédions", "hoy salen", "vandaag vertrekken", "vandaag gaan ... de deur uit"
_TODAY_OUT = (
    r"(?:today|heute|aujourd'hui|hoy|vandaag)\b[^.;]{0,100}?\b(?:go(?:es)? out|leav(?:e|es|ing)|raus|verlass\w*"
    r"|versende[nt]|verschicke[nt]|exp[ée]di(?:ons|ent|e)|partent|sal(?:e|en)|enviamos|vertrek\w*|deur uit"
    r"|verzenden|versturen)"
    # gone out, the verb first: "est partie aujourd'hui", "ist heute raus", "salió hoy", "is vandaag vertrokken"
    r"|(?:est|sont) partie?s?|(?:ist|sind) (?:heute )?raus|sali(?:ó|o|eron)|(?:is|zijn) (?:vandaag )?vertrokken"
)
_SHIPPED_WORD = re.compile(
    r"\b(?:shipped|dispatched|sent|loaded|versandt|verschickt|geliefert|exp[ée]di[ée]e?s?|livr[ée]e?s?|envi(?:ad[oa]s?"
    rf"|amos)|despach\w+|entregad[oa]s?|verzonden|verstuurd|geleverd|{_TODAY_OUT})\b",
    _I,
)
# "we shipped 12 of the 20 Large Desks", "12 der 20 Large Desks versandt", "12 sur 20", "12 de los 20", "12 van de 20"
_N_OF_M = re.compile(
    _NUM + rf"\s*(?P<u>{UOM_WORDS})?\s+(?:of|out of|der|von|sur|de|van)\s+(?:(?:the|den|les|los|las|de)\s+)?"
    rf"(?P<of>\d{{1,7}})(?![\d.,]\d)(?:\s*(?P<u2>{UOM_WORDS})\b)?(?P<what>(?:\s+[\w\-\[\]]+){{0,4}})",
    _I,
)
_PERCENT = re.compile(
    r"\bprices?\b[^.%]{0,40}?\b(?P<dir>increase|rise|go(?:es)? up|raise|decrease|reduc|lower|drop|go(?:es)? down)\w*"
    r"\s++(?:by\s++)?(?P<pct>\d++(?:\.\d++)?+)\s?%"
    r"|(?<!\d)(?P<pct2>\d++(?:\.\d++)?+)\s?%\s++(?:price\s++|[a-z]{1,20}\s++)?"
    r"(?P<dir2>increase|surcharge|decrease|reduction|discount)",
    _I,
)
_DISCONTINUED = re.compile(
    r"\b(?:discontinued|no longer (?:available|produced|manufactured|made|supplied)|end[- ]of[- ]life|obsolete"
    r"|out of production|phased out|out of stock|sold out|out of (?:[\w-]{1,20}\s){0,2}(?:frames|parts|material|fabric)"
    r"|nicht mehr lieferbar|ausverkauft|plus disponible|en rupture|agotad[oa]s?|descatalogad[oa]s?|uitverkocht"
    r"|niet meer leverbaar|plus (?:fabriqu|produit)[ée]?e?s?|nicht mehr (?:hergestellt|produziert|gefertigt)"
    r"|ya no se (?:fabrica|produce)|no se fabrica m[áa]s|niet meer (?:gemaakt|geproduceerd))\b",
    _I,
)
_SUBSTITUTE = re.compile(
    r"\b(?:substitute|substitution|replacement|alternative (?:product|item|model)|equivalent (?:product|item|model)"
    r"|replace (?:it|them) (?:with|by)|(?:deliver|offer|ship|send|supply|build|make|produce)\b[^.;]{1,80}\binstead\b"
    r"|ersatz\w*|ersetzen|stattdessen|rempla[cç]\w*|[àa] la place|sustitu\w*|reemplaz\w*|en su lugar"
    r"|vervang\w*|in plaats daarvan)",
    _I,
)
# where the substitute's name starts: "replace it with the X", "we offer the X instead", "Ersatz: X"
_OFFER = re.compile(
    r"\b(?:could|can|would|are able to)\s+(?:ship|offer|deliver|supply|send|provide|build|make)\b"
    r"|\bk[öo]nnten (?:wir|Ihnen)\b|\bpourrions\b|\bpodr[ií]amos\b|\bkunnen wij\b"
    r"|\bk[öo]nnen wir\b|\bwir k[öo]nnen\b|\bnous pouvons\b|\bpodemos\b|\bkunnen we\b|\bwe kunnen\b",
    _I,
)
_SUBSTITUTE_LEAD = re.compile(
    r"\b(?:replace (?:it|them) (?:with|by)|(?:as (?:a )?(?:substitute|replacement),?\s+)?we (?:can )?"
    r"(?:offer|propose|deliver|ship|send|supply|suggest)|ersetzen (?:es |sie )?durch|rempla[cç]\w* par"
    r"|sustituir\w* por|reemplaz\w* por|vervangen door)\s+(?:(?:you|u|Ihnen|vous)\s+)?(?:the\s+|den\s+|die\s+"
    r"|das\s+|le\s+|la\s+|el\s+|de\s+|het\s+)?",
    _I,
)
_SUBSTITUTE_TAIL = re.compile(
    # starts only where a run of spaces starts, and takes the run whole: linear on a page of spaces
    r"(?<!\s)\s++(?:instead|at the same price|for the same price|at\s+[$€£]|zum gleichen preis|au m[êe]me prix"
    r"|al mismo precio|voor dezelfde prijs|stattdessen)\b.*$|[.,;:(].*$",
    _I,
)
# "rest cancelled", "the remaining 5 are cancelled", "Rest storniert", "le reste est annulé"
_REST_CANCELLED = re.compile(
    r"\b(?:rest|remainder|balance|remaining(?:\s+\d{1,7})?(?:\s+[a-z]{1,20})?|restmenge|reste|reliquat|resto"
    r"|restante)\s+(?:(?:is|are|will be|has been|have been|wird|werden|ist|est|sont|sera|se|es|está|wordt|is)\s+)?"
    r"(?:cancell?ed|storniert|gestrichen|annul[ée]e?s?|supprim[ée]e?s?|cancelad[oa]s?|cancela|anula(?:d[oa]s?)?"
    r"|geannuleerd|vervalt|vervallen)\b"
    r"|\bcancel(?:l?ing)? (?:the )?(?:rest|remainder|balance|remaining)\b"
    r"|\b(?:missing|remaining|other|rest)\b[^.]{0,30}\bwill not be (?:produced|made|delivered|shipped|supplied)\b",
    _I,
)
_HOLD = re.compile(
    r"\b(?:require|need|request|ask for)s?\s+(?:a\s+|full\s+)?"
    r"(?:pre-?payment|payment in advance|advance payment|cash in advance)"
    r"|\b(?:pre-?payment|payment in advance|advance payment|cash in advance)\b[^.]{0,40}\b(?:required|is needed|must)\b"
    r"|\b(?:credit|account)\s+(?:is\s+|has been\s+|was\s+)?(?:put\s+)?on\s+(?:credit\s+)?hold\b|\baccount on hold\b"
    r"|\bcredit hold\b|\bexceeds? (?:your|the) credit limit\b|\bpro-?\s?forma\b"
    r"|\bpayment before (?:we|shipping|release)"
    r"|\b(?:only|not) (?:be )?(?:dispatched|shipped|released|delivered) (?:after|until|before) (?:full )?payment"
    r"|\b(?:past|over|exceed(?:ed|s)?|above) (?:its|your|the) credit limit\b"
    r"|\b(?:orders?|deliveries) (?:\w+ )?(?:are|is) on hold\b"
    r"|\bon hold until (?:we (?:have )?receive(?:d)? |receipt of )?(?:the |full )?payment\b"
    r"|\bvor(?:aus)?kasse\b|\b(?:kunden)?konto (?:ist |wurde |bleibt )?gesperrt\b|\bliefersperre\b|\bkreditlimit"
    r"|\bcompte (?:est |a été |reste )?bloqu[ée]\b|\blimite de cr[ée]dit\b|\bpaiement (?:d'avance|anticip[ée])"
    r"|\bpr[ée]paiement\b|\b(?:avant|jusqu'au|apr[èe]s) (?:le )?r[èe]glement\b"
    r"|\bpago anticipado\b|\bl[íi]mite de cr[ée]dito\b|\bcuenta (?:est[áa] |queda |ha sido )?bloquead[ao]\b"
    r"|\b(?:queda|quedan|est[áa]n?) retenid[oa]s?\b|\bbloqueo de cr[ée]dito\b"
    r"|\bvooruitbetaling\b|\bkredietblokkade\b|\bkredietlimiet\b|\baccount (?:is |staat |wordt )?geblokkeerd\b"
    r"|\bpas (?:na betaling|vrijgegeven als)\b",
    _I,
)
_CREDIT_LIMIT = re.compile(r"credit limit(?: with us)?\s+(?:is|of)\s+", _I)
_NO_DATE = re.compile(
    r"\bforce majeure\b|\buntil further notice\b"
    r"|\b(?:cannot|can't|can not|unable to|not able to)\s+(?:give|provide|confirm"
    r"|commit to|quote)\s+(?:you\s+)?(?:a\s+|any\s+)?(?:new\s+)?(?:delivery\s+|ship(?:ping)?\s+|dispatch\s+)?date\b"
    r"|\bno (?:new )?(?:delivery |ship(?:ping)? )?date (?:yet|available|at this time)\b"
    r"|\bsuspend(?:ed|ing)? (?:our |all |the )?(?:deliver\w*|production|shipments?|operations)\b"
    r"|\bno (?:eta|date|release time)(?: yet| at (?:this|the moment|this point))\b|\bno longer promise\b"
    r"|\b(?:has|have) not given (?:us )?a (?:new )?date\b|\bcan(?:'t|not) give us a (?:release )?(?:time|date)\b"
    r"|\bdelayed indefinitely\b|\b(?:date|eta) (?:is )?(?:unknown|tbc|tbd|to be (?:confirmed|determined))\b"
    r"|\bh[öo]here gewalt\b|\bbis auf weiteres\b|\bkein(?:en)? (?:neuen )?(?:liefer)?termin\b"
    r"|\bjusqu'[àa] nouvel ordre\b|\bpas (?:encore )?de (?:nouvelle )?date\b"
    r"|\bfuerza mayor\b|\bhasta nuevo aviso\b|\bsin fecha\b|\bno tenemos (?:una )?fecha\b"
    r"|\bovermacht\b|\btot nader (?:order|bericht)\b|\bgeen (?:nieuwe )?(?:lever)?datum\b"
    r"|\b(?:cannot|can't|can not|unable to|not able to)\s+give\s+(?:you\s+)?(?:any\s+)?new\s+dates\b|\bno idea when\b"
    r"|\bauf unbestimmte zeit\b"
    r"|\b(?:neuen|genauen) (?:liefer)?termin\b[^.;]{0,40}\b(?:noch nicht|erst nennen|nicht nennen)\b"
    r"|\bpas encore (?:\w+ ){0,2}de (?:nouvelle )?date\b|\bne (?:pouvons|pouvez|peut) plus garantir\b"
    r"|\bno podemos (?:comprometer|confirmar|dar|indicar) (?:una |ninguna )?(?:nueva )?fecha\b"
    r"|\bno tenemos (?:hora|fecha)\b|\bgeen idee wanneer\b|\bnog geen (?:nieuwe )?(?:lever)?datum\b",
    _I,
)
_CANCEL = re.compile(
    r"\bwe(?:'ll| will| must| have to| had to| need to| are forced to| regret to| have| are| unfortunately)?\s+"
    r"(?:to\s+)?cancel(?:l?ed|l?ing)?\b"
    r"|\b(?:order|po|line|item)s?\s+(?:is|are|has been|have been|will be)\s+(?:hereby\s+)?cancell?ed\b"
    r"|\bwithdraw\w* our (?:offer|quote|confirmation)\b|\bconsider (?:the|this|your) (?:request|order) cancell?ed\b"
    r"|\bstornier\w*|\bstorniert\b|\bannul(?:er|ons|[ée]e?s?|ation)\b|\bcancel(?:ar|amos|ad[oa]s?)\b"
    r"|\bannuler(?:en|d)\b|\bgeannuleerd\b|\btreat\b[^.;]{0,40}\bas cancell?ed\b",
    _I,
)
_DELIVERED = re.compile(
    r"\b(?:was|were|has been|have been)\s+(?:\w+\s+)?delivered\b"
    r"|\bdelivered (?:complete|in full|today|this morning|yesterday)\b"
    r"|\bproof of delivery\b|\bPOD\b[^.]{0,20}\bsigned\b|\bgoods (?:have )?arrived\b"
    r"|\bwurden? (?:heute |gestern )?(?:zugestellt|geliefert|ausgeliefert)\b|\ba (?:bien )?[ée]t[ée] livr[ée]e?\b"
    r"|\bont [ée]t[ée] livr[ée]e?s\b|\b(?:fue|ha sido|han sido) entregad[oa]s?\b"
    r"|\b(?:is|zijn) (?:vandaag |gisteren )?(?:geleverd|afgeleverd)\b"
    # a past tense with words between: "wurde gestern an Ihr Lager zugestellt", "is gisteren compleet afgeleverd"
    r"|\b(?:wurden?|ist|sind)\b[^.;]{0,100}\b(?:zugestellt|ausgeliefert|abgeliefert)\b"
    r"|\b(?:is|zijn|werd|werden)\b[^.;]{0,100}\b(?:afgeleverd|bezorgd)\b"
    r"|\bse entreg[óo]\b|\bentregad[oa]s? (?:ayer|hoy|esta ma[ñn]ana)\b|\blleg[óo] (?:complet[oa]|bien|ayer|hoy)\b"
    r"|\blivr[ée]e?s? (?:hier|ce matin|aujourd'hui)\b"
    r"|\b(?:shows?|showing|confirms?)\b[^.;]{0,40}\bdelivered\b",
    _I,
)
_NEGATION = re.compile(r"\b(?:not|n't|never|no|nicht|kein\w*|pas|jamais|nunca|niet|geen)\b", _I)
_CAUSE = re.compile(
    r"\b(?:because of|due to|caused by|owing to)\s+(?P<cause>[^.;:,()]{3,90}?)"
    r"(?=\s+(?:we|I|they|so|and we)\b|[.;:,()]|$)",
    _I,
)
_CARRIER = re.compile(r"\b(?:carrier|in transit|trailer|freight|transload\w*|customs)\b", _I)
_TRANSPORT_TROUBLE = re.compile(
    r"\b(?:delay\w*|held|failure|stuck|breakdown|broke|transload\w*|rerouted|accident)\b", _I
)
_TOTAL = re.compile(r"\btotal\b[^$€£\d.]{0,15}$|\binvoice\s+\S+\s+(?:for|of)\s*$|\bamounting to\s*$", _I)
# "3 x [FURN_8900] Drawer Black @ $281.00": the product text is bounded (a line names a product, not a
# page) and the spaces around it are possessive, so a line of "1 x 1 x 1 x ... @" is read in linear time.
_LINE_X = re.compile(
    _NUM + rf"\s*+(?:(?P<u>{UOM_WORDS})\s*+)?[x×]\s++(?P<what>[^,;()\n@]{{1,200}}+(?:\s*+\([^()\n]{{1,40}}\))?)"
    r"\s*+(?:@\s*+(?P<price>[$€£]\s?[\d,]++(?:\.\d{1,2})?)|(?=[,;()\n]|$))",
    _I,
)
_LINE_COLON = re.compile(
    r"^(?P<what>[^:]{2,60}):\s*+"
    + _NUM
    + rf"\s*+(?:(?P<u>{UOM_WORDS})\s*+)?[x×]\s*+(?P<price>[$€£]\s?[\d,]++(?:\.\d{{1,2}})?)",
    _I,
)


def _qty(value: str | None, uom: str | None) -> Quantity | None:
    return Quantity(value=parse_number(value), uom=normalise_uom(uom)) if value else None


def _pos(sentence: Sentence) -> list[str | None]:
    return list(sentence.po_refs) or [None]


def _pos_at(sentence: Sentence, at: int, since: int = 0) -> list[str | None]:
    """The POs a statement at ``at`` is about, when the sentence names several: those named in its own clause
    (``since`` .. ``at``), else the last one named before it, else the first after ("P00004 on Dec 8, and
    P00007 on Dec 3" is two changes, not four)."""
    if len(sentence.po_refs) <= 1:
        return _pos(sentence)
    upper = sentence.text.upper()
    places = [(m.start(), ref) for ref in sentence.po_refs for m in re.finditer(re.escape(ref), upper)]
    inside = [ref for start, ref in sorted(places) if since <= start < at]
    if inside:
        return list(dict.fromkeys(inside))
    before = [(start, ref) for start, ref in places if start < at]
    if before:
        return [max(before)[1]]
    return [min(places)[1]] if places else list(sentence.po_refs)


def _product_text(text: str) -> str | None:
    cleaned = re.sub(r"\[[^\]]*\]", " ", text or "")
    cleaned = re.sub(r"\b(?:the|of|your|our|on|x)\b", " ", cleaned, flags=_I)
    cleaned = " ".join(cleaned.split()).strip(" -:,")
    return cleaned or None


# -- rules ---------------------------------------------------------------------------------------
def _questions(ss: list[Sentence]) -> list[Candidate]:
    asks = [s for s in ss if _QUESTION.search(s.text) and not _NOT_A_QUESTION.search(s.text)]
    if not asks:
        return []
    best = next((s for s in asks if s.text.rstrip().endswith("?")), asks[0])
    return [Candidate(kind=ChangeKind.QUESTION, evidence=best.text, po_name=(best.po_refs or (None,))[0])]


def _deadline(ss: list[Sentence], reference: date) -> tuple[date | None, str | None]:
    for s in ss:
        match = _DEADLINE.search(s.text)
        if match and _REPLY_WORDS.search(s.text):
            return relative_date(match.group("when"), reference), s.text
    return None, None


def _confirmations(ss: list[Sentence], reference: date, *, on_plan: bool = True) -> list[Candidate]:
    """Confirmations, with the first date their sentence states ("confirmed for Sunday 11/29"); ``on_plan``:
    "ships Monday as planned" confirms too (not in a line-by-line status, where values that agree with Odoo
    are no change)."""
    return [
        Candidate(kind=ChangeKind.CONFIRMATION, evidence=s.text, po_name=po, new_date=_first_date(s, reference))
        for s in ss
        if (_CONFIRM.search(s.text) or (on_plan and _ON_PLAN.search(s.text)))
        and not _QUESTION.search(s.text)
        and not _NOT_YET.search(s.text)
        for po in _pos(s)
    ]


def _first_date(s: Sentence, reference: date) -> date | None:
    """The first date on or after the email's date in the sentence."""
    return next(
        (d.value for d in find_dates(s.text, reference, s.language, relative=True) if d.value >= reference), None
    )


_PORT = re.compile(r"vessel|\bport\b|hafen|schiff|navire|\bpuerto|barco|haven|\bschip", _I)


def _date_role(before: str) -> DateRole:
    window = before[-45:].lower()
    hits = [
        (m.start(), m.group(0))
        for m in re.finditer(
            r"ship|dispatch|pick-?up|load|leav|depart|deliver|eta|arriv|expected|versand|versend|abhol|liefer|exp[ée]di|livr"
            r"|env[ií]|despach|entreg|verzend|lever|go(?:es)? out|verlad|raus|partir[ao]|partent|\bsal(?:e|en|ir|dr)"
            r"|deur uit|op transport|vertrek|zustell",
            window,
        )
    ]
    if not hits:
        return "unspecified"
    word = max(hits)[1]
    if word == "eta" and _PORT.search(window):  # "vessel ETA Oakland", "ETA Hafen": the port, not our dock
        return "ship"
    shipping = ("ship", "dispatch", "pick-up", "pickup", "load", "leav", "depart", "versand", "versend", "abhol")
    shipping = (*shipping, "expédi", "expedi", "go out", "goes out", "verlad", "raus", "partir", "partent", "sale")
    shipping = (*shipping, "salen", "salir", "saldr", "deur uit", "op transport", "vertrek")
    return "ship" if word in (*shipping, "envi", "enví", "despach", "verzend") else "delivery"


# "around mid-December", "etwa Mitte Dezember", "vers la mi-décembre", "hacia mediados", "rond half december"
_VAGUE = re.compile(
    r"\b(?:around|roughly|approximately|sometime|etwa|ungef[äa]hr|circa|vers|environ|hacia|alrededor de|rond|omstreeks)"
    r"\s++(?:the\s++|la\s++|de\s++)?[\w.-]{0,20}\s*+$",
    _I,
)

_CLOSED = re.compile(r"\b(?:closed|shut|geschlossen|ferm[ée]e?s?|cerrad[oa]s?|cierra\w*|gesloten|dicht)\b", _I)
_CLAUSE_END = re.compile(r"[,;:]")


def _clause_of(s: Sentence, start: int, end: int) -> str:
    """The clause of ``s`` around ``start``..``end``: from the last clause break before to the next after."""
    after = _CLAUSE_END.search(s.text, end)
    return s.text[s.clause_start(start) : after.start() if after else len(s.text)]


#: A new date further out than this (two years) is a misreading, not a supplier's promise.
MAX_PROMISE_DAYS = 730


def _dates(
    ss: list[Sentence], reference: date
) -> tuple[list[Candidate], list[tuple[int, FoundDate]], dict[str | None, date]]:
    """New-date candidates, backorder dates (sentence index, date), and old dates stated per PO."""
    out: list[Candidate] = []
    backorder_dates: list[tuple[int, FoundDate]] = []
    old_dates: dict[str | None, date] = {}
    alternatives: list[tuple[str | None, str]] = []
    for index, s in enumerate(ss):
        previous_end = 0
        for found in find_dates(s.text, reference, s.language, relative=True):
            before = s.text[: found.start]
            clause_from, previous_end = previous_end, found.end
            if _OLD_DATE.search(before[-60:]):
                for po in _pos(s):
                    old_dates.setdefault(po, found.value)
                continue
            if not _PROMISE.search(s.text) or _PAST_EVENT.search(before[-50:]) or found.value < reference:
                continue
            if (found.value - reference).days > MAX_PROMISE_DAYS:
                continue  # "position 3 on December 14" misread as 2114-12-03: no supplier promises that far out
            deadline = _BY_END.search(before[-20:]) and _REPLY_WORDS.search(s.text)
            if found.relative and (found.value == reference or deadline):
                continue  # "on the truck today" is an event, "we need to know by Monday" a deadline
            if _CLOSED.search(_clause_of(s, found.start, found.end)):
                continue  # "our warehouse is closed Thursday and Friday": days off, not a promise
            if found.approximate and _VAGUE.search(before[-25:]):
                continue  # "will follow around mid-December; I'll confirm the exact date": no date yet
            if _BACKORDER_WORD.search(s.text):
                backorder_dates.append((index, found))
                continue
            if _CONDITIONAL.search(s.text) or _OPTION.search(s.text) or s.text.rstrip().endswith("?"):
                for po in _pos(s):  # an option or a date asked about ("or should we ship all in January?")
                    alternatives.append((po, f"{s.text} ({found.value.isoformat()})"))
                continue
            clause = before[clause_from:]
            codes = signals.product_codes(clause) or (list(s.codes) if len(s.codes) == 1 else [])
            for po in _pos_at(s, found.start, clause_from):
                out.append(
                    Candidate(
                        kind=ChangeKind.NEW_DATE,
                        evidence=s.text,
                        po_name=po,
                        product_code=codes[0] if len(codes) == 1 else None,
                        product_text=None if codes else _product_text(clause),
                        new_date=found.value,
                        latest_date=found.latest if found.is_range else None,
                        date_role=_date_role(before),
                    )
                )
    out = _arrival_wins(out)
    for po, text in alternatives:
        for c in out:
            if c.po_name in (po, None) or po is None:
                c.alternatives.append((po, text))
    return out, backorder_dates, old_dates


def _arrival_wins(candidates: list[Candidate]) -> list[Candidate]:
    """One sentence giving a ship date and an arrival date for the same PO line ("the truck leaves on Monday and
    should arrive Dec 2") changes Odoo's expected arrival: the arrival date is the change."""
    arrivals = {(c.evidence, c.po_name, c.product_code) for c in candidates if c.date_role == "delivery"}
    return [
        c for c in candidates if c.date_role == "delivery" or (c.evidence, c.po_name, c.product_code) not in arrivals
    ]


def _shipments(ss: list[Sentence], backorder_dates: list[tuple[int, FoundDate]]) -> list[Candidate]:
    """Partial shipments and short quantities, with backorder quantities and dates attached."""
    out: list[Candidate] = []
    partial_po: list[Candidate] = []
    lead_shipped = False  # "hoy salen por UPS:" then "3 de 5 Flipover", "4 de 7 Large Cabinet" as list items
    for index, s in enumerate(ss):
        in_list = lead_shipped and s.text[:1].isdigit()
        lead_shipped = in_list or (s.text.rstrip().endswith(":") and bool(_SHIPPED_WORD.search(s.text)))
        found_dates = [d for i, d in sorted(backorder_dates, key=lambda x: x[1].relative) if i == index]
        dates = [d.value for d in found_dates]
        text = numbers_as_digits(s.text, s.language)  # "twelve of the twenty" -> "12 of the 20"
        backorder = _BACKORDER_Q.search(text)
        bo_qty = None
        if backorder:
            bo_qty = _qty(backorder.group("q") or backorder.group("q2"), backorder.group("u") or backorder.group("u2"))
        following = ss[index + 1].text if index + 1 < len(ss) else ""
        rest_cancelled = any(  # "rest cancelled", not "do you want them now and cancel the rest?"
            _REST_CANCELLED.search(t) and not _QUESTION.search(t) for t in (s.text, following[:200])
        )
        short = _SHORT.search(text) or _SHORT_AFTER.search(text) or _SHORT_ORDERED.search(text)
        short = short or _SHORT_THATS.search(text) or _SHORT_ONLY_OF.search(text)
        short = short or (_SHORT_REST.search(text) if rest_cancelled and _REST_CANCELLED.search(s.text) else None)
        if short:
            out.extend(
                Candidate(
                    kind=ChangeKind.SHORT_QUANTITY,
                    evidence=s.text,
                    po_name=po,
                    product_code=s.codes[0] if s.codes else None,
                    product_text=_product_text(short.group("what")),
                    quantity=_qty(short.group("q"), short.group("u") or short.group("u2")),
                    of_quantity=_qty(short.group("of"), short.group("u2") or short.group("u")),
                    backorder=None if rest_cancelled else bo_qty,
                    backorder_date=None if rest_cancelled else (dates[0] if dates else None),
                    rest_cancelled=rest_cancelled,
                )
                for po in _pos(s)
            )
            continue
        part = _N_OF_M.search(text) if in_list or _SHIPPED_WORD.search(text) else None
        if part:
            quantity = _qty(part.group("q"), part.group("u") or part.group("u2"))
            ordered = _qty(part.group("of"), part.group("u2") or part.group("u"))
            rest = ordered.value - quantity.value if quantity and ordered and ordered.value > quantity.value else None
            out.extend(
                Candidate(
                    kind=ChangeKind.SHORT_QUANTITY if rest_cancelled else ChangeKind.PARTIAL_SHIPMENT,
                    evidence=s.text,
                    po_name=po,
                    product_code=s.codes[0] if s.codes else None,
                    product_text=_product_text(part.group("what")),
                    quantity=quantity,
                    of_quantity=ordered,
                    backorder=None
                    if rest_cancelled
                    else bo_qty or (Quantity(value=rest, uom=ordered.uom) if rest and ordered else None),
                    backorder_date=None if rest_cancelled else (dates[0] if dates else None),
                    rest_cancelled=rest_cancelled,
                )
                for po in _pos(s)
            )
            continue
        shipped = _SHIPPED_Q.search(text)
        items = _shipped_items(text) if _SHIPPED_CUE.search(text) else []
        if len(items) >= 2 or (items and not shipped):  # "16 dozen [E-COM09] Large Desk and all 5 dozen [E-COM06] ..."
            out.extend(
                Candidate(
                    kind=ChangeKind.PARTIAL_SHIPMENT,
                    evidence=s.text,
                    po_name=po,
                    product_code=code,
                    product_text=name,
                    quantity=quantity,
                    backorder=bo_qty if len(items) == 1 else None,
                    backorder_date=(dates[0] if dates else None) if len(items) == 1 else None,
                )
                for quantity, code, name in items
                for po in _pos(s)
            )
            continue
        if shipped:
            lead = text.split(":", 1)[0] if ":" in text else shipped.group("what")
            out.extend(
                Candidate(
                    kind=ChangeKind.PARTIAL_SHIPMENT,
                    evidence=s.text,
                    po_name=po,
                    product_code=s.codes[0] if s.codes else None,
                    product_text=_product_text(lead),
                    quantity=_qty(shipped.group("q"), shipped.group("u")),
                    backorder=bo_qty,
                    backorder_date=dates[0] if dates else None,
                )
                for po in _pos(s)
            )
            continue
        if backorder or dates:
            named = _all_named_in(out, s.text) if dates and not backorder else []
            if len(named) >= 2:  # "the remaining 2 Flipover and 3 Large Cabinet ship on 10/12": each line's date
                for c in named:
                    c.backorder_date = c.backorder_date or dates[0]
                continue
            target = _existing(out, bo_qty) or _named_in(out, s.text) or (out[-1] if out else None)
            if target is not None:  # "the 8 dozen on backorder ship on ...", "backorder the remaining 5"
                target.backorder = target.backorder or bo_qty
                target.backorder_date = target.backorder_date or (dates[0] if dates else None)
                continue
            if _HOLD.search(s.text):  # "to release the 8 on backorder we need payment in advance": a hold
                continue
            if not backorder:  # "the Office Lamps are backordered until Dec 16": those lines' new date
                out.extend(_backordered_until(s, found_dates[0]))
                continue
            if backorder:
                out.extend(
                    Candidate(
                        kind=ChangeKind.PARTIAL_SHIPMENT,
                        evidence=s.text,
                        po_name=po,
                        product_code=s.codes[0] if s.codes else None,
                        product_text=_product_text(backorder.group("what") or ""),
                        backorder=bo_qty,
                        backorder_date=dates[0] if dates else None,
                    )
                    for po in _pos(s)
                )
                continue
        if _PARTIAL.search(s.text):
            partial_po.extend(
                Candidate(kind=ChangeKind.PARTIAL_SHIPMENT, evidence=s.text, po_name=po) for po in _pos(s)
            )
    if not any(c.kind is ChangeKind.PARTIAL_SHIPMENT for c in out):
        out.extend(partial_po)
    return out


def _backordered_until(s: Sentence, found: FoundDate) -> list[Candidate]:
    """Products backordered until a date, nothing shipped: a new date for the products of that clause."""
    clause = s.text[s.clause_start(found.start) : found.start]
    codes = signals.product_codes(clause)
    return [
        Candidate(
            kind=ChangeKind.NEW_DATE,
            evidence=s.text,
            po_name=po,
            product_code=codes[0] if len(codes) == 1 else None,
            product_text=None if codes else _product_text(clause),
            new_date=found.value,
            latest_date=found.latest if found.is_range else None,
            date_role="delivery",
        )
        for po in _pos_at(s, found.start)
    ]


_SHIPPED_CUE = re.compile(
    r"\b(?:on the truck|left (?:our|the)?\s?\w+ today|left today|on (?:its|their) way|loaded|shipped|dispatched"
    r"|sent out|(?:can|will) ship\b[^.]{0,80}\btoday|versandt|verladen|exp[ée]di[ée]e?s|envi(?:ad[oa]s|amos)"
    rf"|verzonden|{_TODAY_OUT})\b",
    _I,
)
# "16 dozen [E-COM09] Large Desk", "5 x Office Chair", "6 dozen Office Chair Black": a quantity and a product
# named by its code or a capitalised name (not "72 chairs", not "today")
_ITEM = re.compile(
    r"(?<![\w.,/-])(?P<q>\d{1,7}(?:\.\d{1,3})?)(?![A-Z\d])\s*+"  # not the "1" of "1Z999AA1..."
    + rf"(?:(?P<u>(?i:{UOM_WORDS}))\s*+)?(?:[x×]\s*+)?(?:(?:of|de|der|von|van)\s++)?"
    r"(?:(?:the|la|las|los|les|die|den|het)\s++)?"
    r"(?:\[(?P<code>[A-Za-z0-9][A-Za-z0-9_.\-/]{1,40})\]\s*+)?(?P<name>[A-Z][\w\-]{1,30}(?:\s[A-Z][\w\-]{1,30}){0,4})?",
)


# a month, a weekday, a week or a PO after a number is a date or a reference, not a product
_NOT_A_PRODUCT = re.compile(
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|m[äa]r|mai|okt|dez|janv|f[ée]v|avr|juil|ao[ûu]|d[ée]c|ene"
    r"|abr|ago|dic|mei|maa|mon|tue|wed|thu|fri|sat|sun|kw|cw|week|P\d)",
    _I,
)


#: How far after a listed item its clause is read for a backorder word ("... quedan pendientes").
_ITEM_TAIL = 60


def _shipped_items(text: str) -> list[tuple[Quantity | None, str | None, str | None]]:
    """(quantity, code, name) of each product a shipped sentence lists with its quantity."""
    out: list[tuple[Quantity | None, str | None, str | None]] = []
    for m in _ITEM.finditer(text):
        code, name = m.group("code"), m.group("name")
        clause = re.split(r"[;.,:(]", text[m.end() : m.end() + _ITEM_TAIL], maxsplit=1)[0]
        if _BACKORDER_WORD.search(clause):  # "the 5 Office Chairs remain on backorder": what does not ship now
            continue
        if (code and re.search("[A-Za-z]", code)) or (name and not _NOT_A_PRODUCT.match(name)):
            out.append((_qty(m.group("q"), m.group("u")), code, _product_text(name or "")))
    return out


def _named_in(candidates: list[Candidate], text: str) -> Candidate | None:
    """The candidate whose product the text names ("the remaining 4 dozen Large Desks")."""
    lower = text.lower()
    best: tuple[int, Candidate] | None = None
    for c in candidates:  # the most specific name wins: "Bookcase Walnut" over "Bookcase Oak" for "... Walnut"
        words = [w for w in re.findall(r"[a-z]{3,}", (c.product_text or "").lower())]
        if words and all(w.rstrip("s") in lower for w in words) and (best is None or len(words) > best[0]):
            best = (len(words), c)
    return best[1] if best else None


def _all_named_in(candidates: list[Candidate], text: str) -> list[Candidate]:
    """The candidates whose product the text names, each in full ("the remaining 2 Flipover and 3 Large Cabinet")."""
    lower = text.lower()
    out = []
    for c in candidates:
        words = re.findall(r"[a-z]{3,}", (c.product_text or "").lower())
        if words and all(w.rstrip("s") in lower for w in words):
            out.append(c)
    return out


def _existing(candidates: list[Candidate], backorder: Quantity | None) -> Candidate | None:
    if backorder is None:
        return None
    return next((c for c in candidates if c.backorder == backorder), None)


# "replace the [A] ... with [B]", "remplacer [A] par [B]", "[A] durch [B] ersetzen", "in plaats van [A] ... [B]"
_REPLACE_WITH = re.compile(
    r"\b(?:replac(?:e|ing)|rempla[cç]\w*|ersetzen|sustitu\w*|reemplaz\w*|vervang\w*)\b(?P<x>[^.;]{1,120}?)"
    r"\s(?:with|by|par|durch|por|door)\s",
    _I,
)
_INSTEAD_OF_X = re.compile(r"\b(?:instead of|statt|anstelle|au lieu de|en lugar de|en vez de|in plaats van)\s", _I)


def _replacement_pair(text: str) -> tuple[str, str] | None:
    """(replaced code, substitute code) when the sentence names both around a replace/instead-of cue."""
    m = _REPLACE_WITH.search(text)
    if m:
        before, after = signals.product_codes(m.group("x")), signals.product_codes(text[m.end() :])
        if len(before) == 1 and after and after[0] != before[0]:
            return before[0], after[0]
    m = _INSTEAD_OF_X.search(text)
    if m:
        codes = signals.product_codes(text[m.end() :])
        if len(codes) >= 2 and codes[0] != codes[1]:
            return codes[0], codes[1]
    return None


def _replacements(ss: list[Sentence]) -> tuple[list[Candidate], set[int]]:
    """Substitutions a sentence states with both codes ("we replace [A] with [B] at $210.00 each")."""
    out: list[Candidate] = []
    used: set[int] = set()
    for i, s in enumerate(ss):
        pair = None if _QUESTION.search(s.text) else _replacement_pair(s.text)
        if pair is None:
            continue
        used.add(i)
        moneys = find_money(s.text, s.language)
        out.extend(
            Candidate(
                kind=ChangeKind.SUBSTITUTION,
                evidence=s.text,
                po_name=po,
                product_code=pair[0],
                substitute_code=pair[1],
                substitute_text=_substitute_name(s.text, pair[1]),
                price=moneys[0].money if len(moneys) == 1 else None,
                cause="replaced",
            )
            for po in _pos(s)
        )
    return out, used


def _prices_and_substitutions(ss: list[Sentence], reference: date) -> tuple[list[Candidate], set[int]]:
    """Price changes, substitutions (or cancellations of discontinued items); returns the sentences used."""
    out, used = _replacements(ss)
    done = set(used)
    substitutes = [
        (i, s)
        for i, s in enumerate(ss)
        if i not in done and _SUBSTITUTE.search(s.text) and not _QUESTION.search(s.text)
    ]
    gone_at = [i for i, s in enumerate(ss) if i not in done and _DISCONTINUED.search(s.text)]
    if gone_at and not substitutes:  # "... out of frames. We could ship the mirrored model, [FURN_1118] ..."
        substitutes = [(i, s) for i, s in enumerate(ss) if i in {g + 1 for g in gone_at} and _OFFER.search(s.text)]
    discontinued = [
        (i, s)
        for i, s in enumerate(ss)
        if i not in done
        and (_DISCONTINUED.search(s.text) or (_CANCEL.search(s.text) and _SUBSTITUTE_LEAD.search(s.text)))
    ]
    if not discontinued:  # "please replace it" is a question; "we replace the X with the Y" names both
        discontinued = [(i, s) for i, s in substitutes if _SUBSTITUTE_LEAD.search(s.text) and len(s.codes) != 1]
    if discontinued:
        original_codes = [c for _, s in discontinued for c in _codes_before_substitute(s)]
        proposal = next(
            ((i, s) for i, s in substitutes if any(c not in original_codes for c in s.codes) or not s.codes), None
        )
        if proposal is not None and proposal[1].codes and set(proposal[1].codes) <= set(original_codes):
            proposal = None
        _, first = discontinued[0]
        used.update(i for i, _ in discontinued)
        if proposal is not None:
            used.add(proposal[0])
            p = proposal[1]
            new, old = _instead_of(p.text, p.language)
            if new is None:  # "same frame, same price ($154.50 each)"
                offered = find_money(p.text, p.language)
                new = offered[0].money if len(offered) == 1 else None
            if new is None and len(p.codes) >= 2 and set(p.codes) == set(original_codes):
                original_codes = [p.codes[0]]
            sub_code = next((c for c in p.codes if c not in original_codes), None)
            lead = _SUBSTITUTE_LEAD.search(first.text) if first is p else None
            before = first.text[: lead.start()] if lead else first.text
            po = (p.po_refs or first.po_refs or (None,))[0]
            out.append(
                Candidate(
                    kind=ChangeKind.SUBSTITUTION,
                    evidence=p.text,
                    po_name=po,
                    product_code=original_codes[0] if original_codes else None,
                    product_text=None if original_codes else _product_text(before),
                    substitute_code=sub_code,
                    substitute_text=_substitute_name(p.text, sub_code),
                    price=new,
                    old_price=old,
                    cause="discontinued" if _DISCONTINUED.search(first.text) else "replaced",
                )
            )
        else:
            # "the 15 chairs go in grey instead of black, as black is sold out": the line changes, it is not dropped
            variant = _INSTEAD_OF_X.search(first.text) is not None and not _CANCEL.search(first.text)
            for po in _pos(first):
                out.append(
                    Candidate(
                        kind=ChangeKind.SUBSTITUTION if variant else ChangeKind.CANCELLATION,
                        evidence=first.text,
                        po_name=po,
                        product_code=original_codes[0] if original_codes else None,
                        cause="discontinued",
                    )
                )
    for i, s in enumerate(ss):
        if i in used:
            continue
        moneys = find_money(s.text, s.language)
        change = _from_to(s.text, moneys, s.language)
        if change[0] is None:
            change = _instead_of(s.text, s.language)
        if change[0] is None:
            change = _to_new_price(s.text, moneys)
        if change[0] is None:
            out.extend(_percent_change(s, reference))
            if out and out[-1].evidence == s.text:
                used.add(i)
            continue
        used.add(i)
        for po in _pos(s):
            out.append(
                Candidate(
                    kind=ChangeKind.PRICE_CHANGE,
                    evidence=s.text,
                    po_name=po,
                    product_code=s.codes[0] if s.codes else None,
                    product_text=None if s.codes else _product_text(s.text),
                    price=change[0],
                    old_price=change[1],
                )
            )
    return out, used


def _codes_before_substitute(s: Sentence) -> list[str]:
    """The product codes a sentence names before it offers a substitute (all of them when it offers none)."""
    lead = _SUBSTITUTE_LEAD.search(s.text) if _SUBSTITUTE.search(s.text) else None
    return signals.product_codes(s.text[: lead.start()]) if lead else list(s.codes)


def _substitute_name(text: str, code: str | None) -> str | None:
    """The name of the product offered instead, as written: after its code, else after "we offer", "replace with"."""
    if code:
        named = re.search(rf"\[{re.escape(code)}\]\s*+(?P<name>[^:,;.()\[]{{1,120}})", text)
        rest = named.group("name") if named else ""
    else:
        lead = _SUBSTITUTE_LEAD.search(text)
        rest = text[lead.end() :] if lead else ""
    rest = _SUBSTITUTE_TAIL.sub("", re.sub(r"\[[^\]]{0,60}\]", " ", rest))
    return _product_text(rest)


def _percent_change(s: Sentence, reference: date) -> list[Candidate]:
    match = _PERCENT.search(s.text)
    if not match:
        return []
    pct = float(match.group("pct") or match.group("pct2"))
    direction = (match.group("dir") or match.group("dir2") or "").lower()
    if direction.startswith(("decrease", "reduc", "lower", "drop", "go down", "goes down", "discount")):
        pct = -pct
    effective = [d.value for d in find_dates(s.text, reference, s.language, relative=True) if d.start > match.start()]
    return [
        Candidate(
            kind=ChangeKind.PRICE_CHANGE,
            evidence=s.text,
            po_name=po,
            product_code=s.codes[0] if s.codes else None,
            product_text=None if s.codes else _product_text(s.text[: match.start()]),
            percent=pct,
            cause=f"effective {effective[0].isoformat()}" if effective else None,
        )
        for po in _pos(s)
    ]


_FROM_WORDS = r"(?:from|von|de|du|desde|van)"
_ARROW = re.compile(r"(?<!\s)\s*+(?:->|→|=>|⇒)\s*+")
_TO_WORDS = r"(?:to|auf|zu|à|a|hasta|naar|tot|op)"
_TO_GAP = re.compile(rf"(?<!\s)\s*+{_TO_WORDS}\s*+", _I)
_FROM_END = re.compile(rf"\b{_FROM_WORDS}\s*+$", _I)
# "from 250.50 to $275.00", "von 250,50 auf 275,00 €": the old amount without its currency
_BARE_FROM = re.compile(
    rf"\b{_FROM_WORDS}\s++(?P<n>\d{{1,7}}+(?:[.,]\d{{3}})*+(?:[.,]\d{{1,2}})?+)\s*+{_TO_WORDS}\s*+$", _I
)
_PRICE_WORD = re.compile(r"\b(?:price|prices|preis\w*|prix|precio\w*|prijs\w*|cost|kosten|tarif\w*)\b", _I)
# "our price goes from 250.50 to 275.00 per unit": two amounts without a currency, in a sentence about price
_BARE_PAIR = re.compile(
    rf"\b{_FROM_WORDS}\s++(?P<a>\d{{1,7}}+(?:[.,]\d{{3}})*+(?:[.,]\d{{1,2}})?+)\s++{_TO_WORDS}\s++"
    r"(?P<b>\d{1,7}+(?:[.,]\d{3})*+(?:[.,]\d{1,2})?+)(?![\d%])",
    _I,
)
_INSTEAD = re.compile(
    r"(?<!\s)\s*+(?:instead of|rather than|vs\.?|statt|anstatt|anstelle von|au lieu de|en lugar de|en vez de"
    r"|in plaats van)\s*+"
    r"|(?<!\s)\s*+(?:each|per unit|pro St[üu]ck|l'unit[ée]|por unidad|per stuk)?,?\s*+"
    r"(?:not|nicht|et non|pas|y no|no|en niet|niet)\s*+"
    r"|(?<!\s)\s*+(?:per \w{1,10}\s*+)?\(\s*+(?:was|previously|formerly|vorher|bisher|avant|antes|voorheen)\s*+",
    _I,
)
# "the price ... goes to $262.00", "revise the price of X to $2,150.00", "new price: 84,50 €", "Preis ... auf 90 €"
_TO_NEW_PRICE = re.compile(
    r"\b(?:go(?:es)? up to|go(?:es)? to|goes? down to|increase[sd]? to|rise[sd]? to|raise[sd]? to|change[sd]? to"
    r"|revised? to|adjust(?:ed)? to|decrease[sd]? to|reduced? to|lower(?:ed)? to|is now|will be|becomes"
    r"|new (?:unit )?price(?: is| of| will be)?:?|steigt auf|erh[öo]ht (?:sich )?auf|[äa]ndert sich auf"
    r"|neuer preis:?|passe [àa]|augmente [àa]|nouveau prix:?|sube a|pasa a|nuevo precio:?"
    r"|gaat naar|stijgt naar|nieuwe prijs:?)\s*+$",
    _I,
)


def _from_to(text: str, moneys: list[FoundMoney], language: str = "en") -> tuple[Money | None, Money | None]:
    """(new, old) of "from $280.80 to $312.50", "von 250,50 auf 275,00 €", "from 250.50 to 275.00 USD"."""
    for a, b in itertools.pairwise(moneys):
        if _TO_GAP.fullmatch(text[a.end : b.start]) and _FROM_END.search(text[max(0, a.start - 30) : a.start]):
            per = b.money.per or a.money.per
            return b.money.model_copy(update={"per": per}), a.money.model_copy(update={"per": per})
    for a, b in itertools.pairwise(moneys):  # "$79.80 -> $84.50 each"
        if _ARROW.fullmatch(text[a.end : b.start]):
            per = b.money.per or a.money.per
            return b.money.model_copy(update={"per": per}), a.money.model_copy(update={"per": per})
    for b in moneys:
        bare = _BARE_FROM.search(text[max(0, b.start - 40) : b.start])
        old = parse_quantity(bare.group("n"), language) if bare else None
        if old is not None:
            return b.money, b.money.model_copy(update={"amount": old})
    if not moneys and _PRICE_WORD.search(text):
        pair = _BARE_PAIR.search(text)
        if pair:
            old, new = parse_quantity(pair.group("a"), language), parse_quantity(pair.group("b"), language)
            per, _ = price_unit(text[pair.end() :])
            if old is not None and new is not None and old != new:
                return Money(amount=new, per=per), Money(amount=old, per=per)
    return None, None


_TO_END = re.compile(rf"\b{_TO_WORDS}\s*+$", _I)
# "we must revise the price of X (CODE) on P00005 to $2,150.00"
_PRICE_VERB = re.compile(
    r"\b(?:revis\w*|chang\w*|increas\w*|rais\w*|adjust\w*|decreas\w*|reduc\w*|lower\w*|anpass\w*|erh[öo]h\w*"
    r"|[äa]nder\w*|r[ée]vis\w*|augment\w*|ajust\w*|modific\w*|aument\w*|verhog\w*|wijzig\w*|aanpass\w*)\b",
    _I,
)


def _to_new_price(text: str, moneys: list[FoundMoney]) -> tuple[Money | None, Money | None]:
    """(new, None) of "the price of X goes to $262.00 per dozen": one amount announced as the new price."""
    if len(moneys) != 1 or not _PRICE_WORD.search(text) or _TOTAL.search(text[: moneys[0].start][-40:]):
        return None, None
    window = text[max(0, moneys[0].start - 40) : moneys[0].start]
    if not _TO_NEW_PRICE.search(window) and not (_TO_END.search(window) and _PRICE_VERB.search(text)):
        return None, None
    return moneys[0].money, None


_LINE_TOTAL = re.compile(r"(?:=|\btotal:?|\bsubtotal:?)\s*+$", _I)


def _instead_of(text: str, language: str = "en") -> tuple[Money | None, Money | None]:
    moneys = find_money(text, language)
    for a, b in itertools.pairwise(moneys):
        if _LINE_TOTAL.search(text[max(0, a.start - 20) : a.start]):
            continue  # "15 dozen x $312.50 = $4,687.50 (was $4,212.00)": a line total, not a price
        if _INSTEAD.fullmatch(text[a.end : b.start]):
            per = a.money.per or b.money.per
            return a.money.model_copy(update={"per": per}), b.money.model_copy(update={"per": per})
    return None, None


def _line_statements(ss: list[Sentence], used: set[int]) -> list[Candidate]:
    out: list[Candidate] = []
    for i, s in enumerate(ss):
        if i in used:
            continue
        text = numbers_as_digits(s.text, s.language)
        matches = list(_LINE_COLON.finditer(text)) or list(_LINE_X.finditer(text))
        for match in matches:
            what = match.group("what")
            codes = signals.product_codes(what)
            price = None
            if match.group("price"):
                found = find_money(match.group("price"), s.language)
                price = found[0].money if found else None
            for po in _pos(s):
                out.append(
                    Candidate(
                        kind=ChangeKind.OTHER,
                        evidence=s.text,
                        po_name=po,
                        line_statement=True,
                        product_code=codes[0] if codes else None,
                        product_text=None if codes else _product_text(what),
                        quantity=_qty(match.group("q"), match.group("u")),
                        price=price,
                    )
                )
    return out


def _simple(
    ss: list[Sentence], kind: ChangeKind, pattern: re.Pattern[str], *, skip_questions: bool = True
) -> list[Candidate]:
    out: list[Candidate] = []
    seen: set[str | None] = set()
    for s in ss:
        match = pattern.search(s.text)
        if not match or (_NEGATION.search(match.group(0)) and kind is not ChangeKind.DELAY_NO_DATE):
            continue
        if skip_questions and (_QUESTION.search(s.text) or _OPTION.search(s.text)):
            continue
        for po in _pos(s):
            if po in seen:
                continue
            seen.add(po)
            out.append(Candidate(kind=kind, evidence=s.text, po_name=po))
    # one PO-level change per PO: drop the PO-less one when a sentence named the PO
    named = [c for c in out if c.po_name]
    return named + [c for c in out if not c.po_name and not named]


def _payment_holds(ss: list[Sentence]) -> list[Candidate]:
    holds = _simple(ss, ChangeKind.PAYMENT_HOLD, _HOLD)
    if not holds:
        return []
    amount = None
    limit = None
    for s in ss:
        if not _HOLD.search(s.text) and not _CREDIT_LIMIT.search(s.text):
            continue
        for found in find_money(s.text, s.language):
            if _CREDIT_LIMIT.search(s.text[: found.start][-40:]):
                limit = limit or found.money
            elif amount is None:
                amount = found.money
    for c in holds:
        c.price = amount
        c.cause = f"credit limit {limit.label()}" if limit else "payment requested before shipping"
    return holds


def _totals(ss: list[Sentence]) -> list[tuple[str | None, Money, str]]:
    out: list[tuple[str | None, Money, str]] = []
    for s in ss:
        for found in find_money(s.text, s.language):
            if _TOTAL.search(s.text[: found.start][-40:]):
                out.extend((po, found.money, s.text) for po in _pos(s))
    return out


def _causes(ss: list[Sentence], candidates: list[Candidate]) -> None:
    carrier = any(_CARRIER.search(s.text) and _TRANSPORT_TROUBLE.search(s.text) for s in ss)
    cause = next((m.group("cause").strip() for s in ss if (m := _CAUSE.search(s.text))), None)
    force = any("force majeure" in s.lower for s in ss)
    for c in candidates:
        if c.cause:
            continue
        if c.kind is ChangeKind.NEW_DATE:
            c.cause = "carrier delay" if carrier else cause
        elif c.kind is ChangeKind.DELAY_NO_DATE:
            c.cause = "force majeure" if force else cause


def _dedupe(candidates: list[Candidate]) -> list[Candidate]:
    seen: set[tuple] = set()
    out = []
    for c in candidates:
        key = (
            c.kind,
            c.po_name,
            c.product_code,
            c.product_text if not c.product_code else None,
            c.new_date,
            c.line_statement,
        )
        if key in seen:
            continue
        seen.add(key)
        out.append(c)
    return out


def _rules(ss: list[Sentence], reference: date) -> list[Candidate]:
    """Every rule's candidates over the sentences, with the cross-rule cleanups."""
    date_changes, backorder_dates, old_dates = _dates(ss, reference)
    priced, used = _prices_and_substitutions(ss, reference)
    shipments = _shipments(ss, backorder_dates)
    used.update(i for i, s in enumerate(ss) if any(c.evidence == s.text for c in shipments))
    statements = _line_statements(ss, used)
    candidates = [
        *_confirmations(ss, reference, on_plan=not statements),
        *date_changes,
        *_simple(ss, ChangeKind.DELAY_NO_DATE, _NO_DATE, skip_questions=False),
        *shipments,
        *priced,
        *_simple(ss, ChangeKind.CANCELLATION, _CANCEL),
        *_payment_holds(ss),
        *_simple(ss, ChangeKind.DELIVERED, _DELIVERED),
        *_questions(ss),
        *statements,
    ]
    replaced = {c.evidence for c in candidates if c.kind in (ChangeKind.SUBSTITUTION, ChangeKind.SHORT_QUANTITY)}
    replaced |= {
        s.text for i, s in enumerate(ss) if _REST_CANCELLED.search(s.text) and i > 0 and ss[i - 1].text in replaced
    }
    if any(c.kind is ChangeKind.SUBSTITUTION for c in candidates):
        replaced |= {s.text for s in ss if _SUBSTITUTE_LEAD.search(s.text)}
    candidates = [c for c in candidates if not (c.kind is ChangeKind.CANCELLATION and c.evidence in replaced)]
    for c in candidates:
        if c.kind is ChangeKind.NEW_DATE:
            only = next(iter(old_dates.values())) if len(old_dates) == 1 else None
            c.old_date = old_dates.get(c.po_name) or old_dates.get(None) or only
    cancelled_pos = {c.po_name for c in candidates if c.kind is ChangeKind.CANCELLATION and not c.product_code}
    candidates = [
        c
        for c in candidates
        if not (c.kind is ChangeKind.DELAY_NO_DATE and (c.po_name in cancelled_pos or None in cancelled_pos))
    ]
    if any(c.kind is ChangeKind.DELAY_NO_DATE for c in candidates):  # "no date" wins over dates of past events
        candidates = [c for c in candidates if c.kind is not ChangeKind.NEW_DATE]
    return candidates


# -- entry point ---------------------------------------------------------------------------------
def _without_forward_headers(email: InboundEmail) -> str:
    """The new text, less a forward's header lines: its "Sent: <date>" is when the mail was written, not a change."""
    if not email.forwarded:
        return email.text
    return "\n".join(line for line in email.text.split("\n") if not is_header_line(line))


def extract(
    email: InboundEmail,
    *,
    po_pattern: str | re.Pattern[str] | None = None,
    injection: InjectionDetector | None = None,
    languages: LanguageDetector | None = None,
) -> Extraction:
    """Run every rule over the email's visible text; the risk checks read the whole message.

    ``injection``: the root's injection detector (with its embedding layer); None: the rules alone, no model.
    ``languages``: the root's language detector; None: a new one (lingua keeps its models loaded per process,
    so that costs a fraction of a millisecond after the first email). Only the new text is read for changes:
    the quoted history (``email.quoted_text``) serves only to find the PO a bare reply is about.
    """
    pattern = signals.compile_po_pattern(po_pattern)
    reference = (email.date or datetime.now(UTC)).date()
    refs = signals.find_po_refs(f"{email.subject}\n{email.text}", pattern)
    source: Literal["body", "quoted", "thread", "none"] = "body"
    if not refs:
        refs, source = signals.find_po_refs(email.quoted_text, pattern), "quoted"
    if not refs and email.thread is not None and email.thread.model == "purchase.order":
        refs, source = [email.thread.display_name.upper()], "thread"
    if not refs:
        source = "none"

    language = (languages or LanguageDetector()).detect(f"{email.subject}\n{email.text}")
    ss = signals.sentences(_without_forward_headers(email), pattern, language)
    candidates = _rules(ss, reference)
    block = find_forward(email.text, subject=email.subject) if email.forwarded else None
    if block is not None and block.start > 0:  # "see below from the carrier: they now deliver Dec 3"
        own_ss = signals.sentences(email.text[: block.start], pattern, language)
        own = _rules(own_ss, reference)
        if any(c.kind is not ChangeKind.QUESTION for c in own):  # restated in the new part: only that is a fact
            candidates, ss = own, own_ss
    _causes(ss, candidates)
    reply_by, deadline = _deadline(ss, reference)
    for c in candidates:
        if c.kind is ChangeKind.QUESTION and deadline and deadline != c.evidence:
            c.cause = deadline
    hidden = f"{email.hidden_text}"
    return Extraction(
        language=language,
        reference_date=reference,
        po_refs=refs,
        po_refs_source=source,
        candidates=_dedupe(candidates),
        references=signals.other_references(email.text, pattern),
        stated_totals=_totals(ss),
        reply_by=reply_by,
        reply_deadline=deadline,
        # the whole message: subject and body with any IBAN; name, quoted mail and attachments only with wording
        bank_change=signals.bank_change(f"{email.subject}\n{email.text}")
        or signals.bank_change(message_context(email), iban_alone=False),
        agreement_claim=signals.agreement_claims(email.text),
        ai_instructions_visible=signals.ai_instructions(message_text(email), detector=injection)
        or signals.ai_instructions(header_text(email), header=True, detector=injection),
        ai_instructions_hidden=bool(hidden.strip())
        and signals.ai_instructions(hidden, hidden=True, detector=injection),
    )

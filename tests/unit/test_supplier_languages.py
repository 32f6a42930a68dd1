"""The deterministic extractor in five languages: the email's language is detected, and dates, money and the
change cues of each language become the same structured changes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from copilot.email import InboundEmail
from copilot.skills.supplier_email import ChangeKind, extract
from copilot.text.language import LanguageDetector

WED_NOV25 = datetime(2026, 11, 25, 9, tzinfo=UTC)


def mail(text: str, subject: str = "P00004") -> InboundEmail:
    return InboundEmail(subject=subject, text=text, date=WED_NOV25, from_address="sales@supplier.example")


def changes(text: str, kind: ChangeKind) -> list:
    result = extract(mail(text), languages=LanguageDetector())
    return [c for c in result.candidates if c.kind is kind and not c.line_statement]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Leider verschiebt sich der Liefertermin für P00004 auf Freitag, den 4. Dezember.", date(2026, 12, 4)),
        ("La livraison de la commande P00004 est reportée au vendredi 4 décembre.", date(2026, 12, 4)),
        ("La entrega del pedido P00004 se retrasa al viernes 4 de diciembre.", date(2026, 12, 4)),
        ("De levering van bestelling P00004 wordt verschoven naar vrijdag 4 december.", date(2026, 12, 4)),
        ("Hi Mitchell, P00004 will now ship next Tuesday.", date(2026, 12, 1)),
        ("Die Ware zu P00004 wird nächsten Dienstag versendet.", date(2026, 12, 1)),
        ("La commande P00004 sera expédiée mardi prochain.", date(2026, 12, 1)),
        ("El pedido P00004 se enviará el próximo martes.", date(2026, 12, 1)),
        ("Bestelling P00004 wordt volgende dinsdag verzonden.", date(2026, 12, 1)),
    ],
)
def test_a_new_date_in_each_language(text: str, expected: date) -> None:
    found = changes(text, ChangeKind.NEW_DATE)
    assert [(c.po_name, c.new_date) for c in found] == [("P00004", expected)]


def test_a_week_number_is_a_window() -> None:
    text = "Die Lieferung für P00004 erfolgt in KW 51, wir melden uns mit dem genauen Tag."
    found = changes(text, ChangeKind.NEW_DATE)
    assert [(c.new_date, c.latest_date) for c in found] == [(date(2026, 12, 14), date(2026, 12, 18))]


@pytest.mark.parametrize(
    ("text", "new", "old", "currency", "per"),
    [
        ("Mitchell, for P00004 our price goes from 250.50 to 275.00 per unit.", 275.0, 250.5, None, "Units"),
        ("Der Preis für [FURN_8900] steigt von 280,80 € auf 312,50 € pro Dutzend.", 312.5, 280.8, "EUR", "Dozens"),
        ("Le prix de [FURN_8900] passe de 280,80 € à 312,50 € par douzaine.", 312.5, 280.8, "EUR", "Dozens"),
        ("El precio de [FURN_8900] sube de 280,80 € a 312,50 € por docena.", 312.5, 280.8, "EUR", "Dozens"),
        ("De prijs van [FURN_8900] gaat van 280,80 € naar 312,50 € per dozijn.", 312.5, 280.8, "EUR", "Dozens"),
        ("Neuer Preis 1.234,50 € statt 1.180,00 € pro Stück für P00004.", 1234.5, 1180.0, "EUR", "Units"),
    ],
)
def test_a_price_change_in_each_language(text: str, new: float, old: float, currency: str | None, per: str) -> None:
    found = changes(text, ChangeKind.PRICE_CHANGE)
    assert len(found) == 1
    assert (found[0].price.amount, found[0].old_price.amount) == (new, old)
    assert (found[0].price.currency, found[0].price.per) == (currency, per)


@pytest.mark.parametrize(
    "text",
    [
        "Wir bestätigen Ihre Bestellung P00004 wie bestellt.",
        "Nous vous confirmons la commande P00004.",
        "Le confirmamos el pedido P00004.",
        "Wij bevestigen uw bestelling P00004.",
    ],
)
def test_a_confirmation_in_each_language(text: str) -> None:
    assert [c.po_name for c in changes(text, ChangeKind.CONFIRMATION)] == ["P00004"]


@pytest.mark.parametrize(
    "text",
    [
        "Leider müssen wir die Bestellung P00004 stornieren.",
        "Nous devons malheureusement annuler la commande P00004.",
        "Lamentablemente tenemos que cancelar el pedido P00004.",
        "Helaas moeten wij bestelling P00004 annuleren.",
    ],
)
def test_a_cancellation_in_each_language(text: str) -> None:
    assert [c.po_name for c in changes(text, ChangeKind.CANCELLATION)] == ["P00004"]


@pytest.mark.parametrize(
    "text",
    [
        "Können Sie uns bitte bis morgen bestätigen, ob P00004 so passt?",
        "Pouvez-vous nous confirmer la commande P00004 ?",
        "¿Nos puede confirmar el pedido P00004?",
        "Kunt u bestelling P00004 bevestigen?",
    ],
)
def test_a_question_in_each_language(text: str) -> None:
    assert [c.po_name for c in changes(text, ChangeKind.QUESTION)] == ["P00004"]


def test_the_language_is_reported() -> None:
    result = extract(mail("Die Lieferung für P00004 erfolgt am 4. Dezember."), languages=LanguageDetector())
    assert result.language == "de"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P00004 is on the truck today.", []),  # an event of the email's own day, not a new date
        ("Which colour? We need to know by Monday to keep the ship date of P00004.", []),  # a reply deadline
        ("P00004 is confirmed and ships next Tuesday.", [date(2026, 12, 1)]),
        ("Die Lieferung zu P00004 kommt übermorgen.", [date(2026, 11, 27)]),
    ],
)
def test_relative_dates_that_are_not_promises(text: str, expected: list[date]) -> None:
    assert [c.new_date for c in changes(text, ChangeKind.NEW_DATE)] == expected


@pytest.mark.parametrize(
    ("text", "shipped", "backorder"),
    [
        ("Twelve Large Desks of P00004 were shipped today, the remaining eight are on backorder.", 12.0, 8.0),
        ("Zwölf Stück Large Desk zu P00004 wurden heute versandt.", 12.0, None),
        ("Douze pièces Large Desk de P00004 ont été expédiées aujourd'hui.", 12.0, None),
        ("Doce unidades Large Desk del pedido P00004 fueron enviadas hoy.", 12.0, None),
        ("Twaalf stuks Large Desk van P00004 zijn vandaag verzonden.", 12.0, None),
    ],
)
def test_quantities_in_words_in_a_partial_shipment(text: str, shipped: float, backorder: float | None) -> None:
    found = changes(text, ChangeKind.PARTIAL_SHIPMENT)
    assert len(found) == 1
    assert found[0].quantity is not None and found[0].quantity.value == shipped
    assert (found[0].backorder.value if found[0].backorder else None) == backorder


def test_the_issue_partial_shipment_with_the_rest_and_its_date() -> None:
    """'we shipped 12 of the 20 Large Desks ... the remaining 8 follow ... expected 2026-12-15' was no change at all."""
    text = (
        "Hi Mitchell, for P00009 we shipped 12 of the 20 Large Desks today. "
        "The remaining 8 follow next week, expected 2026-12-15 (tracking 1Z999AA10123456784, UPS)."
    )
    [found] = changes(text, ChangeKind.PARTIAL_SHIPMENT)
    assert (found.po_name, found.product_text) == ("P00009", "Large Desks today")
    assert (found.quantity.value, found.of_quantity.value, found.backorder.value) == (12.0, 20.0, 8.0)
    assert found.backorder_date == date(2026, 12, 15)
    assert changes(text, ChangeKind.NEW_DATE) == []


def test_the_issue_short_quantity_with_the_ordered_quantity_in_brackets() -> None:
    """'we can only supply 6 ... (10 ordered), rest cancelled' was no change at all."""
    [found] = changes(
        "Hi, for P00009 we can only supply 6 Large Desks (10 ordered), rest cancelled.", ChangeKind.SHORT_QUANTITY
    )
    assert (found.po_name, found.quantity.value, found.of_quantity.value) == ("P00009", 6.0, 10.0)


def test_a_partial_shipment_in_german_with_the_rest_and_its_date() -> None:
    text = "Wir haben heute 12 der 20 Large Desks zu P00009 versandt. Die restlichen 8 Stück folgen am 15.12.2026."
    [found] = changes(text, ChangeKind.PARTIAL_SHIPMENT)
    assert (found.quantity.value, found.of_quantity.value, found.backorder.value) == (12.0, 20.0, 8.0)
    assert found.backorder_date == date(2026, 12, 15)
    assert changes(text, ChangeKind.NEW_DATE) == []


def test_a_move_from_one_date_to_another_is_no_window() -> None:
    text = "The delivery of P00004 moves from 1 December to 10 December 2026 because of a carrier strike."
    assert [(c.new_date, c.latest_date) for c in changes(text, ChangeKind.NEW_DATE)] == [(date(2026, 12, 10), None)]


def test_the_arrival_date_wins_over_the_ship_date_of_the_same_sentence() -> None:
    text = "The truck leaves our plant on Monday and P00007 should arrive at your warehouse Dec 2, 2026."
    assert [c.new_date for c in changes(text, ChangeKind.NEW_DATE)] == [date(2026, 12, 2)]


@pytest.mark.parametrize(
    "text",
    [
        "Hi, for P00007 we can only supply 10 Office Lamps (15 ordered), rest cancelled.",
        "Für P00007 können wir nur 10 Office Lamps liefern (15 bestellt), der Rest wird storniert.",
        "Pour P00007 nous ne pouvons livrer que 10 Office Lamps (15 commandées), le reste est annulé.",
        "Para P00007 solo podemos entregar 10 Office Lamps (15 pedidas), el resto se cancela.",
        "Voor P00007 kunnen we slechts 10 Office Lamps leveren (15 besteld), de rest wordt geannuleerd.",
    ],
)
def test_a_short_supply_with_the_rest_cancelled_in_each_language(text: str) -> None:
    [found] = changes(text, ChangeKind.SHORT_QUANTITY)
    assert (found.po_name, found.quantity.value, found.of_quantity.value, found.rest_cancelled) == (
        "P00007",
        10.0,
        15.0,
        True,
    )
    assert changes(text, ChangeKind.CANCELLATION) == []


@pytest.mark.parametrize(
    "text",
    [
        "The [FURN_7777] Office Chair on P00006 is discontinued. We can deliver the [FURN_0269] Office Chair Black "
        "instead.",
        "Der [FURN_7777] Office Chair zu P00006 ist nicht mehr lieferbar. Stattdessen können wir Ihnen den "
        "[FURN_0269] Office Chair Black liefern.",
        "L'article [FURN_7777] Office Chair de la commande P00006 n'est plus disponible. Nous pouvons le remplacer "
        "par le [FURN_0269] Office Chair Black.",
        "El artículo [FURN_7777] Office Chair del pedido P00006 está descatalogado. Podemos sustituirlo por el "
        "[FURN_0269] Office Chair Black.",
        "Het artikel [FURN_7777] Office Chair van bestelling P00006 is niet meer leverbaar. Wij kunnen het vervangen "
        "door de [FURN_0269] Office Chair Black.",
    ],
)
def test_a_substitution_in_each_language(text: str) -> None:
    [found] = changes(text, ChangeKind.SUBSTITUTION)
    assert (found.po_name, found.product_code, found.substitute_code) == ("P00006", "FURN_7777", "FURN_0269")
    assert changes(text, ChangeKind.CANCELLATION) == []


@pytest.mark.parametrize(
    "text",
    [
        "We confirm your order P00004, our order confirmation no. AB-20931.",
        "Wir bestätigen Ihre Bestellung P00004, unsere Auftragsbestätigung Nr. AB-20931.",
        "Nous confirmons la commande P00004, notre confirmation de commande n° AB-20931.",
        "Confirmamos el pedido P00004, nuestra confirmación de pedido n.º AB-20931.",
        "Wij bevestigen bestelling P00004, onze orderbevestiging nr. AB-20931.",
    ],
)
def test_the_vendors_order_number_in_each_language(text: str) -> None:
    result = extract(mail(text), languages=LanguageDetector())
    assert [r.value for r in result.references if r.kind == "vendor_order"] == ["AB-20931"]
    assert [c.po_name for c in result.candidates if c.kind is ChangeKind.CONFIRMATION] == ["P00004"]

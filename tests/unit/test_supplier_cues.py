"""Change cues as suppliers write them in five languages: the ship, delivered, hold and on-plan wording of each
language becomes the same structured change (sentences written for these tests, not taken from the eval set)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from copilot.email import InboundEmail
from copilot.skills.supplier_email import ChangeKind, extract
from copilot.text.language import LanguageDetector

WED_NOV25 = datetime(2026, 11, 25, 9, tzinfo=UTC)


def mail(text: str, subject: str = "P00003") -> InboundEmail:
    return InboundEmail(subject=subject, text=text, date=WED_NOV25, from_address="sales@supplier.example")


def kinds(text: str, subject: str = "P00003") -> list[tuple[ChangeKind, str | None, date | None]]:
    result = extract(mail(text, subject), languages=LanguageDetector())
    return [(c.kind, c.po_name, c.new_date) for c in result.candidates if not c.line_statement]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hallo Nora, P00003 wird erst am 07.12. verladen, der Lack muss noch trocknen. Gruß Jan", date(2026, 12, 7)),
        ("Hallo Nora, die Regale von P00003 gehen erst am Montag, 7. Dezember raus. Gruß Jan", date(2026, 12, 7)),
        ("Bonjour Nora, la commande P00003 partira le lundi 7 décembre, le vernis sèche encore.", date(2026, 12, 7)),
        ("Hola Nora, los estantes de P00003 salen el lunes 7 de diciembre, falta el barniz.", date(2026, 12, 7)),
        ("Hoi Nora, P00003 gaat pas maandag 7 december de deur uit, de lak is nog nat.", date(2026, 12, 7)),
        ("Hoi Nora, de kasten van P00003 gaan op 7 december op transport.", date(2026, 12, 7)),
        ("Hi Nora, the shelves on P00003 go out Monday December 7, the lacquer is still curing.", date(2026, 12, 7)),
    ],
)
def test_ship_verbs_of_each_language_carry_a_new_date(text: str, expected: date) -> None:
    assert (ChangeKind.NEW_DATE, "P00003", expected) in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "Hallo Nora, P00003 wurde gestern Nachmittag an Ihr Lager in Oakland zugestellt. Gruß Jan",
        "Hoi Nora, P00003 is gisteren compleet afgeleverd bij jullie magazijn.",
        "Hola Nora, el transportista dice que P00003 se entregó esta mañana en su almacén.",
        "Bonjour Nora, le transporteur indique que P00003 a été livrée ce matin à votre entrepôt.",
        "Nora, the carrier's portal shows P00003 delivered 11/24 at 10:05, signed by the dock.",
    ],
)
def test_delivered_in_each_language(text: str) -> None:
    assert (ChangeKind.DELIVERED, "P00003", None) in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "Hallo Nora, P00003 geht erst nach Eingang der Vorauskasse über 900,00 USD raus.",
        "Ihr Kundenkonto ist gesperrt, P00003 wird bis zum Ausgleich nicht versendet.",
        "Votre compte est bloqué : P00003 ne partira qu'après règlement de la facture.",
        "Su cuenta ha superado el límite de crédito; P00003 queda retenido hasta el pago.",
        "Uw account staat op een kredietblokkade, P00003 wordt pas na betaling vrijgegeven.",
        "Hi Nora, P00003 is on hold until we receive payment of the overdue invoice.",
    ],
)
def test_payment_hold_in_each_language(text: str) -> None:
    assert (ChangeKind.PAYMENT_HOLD, "P00003", None) in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "Hallo Nora, P00003 wird wie geplant am Montag geliefert.",
        "Bonjour Nora, P00003 sera livrée lundi comme prévu.",
        "Hola Nora, P00003 se entrega el lunes como estaba previsto.",
        "Hoi Nora, P00003 wordt maandag zoals gepland geleverd.",
        "Hi Nora, P00003 arrives Monday as planned.",
    ],
)
def test_on_plan_wording_is_a_confirmation(text: str) -> None:
    assert ChangeKind.CONFIRMATION in [k for k, _, _ in kinds(text)]


def test_po_reference_with_a_prefix_and_dash() -> None:
    result = extract(mail("PO-00003 leaves our dock on Monday as planned.", subject="dispatch"))
    assert result.po_refs == ["P00003"]


@pytest.mark.parametrize(
    "text",
    [
        "Hallo Nora, die Auslieferung von P00003 verzögert sich auf unbestimmte Zeit, die Lackieranlage steht.",
        "Hallo Nora, wegen der Lackieranlage ist P00003 später dran. Einen neuen Termin habe ich leider noch nicht.",
        "Bonjour Nora, le vernisseur ne nous a pas encore donné de date pour P00003.",
        "Hola Nora, no podemos comprometer una nueva fecha para P00003 hasta reparar la cabina de pintura.",
        "Hoi Nora, P00003 staat nog bij de lakstraat, geen idee wanneer die klaar is.",
        "Hi Nora, the paint line is down; we cannot give new dates for P00003 before the repair.",
    ],
)
def test_late_without_a_date_in_each_language(text: str) -> None:
    assert ChangeKind.DELAY_NO_DATE in [k for k, _, _ in kinds(text)]


@pytest.mark.parametrize(
    "text",
    [
        "Danke, P00003 ist eingegangen. Die Auftragsbestätigung erhalten Sie morgen.",
        "Bedankt, P00003 is binnengekomen. U ontvangt morgen onze orderbevestiging.",
        "Gracias, le confirmamos la recepción del pago de la factura de P00003.",
        "Zodra we P00003 bevestigen, sturen we de nieuwe prijzen mee.",
    ],
)
def test_a_confirmation_still_to_come_or_of_a_payment_is_no_confirmation(text: str) -> None:
    assert ChangeKind.CONFIRMATION not in [k for k, _, _ in kinds(text)]


def shipped(text: str) -> list[tuple[float | None, str | None, date | None]]:
    result = extract(mail(text), languages=LanguageDetector())
    return [
        (c.quantity.value if c.quantity else None, c.product_text, c.backorder_date)
        for c in result.candidates
        if c.kind is ChangeKind.PARTIAL_SHIPMENT
    ]


@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("Hallo Nora, heute gehen 4 der 9 Bookcase Oak aus P00003 raus. Die restlichen 5 folgen am 10.12.2026.", 4),
        ("Hallo Nora, heute verlassen 4 Bookcase Oak aus P00003 das Lager, die restlichen 5 folgen am 10.12.2026.", 4),
        (
            "Bonjour Nora, aujourd'hui nous expédions 4 Bookcase Oak de P00003. "
            "Les 5 restantes partiront le 10 décembre.",
            4,
        ),
        ("Hola Nora, hoy salen 4 Bookcase Oak de P00003. Las 5 restantes saldrán el 10 de diciembre.", 4),
        ("Hoi Nora, vandaag vertrekken 4 van de 9 Bookcase Oak van P00003. De resterende 5 volgen op 10 december.", 4),
        ("Hoi Nora, vandaag gaan 4 Bookcase Oak van P00003 de deur uit. De resterende 5 volgen op 10 december.", 4),
    ],
)
def test_shipping_today_with_a_backorder_in_each_language(text: str, quantity: float) -> None:
    assert [(q, d) for q, _, d in shipped(text)] == [(quantity, date(2026, 12, 10))]


def short(text: str) -> list[tuple[float | None, float | None]]:
    result = extract(mail(text), languages=LanguageDetector())
    return [
        (c.quantity.value if c.quantity else None, c.of_quantity.value if c.of_quantity else None)
        for c in result.candidates
        if c.kind is ChangeKind.SHORT_QUANTITY
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Von den 9 Bookcase Oak aus P00003 können wir nur 6 Stück liefern, der Rest ist gestrichen.", (6, None)),
        ("Pour P00003 nous ne pouvons fournir que 6 des 9 Bookcase Oak, le bois manque.", (6, 9)),
        ("Para P00003 solo podemos servir 6 de las 9 Bookcase Oak, falta madera.", (6, 9)),
        ("Voor P00003 kunnen we slechts 6 van de 9 Bookcase Oak leveren, het hout is op.", (6, 9)),
        ("Wir schaffen nur 48 Stück Bookcase Oak für P00003 (das sind 4 Ihrer 6 Dutzend).", (4, 6)),
        ("Solo podemos hacer 48 unidades de Bookcase Oak para P00003 (4 de sus 6 docenas).", (4, 6)),
    ],
)
def test_short_quantity_in_each_language(text: str, expected: tuple[float, float | None]) -> None:
    assert short(text) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hoi Nora, bevestigd: P00003 komt woensdag 02-12.", date(2026, 12, 2)),
        ("Confirmed for Wednesday 12/2, dock 4, all lines of P00003.", date(2026, 12, 2)),
        ("P00003   | bestätigt   | 02.12.2026", date(2026, 12, 2)),
    ],
)
def test_a_confirmation_carries_the_date_it_states(text: str, expected: date) -> None:
    assert (ChangeKind.CONFIRMATION, "P00003", expected) in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "Vandaag gaan 5 Bookcase Oak van P00003 de deur uit (UPS 1Z999AA10123456784). "
        "De overige 4 volgen op 10 december.",
        "Heute verlassen 5 Dutzend Bookcase Oak aus P00003 das Lager, die restlichen 4 Dutzend folgen am 10.12.",
        "Aujourd'hui nous expédions 5 douzaines de Bookcase Oak de P00003. Les 4 autres partiront le 10 décembre.",
        "Hoy salen 5 docenas de Bookcase Oak de P00003. Las últimas 4 docenas saldrán el 10/12/2026.",
        "P00003: 5 Bookcase Oak left today. 4 to follow on December 10.",
    ],
)
def test_the_backorder_date_goes_with_the_shipped_line(text: str) -> None:
    assert [(q, d) for q, _, d in shipped(text)] == [(5, date(2026, 12, 10))]


@pytest.mark.parametrize(
    "text",
    [
        "P00003 is on the water. Vessel ETA Rotterdam 12/14; delivery to your warehouse 12/17.",
        "P00003 ist verschifft. ETA Hafen Bremen: 14.12.2026, Zustellung am 17.12.2026.",
    ],
)
def test_a_port_eta_gives_way_to_the_delivery_at_our_warehouse(text: str) -> None:
    assert [d for k, _, d in kinds(text) if k is ChangeKind.NEW_DATE] == [date(2026, 12, 17)]


@pytest.mark.parametrize(
    "text",
    [
        "Nous remplaçons les 4 [FURN_1000] Bookcase Oak de P00003 par 4 [FURN_2000] Bookcase Walnut au prix de "
        "210,00 $ l'unité.",
        "We leveren voor P00003 in plaats van [FURN_1000] Bookcase Oak de variant [FURN_2000] Bookcase Walnut, "
        "tegen dezelfde prijs van $ 210,00 per stuk.",
        "As agreed, we'll replace the [FURN_1000] Bookcase Oak on P00003 with [FURN_2000] Bookcase Walnut at "
        "$210.00 each.",
        "Wir ersetzen die [FURN_1000] Bookcase Oak aus P00003 durch [FURN_2000] Bookcase Walnut "
        "zu 210,00 USD je Stück.",
    ],
)
def test_replace_x_with_y_is_a_substitution_in_each_language(text: str) -> None:
    result = extract(mail(text), languages=LanguageDetector())
    subs = [c for c in result.candidates if c.kind is ChangeKind.SUBSTITUTION]
    assert [(c.po_name, c.product_code, c.substitute_code, c.price and c.price.amount) for c in subs] == [
        ("P00003", "FURN_1000", "FURN_2000", 210.0)
    ]
    assert not [c for c in result.candidates if c.kind is ChangeKind.CANCELLATION]


def test_the_date_the_buyer_had_asked_for_is_not_the_new_date() -> None:
    text = (
        "Wir nehmen P00003 an, können aber frühestens am Montag, 7. Dezember liefern "
        "(Sie hatten den 2. Dezember angefragt)."
    )
    assert [d for k, _, d in kinds(text) if k is ChangeKind.NEW_DATE] == [date(2026, 12, 7)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Die Regale aus P00003 können wir erst in KW 50 ausliefern.", date(2026, 12, 7)),
        ("Our plant confirms the new ex-works date for P00003: 7 December 2026.", date(2026, 12, 7)),
    ],
)
def test_more_ways_to_state_a_new_date(text: str, expected: date) -> None:
    assert expected in [d for k, _, d in kinds(text) if k is ChangeKind.NEW_DATE]


@pytest.mark.parametrize(
    "text",
    [
        "Unsere Auftragsnummer für P00003 ist AB-1234; bitte geben Sie diese bei Rückfragen an.",
        "Ik ben afwezig tot maandag. Voor dringende zaken over P00003 kunt u contact opnemen met Jan.",
    ],
)
def test_reference_and_out_of_office_lines_ask_nothing(text: str) -> None:
    assert ChangeKind.QUESTION not in [k for k, _, _ in kinds(text)]


def test_a_forwarded_note_restated_in_the_new_part_counts_only_once_from_the_new_part() -> None:
    text = (
        "Nora, the carrier moved P00003: they now promise Monday, December 7. Sorry.\n\n"
        "---------- Forwarded message ---------\n"
        "From: Carrier <noreply@carrier.example>\n"
        "Date: Wed, Nov 25, 2026 at 10:00 AM\n"
        "Subject: Exception notice\n\n"
        "Scheduled delivery: 11/27/2026. Appointment cancelled, new delivery 12/07/2026."
    )
    email = InboundEmail(
        subject="Fwd: Exception notice P00003", text=text, date=WED_NOV25, from_address="sales@supplier.example"
    )
    from copilot.email import parse_email  # the parsed message marks the forward

    raw = f"Subject: {email.subject}\nFrom: sales@supplier.example\nDate: Wed, 25 Nov 2026 09:00:00 +0000\n\n{text}"
    result = extract(parse_email(raw.encode()), languages=LanguageDetector())
    found = [(c.kind, c.new_date) for c in result.candidates if not c.line_statement]
    assert found == [(ChangeKind.NEW_DATE, date(2026, 12, 7))]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (
            "Hallo Nora, laut Spedition wurde P00003 gestern um 09:15 Uhr an der Rampe 4 in Ihrem Lager Oakland "
            "zugestellt.",
            ChangeKind.DELIVERED,
        ),
        (
            "Nora - we can't source the oak this winter, please treat P00003 as cancelled on our side.",
            ChangeKind.CANCELLATION,
        ),
        ("P00003     | verspätet     | 07.12.2026", ChangeKind.NEW_DATE),
    ],
)
def test_more_cue_forms(text: str, kind: ChangeKind) -> None:
    assert kind in [k for k, _, _ in kinds(text)]


def test_a_vague_backorder_date_carries_no_date() -> None:
    text = (
        "We can ship 5 Bookcase Oak on P00003 today. The remaining 4 will follow around mid-December; "
        "I'll confirm the exact date next week."
    )
    assert [d for _, _, d in shipped(text)] == [None]


def test_gone_out_today_in_words_with_the_backorder_next() -> None:
    text = (
        "P00003 est partie aujourd'hui de Lyon : neuf Bookcase Oak et cinq Bookcase Walnut. "
        "Les quatre autres Bookcase Walnut sont en reliquat et partiront le 10 décembre."
    )
    assert (5, "Bookcase Walnut", date(2026, 12, 10)) in shipped(text)


@pytest.mark.parametrize(
    "text",
    [
        "Le vernis du [FURN_1000] Bookcase Oak de P00003 n'est plus fabriqué. Nous pouvons livrer la même étagère "
        "en vernis mat, même prix (210,00 $ pièce).",
        "Der Lack des [FURN_1000] Bookcase Oak aus P00003 wird nicht mehr hergestellt. Wir können das gleiche Regal "
        "in Mattlack liefern, gleicher Preis (210,00 USD pro Stück).",
    ],
)
def test_a_discontinued_finish_with_an_offer_is_a_substitution(text: str) -> None:
    result = extract(mail(text), languages=LanguageDetector())
    subs = [
        (c.product_code, c.price and c.price.amount) for c in result.candidates if c.kind is ChangeKind.SUBSTITUTION
    ]
    assert subs == [("FURN_1000", 210.0)]


@pytest.mark.parametrize(
    "text",
    [
        "Our dock is closed Monday and Tuesday for inventory, so P00003 ships on Wednesday.",
        "Nuestro almacén cierra lunes y martes por inventario, así que P00003 sale el miércoles.",
        "Unser Lager ist Montag und Dienstag wegen Inventur geschlossen, P00003 geht am Mittwoch raus.",
    ],
)
def test_days_we_are_closed_are_no_new_date(text: str) -> None:
    assert [d for k, _, d in kinds(text) if k is ChangeKind.NEW_DATE] == [date(2026, 12, 2)]

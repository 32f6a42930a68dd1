"""Only the new part of a thread is a fact: reply and forward headers in English, German, French, Spanish and
Dutch separate the quoted history, which the extractor reports as context and never turns into changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from copilot.email import parse_email, split_quoted
from copilot.skills.supplier_email import ChangeKind, extract

QUOTED = {
    "de-gmail": (
        "Hallo Herr Admin,\n\ndie Lieferung für P00004 ist bestätigt.\n\nGrüße\nKlaus\n\n"
        "Am Mo., 23. Nov. 2026 um 08:15 Uhr schrieb Mitchell Admin <admin@example.com>:\n"
        "Bitte bestätigen Sie den neuen Liefertermin 18.12.2026 und den Preis von 275,00 € pro Stück."
    ),
    "de-outlook": (
        "Hallo,\n\nP00004 ist bestätigt.\n\n-----Ursprüngliche Nachricht-----\n"
        "Von: Mitchell Admin <admin@example.com>\nGesendet: Montag, 23. November 2026 08:15\nAn: Klaus\n"
        "Betreff: P00004\n\nKönnen Sie bis 18.12.2026 liefern? Neuer Preis 275,00 € pro Stück?"
    ),
    "de-outlook-plain": (
        "Hallo,\n\nP00004 ist bestätigt.\n\nVon: Mitchell Admin <admin@example.com>\n"
        "Gesendet: Montag, 23. November 2026 08:15\nAn: Klaus\nBetreff: P00004\n\n"
        "Können Sie bis 18.12.2026 liefern? Neuer Preis 275,00 € pro Stück?"
    ),
    "fr-gmail": (
        "Bonjour,\n\nLa commande P00004 est confirmée.\n\nCordialement,\nPierre\n\n"
        "Le lun. 23 nov. 2026 à 08:15, Mitchell Admin <admin@example.com> a écrit :\n"
        "Pouvez-vous livrer le 18 décembre au prix de 275,00 € ?"
    ),
    "fr-outlook": (
        "Bonjour,\n\nLa commande P00004 est confirmée.\n\n-----Message d'origine-----\n"
        "De : Mitchell Admin <admin@example.com>\nEnvoyé : lundi 23 novembre 2026 08:15\nÀ : Pierre\n"
        "Objet : P00004\n\nPouvez-vous livrer le 18 décembre au prix de 275,00 € ?"
    ),
    "es-gmail": (
        "Hola,\n\nEl pedido P00004 está confirmado.\n\nSaludos,\nJuan\n\n"
        "El lun, 23 nov 2026 a las 08:15, Mitchell Admin (<admin@example.com>) escribió:\n"
        "¿Pueden entregar el 18 de diciembre a 275,00 € por unidad?"
    ),
    "es-outlook": (
        "Hola,\n\nEl pedido P00004 está confirmado.\n\n-----Mensaje original-----\n"
        "De: Mitchell Admin <admin@example.com>\nEnviado el: lunes, 23 de noviembre de 2026 8:15\nPara: Juan\n"
        "Asunto: P00004\n\n¿Pueden entregar el 18 de diciembre a 275,00 € por unidad?"
    ),
    "nl-gmail": (
        "Hallo,\n\nBestelling P00004 is bevestigd.\n\nMet vriendelijke groet,\nJan\n\n"
        "Op ma 23 nov. 2026 om 08:15 schreef Mitchell Admin <admin@example.com>:\n"
        "Kunnen jullie op 18 december leveren voor 275,00 € per stuk?"
    ),
    "nl-outlook": (
        "Hallo,\n\nBestelling P00004 is bevestigd.\n\nVan: Mitchell Admin <admin@example.com>\n"
        "Verzonden: maandag 23 november 2026 08:15\nAan: Jan\nOnderwerp: P00004\n\n"
        "Kunnen jullie op 18 december leveren voor 275,00 € per stuk?"
    ),
    "en-gmail": (
        "Hi Mitchell,\n\nP00004 is confirmed.\n\nBilly\n\n"
        "On Mon, Nov 23, 2026 at 8:15 AM Mitchell Admin <admin@example.com> wrote:\n"
        "Can you deliver on December 18 at $275.00 per unit?"
    ),
}


@pytest.mark.parametrize("name", sorted(QUOTED))
def test_the_quoted_history_is_split_off(name: str) -> None:
    new, old = split_quoted(QUOTED[name])
    assert "P00004" in new
    assert "18" not in new and "275" not in new
    assert "275" in old


@pytest.mark.parametrize("name", sorted(QUOTED))
def test_a_date_or_price_in_the_quoted_part_never_becomes_a_change(name: str) -> None:
    raw = (
        "From: Supplier <sales@supplier.example>\nTo: buyer@example.com\nSubject: RE: P00004\n"
        "Date: Wed, 25 Nov 2026 09:00:00 +0000\nContent-Type: text/plain; charset=utf-8\n\n" + QUOTED[name]
    )
    mail = parse_email(raw.encode("utf-8"))
    assert "275" in mail.quoted_text
    result = extract(mail)
    kinds = {c.kind for c in result.candidates}
    assert ChangeKind.NEW_DATE not in kinds and ChangeKind.PRICE_CHANGE not in kinds
    assert not any(c.new_date or c.price for c in result.candidates)
    assert result.po_refs == ["P00004"]


def test_a_sentence_that_merely_starts_like_a_header_stays_new_text() -> None:
    text = "El pedido P00004 sale mañana.\nVan: onze kant is alles klaar."
    assert split_quoted(text) == (text, "")


def test_split_quoted_is_linear_on_header_like_lines() -> None:
    started = datetime.now(UTC)
    split_quoted("Am 1 schrieb " * 20_000)
    split_quoted("Von: x\n" * 20_000)
    assert (datetime.now(UTC) - started).total_seconds() < 2.0

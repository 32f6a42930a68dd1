"""Bank-detail change requests: every language we buy in, with or without an IBAN, homoglyphs and negation tricks."""

from __future__ import annotations

import pytest

from copilot.skills.supplier_email.signals import bank_change

CHANGES = [
    "Please note our new bank details for all future payments.",
    "No worries - new bank details are attached, please use them from now on.",
    "No problem, our bank account has changed: please pay invoice 2026-1145 to the account below.",
    "Please update your records: we switched to a new bank last month.",
    "Kindly remit all open invoices to our new account at Baltic Trade Bank.",
    "Please note our new b\u0430nk details for all future payments.",  # Cyrillic a
    "Our n\u0435w b\u0430nk \u0430ccount is active from today.",  # Cyrillic e, a, a
    "\uff4e\uff45\uff57 \uff42\uff41\uff4e\uff4b details below",  # fullwidth
    "Veuillez noter nos nouvelles coordonnées bancaires pour les prochains paiements.",
    "Notre RIB a changé : merci d'effectuer le virement sur le nouveau compte.",
    "Bitte beachten Sie unsere neue Bankverbindung ab dem 1. Dezember.",
    "Unsere Bankverbindung hat sich geändert, bitte überweisen Sie auf das neue Konto.",
    "Les informamos de que nuestros datos bancarios han cambiado.",
    "Por favor, realice el pago a nuestra nueva cuenta bancaria.",
    "Graag wijzen wij u op onze nieuwe bankgegevens.",
    "Ons rekeningnummer is gewijzigd, gelieve naar het nieuwe rekeningnummer te betalen.",
    "Vi comunichiamo le nostre nuove coordinate bancarie.",
    "Il nostro conto corrente è cambiato, vi preghiamo di pagare sul nuovo IBAN.",
    "Pay invoice 2026-1145 to IBAN LT12 1000 0111 0100 1000 from now on.",
]

NOT_CHANGES = [
    "Our bank details have not changed.",
    "We have not changed banks; please pay as usual.",
    "There are no new bank details: never pay to an account you receive by email.",
    "Please do not pay to any new bank details you may receive by email, our account stays the same.",
    "The desks on P00009 will be delivered on December 2, 2026.",
    "Our payment terms remain 30 days net.",
    "Nos coordonnées bancaires restent inchangées.",
    "Unsere Bankverbindung bleibt unverändert.",
    "Nuestros datos bancarios no han cambiado.",
    "Onze bankgegevens blijven ongewijzigd.",
    "Le nostre coordinate bancarie non sono cambiate.",
    "We have opened a new warehouse in Rotterdam.",
    "The new account manager for your region is Maria Lopez.",
]


@pytest.mark.parametrize("text", CHANGES)
def test_a_bank_detail_change_is_detected(text: str) -> None:
    assert bank_change(text), text


@pytest.mark.parametrize("text", NOT_CHANGES)
def test_no_change_is_not_a_bank_change(text: str) -> None:
    assert bank_change(text) is None, text

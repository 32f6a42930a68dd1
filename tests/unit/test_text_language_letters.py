"""Accented letters settle a close language call: a Spanish note a detector leans French on stays Spanish."""

from __future__ import annotations

from copilot.text import language


def test_spanish_accent_overrules_a_close_french_guess() -> None:
    sample = "La parte restante de P00011 estará lista; la entregamos el martes 1 de diciembre."
    assert language._by_letters(sample, [("fr", 0.68), ("es", 0.32)]) == "es"


def test_french_accents_keep_a_french_guess() -> None:
    sample = "La commande P00011 partira le mardi 1er décembre, le vernis sèche encore."
    assert language._by_letters(sample, [("fr", 0.68), ("es", 0.32)]) == "fr"


def test_an_unlikely_runner_up_is_not_picked() -> None:
    sample = "La commande P00011 part lundi, signé José Peña."
    assert language._by_letters(sample, [("fr", 0.95), ("es", 0.05)]) == "fr"

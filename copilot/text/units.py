"""Units of measure as suppliers write them in five languages, mapped to Odoo's names (``Dutzend`` -> ``Dozens``)."""

from __future__ import annotations

import re

__all__ = ["UOM_WORDS", "convert", "normalise_uom", "singular_uom"]

_NAMES = {
    "Dozens": ("dozen dozens dz doz dutzend dutzende dtzd douzaine douzaines doz. docena docenas dozijn dozijnen"),
    "Units": (
        "unit units pcs pc piece pieces each ea x stück stueck stk stck st stuk stuks pièce pièces pce pces unité "
        "unités unidad unidades ud uds u"
    ),
    "kg": "kg kgs kilo kilos kilogram kilograms kilogramm kilogramme kilogrammes kilogramo kilogramos",
    "t": "t ton tons tonne tonnes tonnen tonelada toneladas",
    "Hours": "hour hours h std stunde stunden heure heures hora horas uur uren",
}
_UOMS = {word: name for name, words in _NAMES.items() for word in words.split()}
#: Words of units the extractor's patterns accept after a number; longest first so "dozens" wins over "dozen".
UOM_WORDS = (
    "(?:"
    + "|".join(
        re.escape(w)
        for w in sorted(_UOMS, key=len, reverse=True)
        if len(w) > 1 and w not in ("x", "st", "ud", "uds", "std", "pce", "doz.")
    )
    + ")"
)
_FACTORS = {("Dozens", "Units"): 12.0, ("Units", "Dozens"): 1 / 12}


def normalise_uom(word: str | None) -> str | None:
    """Odoo's name of a unit written in an email (``dozen``, ``Dutzend``, ``pièces`` -> ``Dozens``/``Units``)."""
    if not word:
        return None
    return _UOMS.get(word.strip().lower().rstrip("."))


def convert(value: float, from_uom: str | None, to_uom: str | None) -> float | None:
    """``value`` from one unit into another (Units <-> Dozens); None when not convertible."""
    if not from_uom or not to_uom or from_uom.lower() == to_uom.lower():
        return value
    factor = _FACTORS.get((from_uom, to_uom))
    return value * factor if factor else None


def singular_uom(uom: str) -> str:
    """``Dozens`` -> ``Dozen``: the unit's name after "per" or "1"."""
    return uom[:-1] if uom in ("Units", "Dozens", "Hours") else uom

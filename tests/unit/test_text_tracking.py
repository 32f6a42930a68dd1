"""Tracking numbers by carrier format: the carrier proven by the number's check digit or named beside it."""

from __future__ import annotations

import time

import pytest

from copilot.text.tracking import carrier_of, find_tracking_numbers


def found(text: str) -> list[tuple[str, str | None]]:
    return [(t.number, t.carrier) for t in find_tracking_numbers(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tracking 1Z999AA10123456784, UPS.", [("1Z999AA10123456784", "ups")]),
        ("UPS tracking: 1z 999 aa1 01 2345 678 4", [("1Z999AA10123456784", "ups")]),
        ("Sent with FedEx, tracking 7995 3127 4483.", [("799531274483", "fedex")]),
        ("FedEx Ground 123456789012345 leaves tonight.", [("123456789012345", "fedex")]),
        ("DHL Express waybill 3318810025.", [("3318810025", "dhl")]),
        ("Ihre Sendung JJD000390007721234567 ist unterwegs.", [("JJD000390007721234567", "dhl")]),
        ("Paketnummer DPD 05222058795487.", [("05222058795487", "dpd")]),
        ("Versand mit GLS, Paketnummer 12345678901.", [("12345678901", "gls")]),
        ("TNT consignment GE123456789WW.", [("GE123456789WW", "tnt")]),
        ("TNT con note 123456789.", [("123456789", "tnt")]),
        ("USPS: 9400 1118 9922 3197 4284 97", [("9400111899223197428497", "usps")]),
        ("Container CSQU3054383 sails Friday.", [("CSQU3054383", "container")]),
        ("Container MSKU 123456-5 is on the vessel.", [("MSKU1234565", "container")]),
        ("B/L no. MAEU123456789 attached.", [("MAEU123456789", "bl")]),
        ("Bill of lading: HLCUHAM2612345 for P00004.", [("HLCUHAM2612345", "bl")]),
    ],
)
def test_each_carrier_format(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Tracking 1Z999AA10123456785 (UPS).",  # wrong UPS check digit
        "Container CSQU3054384 sails Friday.",  # wrong ISO 6346 check digit
        "Call us on 0049 30 1234 5678, order 20261215.",  # a phone number, no carrier, no tracking word
        "Our bank account 123456789012 stays the same.",
        "We shipped 12 of the 20 Large Desks on 2026-12-15.",
    ],
)
def test_numbers_that_are_not_tracking(text: str) -> None:
    assert found(text) == []


def test_two_numbers_each_with_its_carrier() -> None:
    text = "Box 1 goes UPS 1Z999AA10123456784. Box 2 goes with FedEx 799531274483."
    assert found(text) == [("1Z999AA10123456784", "ups"), ("799531274483", "fedex")]


def test_the_format_proves_the_carrier_without_a_name() -> None:
    assert carrier_of("1Z999AA10123456784") == "ups"
    assert carrier_of("CSQU3054383") == "container"
    assert carrier_of("9400111899223197428497") == "usps"
    assert carrier_of("799531274483") is None  # twelve digits alone could be anything


def test_long_input_is_read_in_linear_time() -> None:
    text = ("1Z " * 20_000) + ("1234 " * 20_000) + ("B/L " * 20_000)
    started = time.perf_counter()
    find_tracking_numbers(text)
    assert time.perf_counter() - started < 1.0


def test_twelve_digits_beside_the_fedex_name_are_fedex_whatever_the_check_digit() -> None:
    """Senders name FedEx beside its 12-digit numbers; only a number nobody labels needs the check digit."""
    assert found("Die Kartons gehen mit FedEx 4711 0815 2222 raus.") == [("471108152222", "fedex")]
    assert found("Order 471108152222 ships Friday.") == []

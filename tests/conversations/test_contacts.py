"""Phone numbers and email addresses are found however they are spelled; prices, dates and prose are left alone."""

import time

import pytest

from gateway.conversations.contacts import MASK, mask_contacts


@pytest.mark.parametrize(
    "text",
    [
        "0712345678",
        "0712 345 678",
        "+254 712 345 678",
        "+254-712-345-678",
        "(0712) 345.678",
        "0 7 1 2 3 4 5 6 7 8",
        "0-7-1-2-3-4-5-6-7-8",
        "zero seven one two three four five six seven eight",
        "Zero Seven double one, 234 567",
        "sifuri saba moja mbili tatu nne tano sita saba",
        "o7l2 345 678",
        "amina@example.co.ke",
        "amina.k @ example . com",
        "amina (at) example (dot) com",
        "amina [at] example [dot] co [dot] ke",
        "amina at gmail dot com",
        "amina dot k at yahoo dot com",
        "amina at gmail",
        "AMINA AT HOTMAIL",
    ],
)
def test_contact_points_are_hidden(text: str) -> None:
    masked = mask_contacts(f"reach me: {text} thanks")
    assert masked.text == f"reach me: {MASK} thanks"
    assert masked.hid_contacts


@pytest.mark.parametrize(
    "text",
    [
        "KES 5,000 a night, 2 nights from 14/03/2026",
        "The wifi code is 12345678",
        "Check-in at 2 pm, the gate code is 4821",
        "We arrive at noon and meet you at the gate.",
        "one night for two of us, three bags",
        "The flat is at Kilimani, near Yaya dot",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert mask_contacts(text).text == text
    assert not mask_contacts(text).hid_contacts


@pytest.mark.parametrize("text", ["a." * 2000, "a. " * 1333, "a dot " * 666, "a at b dot " * 363, "1 - " * 1000])
def test_a_message_built_to_stall_the_matcher_is_read_in_linear_time(text: str) -> None:
    started = time.perf_counter()
    mask_contacts(text[:4000])
    assert time.perf_counter() - started < 0.5

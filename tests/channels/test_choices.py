"""Numbered choices answered with a digit."""

from bot.channels.choices import ChoiceMemory, number_answer, numbered, usable_buttons
from bot.channels.store import MemoryStore


def test_number_answers():
    for text, number in [("2", 2), (" 2. ", 2), ("2)", 2), ("số 3", 3), ("so 3", 3), ("Chọn 1", 1),
                         ("chon 1", 1), ("#2", 2), ("10", 10)]:
        assert number_answer(text) == number, text
    for text in ["", None, "2 giấy phép", "1234", "000.00.22.H39-261118-0007", "mất 2 ngày", "abc"]:
        assert number_answer(text) is None, text


def test_numbered_and_usable_buttons():
    assert numbered("Chọn:", ["A", "B"]) == "Chọn:\n\n1. A\n2. B"
    assert numbered("", ["A"]) == "1. A"
    buttons = [{"title": "A", "payload": "/a"}, {"title": "None", "payload": "None"},
               {"title": "", "payload": "/x"}, {"title": " B ", "payload": "/b"}]
    assert [b["title"] for b in usable_buttons(buttons)] == ["A", "B"]


async def test_choice_memory_resolves_a_digit_once_and_forgets_on_other_text():
    choices = ChoiceMemory(MemoryStore(), "test")
    assert await choices.resolve("u1", "2") == "2"  # nothing offered: the text itself
    await choices.remember("u1", ["/a", "/b", "/c"])
    assert await choices.resolve("u2", "2") == "2"  # per user
    assert await choices.resolve("u1", "số 2") == "/b"
    assert await choices.resolve("u1", "2") == "2"  # used up
    await choices.remember("u1", ["/a", "/b"])
    assert await choices.resolve("u1", "9") == "9"  # out of range
    assert await choices.resolve("u1", "1") == "1"  # and forgotten
    await choices.remember("u1", ["/a", "/b"])
    assert await choices.resolve("u1", "lệ phí bao nhiêu") == "lệ phí bao nhiêu"
    assert await choices.resolve("u1", "1") == "1"

"""Long texts cut for chat apps."""

import unicodedata

import pytest

from bot.channels.splitting import split_text, text_length


def test_short_text_is_one_part():
    assert split_text("  Xin chào!  ") == ["Xin chào!"]
    assert split_text("") == [] and split_text("   \n ") == []


def test_parts_fit_and_keep_every_word():
    paragraph = "Giấy tờ cần chuẩn bị cho thủ tục đăng ký đất đai lần đầu gồm nhiều loại. " * 12
    text = "\n\n".join([paragraph.strip()] * 6)
    parts = split_text(text, 2000)
    assert len(parts) > 1
    assert all(text_length(p) <= 2000 for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())


def test_cuts_prefer_paragraphs_then_lines_then_spaces():
    first, second = "a" * 1200, "b" * 1200
    assert split_text(first + "\n\n" + second, 2000) == [first, second]
    lines = "\n".join(["dòng " + str(i) + " " + "x" * 90 for i in range(40)])
    for part in split_text(lines, 2000):
        assert part.startswith("dòng ")  # never cut inside a line
    words = " ".join(["từ"] * 1500)
    assert all(not p.startswith(" ") and p.split()[0] == "từ" for p in split_text(words, 2000))


def test_a_word_longer_than_the_limit_is_cut():
    parts = split_text("x" * 4500, 2000)
    assert [len(p) for p in parts] == [2000, 2000, 500]


def test_emoji_count_twice_and_decomposed_diacritics_stay_together():
    parts = split_text("😀" * 1500, 2000)
    assert all(text_length(p) <= 2000 for p in parts) and "".join(parts) == "😀" * 1500
    decomposed = unicodedata.normalize("NFD", "Việt" * 600)
    for part in split_text(decomposed, 100):
        assert text_length(part) <= 100 and not unicodedata.combining(part[0])


def test_limit_must_be_positive():
    with pytest.raises(ValueError):
        split_text("x", 0)

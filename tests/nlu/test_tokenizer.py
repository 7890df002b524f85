import unicodedata

import pytest
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.tokenizer import MAX_PIECES, VietnameseTokenizer, tokenize_text

TEXTS = [
    "Bố tôi vừa mất, gia đình cần làm thủ tục gì?",
    "con toi moi sinh can lam giay to gi ko",
    "hồ sơ 000.00.22.H39-261118-0007 của tôi   sao lâu vậy 😀",
    unicodedata.normalize("NFD", "Đăng ký kết hôn có mất phí không"),
    "😀🙏",
    "   ",
    "",
    "gks cần j\n\tvậy ad",
    "x" * 50_000,
    "hoà bình hòa bình",
    "\x00\x07 control",
]


@pytest.mark.parametrize("text", TEXTS)
def test_tokens_are_exact_slices(text):
    for token in tokenize_text(text):
        assert text[token.start : token.end] == token.text
        assert token.text.strip() == token.text and token.text


def test_words_are_grouped_by_underthesea():
    assert [t.text for t in tokenize_text("gia đình cần làm thủ tục")] == ["gia đình", "cần", "làm", "thủ tục"]


def test_codes_stay_whole():
    texts = [t.text for t in tokenize_text("hồ sơ 000.00.22.H39-261118-0007 nhé")]
    assert "000.00.22.H39-261118-0007" in texts


def test_lemmas_are_folded_and_expanded():
    lemmas = [t.lemma for t in tokenize_text("Gks cần giấy tờ gì ko")]
    assert lemmas[0] == "giay khai sinh"
    assert lemmas[-1] == "khong"
    decomposed = unicodedata.normalize("NFD", "Giấy tờ")
    assert [t.lemma for t in tokenize_text(decomposed)] == [t.lemma for t in tokenize_text("Giấy tờ")]


def test_component_tokenizes_messages():
    tokenizer = VietnameseTokenizer(VietnameseTokenizer.get_default_config())
    message = Message({TEXT: "làm căn cước cho con"})
    tokenizer.process([message])
    assert [t.text for t in message.get("text_tokens")] == [t.text for t in tokenize_text("làm căn cước cho con")]


def test_only_the_beginning_of_a_very_long_message_is_tokenized():
    question = "cho hỏi làm hộ chiếu mất bao lâu "
    tokens = tokenize_text(question * 5_000)
    assert 0 < len(tokens) <= MAX_PIECES
    assert [t.text for t in tokens[:4]] == [t.text for t in tokenize_text(question)][:4]
    assert tokens[-1].end < 10 * len(question) * MAX_PIECES // 5


def test_a_short_question_is_not_cut():
    text = "Bố tôi vừa mất, gia đình cần làm thủ tục gì? " * 3
    assert tokenize_text(text)[-1].text == "gì"

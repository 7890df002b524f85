import unicodedata

from bot.text import expand_abbreviations, fold, has_diacritics, has_tone_marks, normalise


def test_fold_strips_diacritics_and_d():
    assert fold("Đăng ký  Kết hôn") == "dang ky ket hon"


def test_fold_decomposed_equals_composed():
    composed = "Giấy khai sinh"
    assert fold(unicodedata.normalize("NFD", composed)) == fold(composed)


def test_abbreviations_expand():
    assert expand_abbreviations(["gks", "ko", "dc"]) == ["giay", "khai", "sinh", "khong", "duoc"]
    assert normalise("Làm CCCD có đc ko?") == "lam can cuoc cong dan co duoc khong"


def test_has_diacritics():
    assert has_diacritics("mất bao lâu")
    assert has_diacritics("đi")
    assert not has_diacritics("mat bao lau")


def test_tone_marks_are_not_the_letter_d_with_stroke():
    assert has_tone_marks("hồng") and has_tone_marks("tý")
    assert not has_tone_marks("đc") and not has_tone_marks("dk")
    assert has_diacritics("đc")

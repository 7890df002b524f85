import pytest

from bot.codes import find_codes
from bot.settings import DEFAULT_DOSSIER_CODE_PATTERN, DEFAULT_PROCEDURE_CODE_PATTERN


@pytest.mark.parametrize(
    "text, value",
    [
        ("hồ sơ 000.00.22.H39-261118-0007 của tôi", "000.00.22.H39-261118-0007"),
        ("ma ho so 000.00.22.h39 - 261118 - 0007 nhe", "000.00.22.H39-261118-0007"),
        ("G22.39-250301-0012", "G22.39-250301-0012"),
    ],
)
def test_dossier_code_found_and_normalised(text, value):
    [match] = find_codes(text, DEFAULT_DOSSIER_CODE_PATTERN)
    assert match.value == value
    assert text[match.start : match.end].replace(" ", "").upper() == value


@pytest.mark.parametrize(
    "text", ["000.00.22.H39-261118-00071", "000.00.22.H39-26111-0007", "hồ sơ của tôi", "", "1.001193"]
)
def test_malformed_dossier_codes_are_not_taken(text):
    assert find_codes(text, DEFAULT_DOSSIER_CODE_PATTERN) == []


def test_procedure_codes():
    text = "thủ tục 1.001193. và 1.012753.H19 nhé"
    values = [m.value for m in find_codes(text, DEFAULT_PROCEDURE_CODE_PATTERN)]
    assert values == ["1.001193", "1.012753.H19"]


def test_code_after_a_full_stop():
    text = "hồ sơ của tôi. 000.00.22.H39-261118-0007 sao lâu vậy"
    assert [m.value for m in find_codes(text, DEFAULT_DOSSIER_CODE_PATTERN)] == ["000.00.22.H39-261118-0007"]


def test_dash_look_alikes():
    text = "mã 000.00.22.H39–261118—0007"
    [match] = find_codes(text, DEFAULT_DOSSIER_CODE_PATTERN)
    assert match.value == "000.00.22.H39-261118-0007" and text[match.start : match.end].endswith("0007")

import pytest

from bot.dossiers.codes import DossierCodes, codes_for, looks_like_code, normalise_code
from bot.dossiers.errors import InvalidDossierCode
from bot.settings import DEFAULT_DOSSIER_CODE_PATTERN

CODE = "000.00.22.H39-261118-0007"


@pytest.fixture
def codes() -> DossierCodes:
    return codes_for(DEFAULT_DOSSIER_CODE_PATTERN)


@pytest.mark.parametrize(
    "text",
    [
        CODE,
        f"hồ sơ {CODE} của tôi sao lâu vậy",
        "ho so 000.00.22.h39-261118-0007 sao lau vay",
        "mã hồ sơ: 000.00.22.H39 - 261118 - 0007, cảm ơn",
        "000 . 00 . 22 . H39-261118-0007",
        "hồ sơ của tôi. 000.00.22.H39-261118-0007.",
        "000.00.22.H39\u2013261118\u20140007",  # en/em dashes from a phone keyboard
        "(000.00.22.H39-261118-0007)",
        "ＭÃ 000.00.22.Ｈ39-261118-0007",  # full-width letters
    ],
)
def test_finds_the_code_in_any_message(codes, text):
    assert codes.find(text) == CODE


@pytest.mark.parametrize(
    "text",
    [
        "tra cứu hồ sơ",
        "000.00.22.H39-26111-0007",  # 5-digit date
        "000.00.22.H39-261118-00071",  # 5-digit sequence
        "000.00.22.H39-261118",
        "00022H39-261118-0007",  # no dotted agency code
        "0912345678",
        "",
        None,
    ],
)
def test_rejects_what_is_not_a_code(codes, text):
    assert codes.find(text) is None


def test_first_of_several_codes(codes):
    assert codes.find("G22.39-250301-0012 hoặc 000.00.22.H39-261118-0007") == "G22.39-250301-0012"


def test_normalise_a_code_given_alone(codes):
    assert codes.normalise(" 000.00.22.h39 - 261118 - 0007 ") == CODE
    assert normalise_code("g22.39 -250301-0012") == "G22.39-250301-0012"
    with pytest.raises(InvalidDossierCode):
        codes.normalise("hồ sơ " + CODE)  # text around it is not a code
    with pytest.raises(InvalidDossierCode):
        codes.normalise("000.00.22.H39-261118-07")


def test_remove_takes_codes_out_of_text(codes):
    assert "0007" not in codes.remove(f"hồ sơ {CODE.lower()} 5678")
    assert "5678" in codes.remove(f"hồ sơ {CODE} 5678")


def test_configurable_pattern():
    codes = DossierCodes(r"HS\d{8}")
    assert codes.find("mã hs12345678 nhé") == "HS12345678"
    assert codes.find(CODE) is None
    assert codes.is_valid("HS00000001")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("000.00.22.H39-26111-0007", True),
        ("mã là H39.22-2611180007", True),
        ("000.00.22.39-261118-0007", True),
        ("5678", False),
        ("4 số cuối là 5678", False),
        ("0912.345.678", False),  # a phone number
        ("ngày 18.11.2026", False),
        ("tra cứu hồ sơ", False),
    ],
)
def test_looks_like_code(text, expected):
    assert looks_like_code(text) is expected

"""Vietnamese text normalisation shared by the NLU components and the procedure search.

``fold`` gives a lower-case, diacritic-free form ("Đăng ký" -> "dang ky"), so that text typed
with and without diacritics meets in the same place. ``expand_abbreviations`` rewrites the chat
abbreviations citizens use ("ko", "dc", "gks", "cccd") into the words they stand for (folded).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterable, List

_COMBINING = re.compile(r"[\u0300-\u036f]")

# Folded abbreviation -> folded expansion. Only unambiguous chat forms.
ABBREVIATIONS = {
    "ko": "khong",
    "k": "khong",
    "hok": "khong",
    "hong": "khong",
    "kh": "khong",
    "khg": "khong",
    "kg": "khong",
    "dc": "duoc",
    "dk": "dang ky",
    "dky": "dang ky",
    "gks": "giay khai sinh",
    "cccd": "can cuoc cong dan",
    "cmnd": "chung minh nhan dan",
    "cmt": "chung minh nhan dan",
    "hs": "ho so",
    "tthc": "thu tuc hanh chinh",
    "tt": "thu tuc",
    "dvc": "dich vu cong",
    "bhxh": "bao hiem xa hoi",
    "bhyt": "bao hiem y te",
    "gplx": "giay phep lai xe",
    "gpkd": "giay phep kinh doanh",
    "gpxd": "giay phep xay dung",
    "hkd": "ho kinh doanh",
    "dkkh": "dang ky ket hon",
    "dkks": "dang ky khai sinh",
    "dkkd": "dang ky kinh doanh",
    "dktt": "dang ky tam tru",
    "bhtn": "bao hiem that nghiep",
    "gcn": "giay chung nhan",
    "qsdd": "quyen su dung dat",
    "gplđ": "giay phep lao dong",
    "gpld": "giay phep lao dong",
    "nvqs": "nghia vu quan su",
    "thpt": "trung hoc pho thong",
    "thcs": "trung hoc co so",
    "mst": "ma so thue",
    "lltp": "ly lich tu phap",
    "ubnd": "uy ban nhan dan",
    "ubnd.": "uy ban nhan dan",
    "sdt": "so dien thoai",
    "dt": "dien thoai",
    "ad": "admin",
    "mn": "moi nguoi",
    "j": "gi",
    "z": "vay",
    "v": "vay",
    "r": "roi",
    "ntn": "nhu the nao",
    "bnh": "bao nhieu",
    "bn": "bao nhieu",
    "bao lau": "bao lau",
    "onl": "online",
    "ol": "online",
    "tks": "cam on",
    "thanks": "cam on",
    "thank": "cam on",
    "ty": "cam on",
    "ok": "ok",
    "vneid": "vneid",
    "e": "em",
    "a": "anh",
    "c": "chi",
    "ng": "nguoi",
    "nc": "nuoc",
    "trc": "truoc",
    "ck": "chuyen khoan",
    "vs": "voi",
    "tp": "thanh pho",
    "bv": "benh vien",
    "cty": "cong ty",
    "hk": "ho khau",
    "xe mays": "xe may",
}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@lru_cache(maxsize=65536)
def fold_word(word: str) -> str:
    """Lower-case, strip diacritics, đ -> d."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    stripped = _COMBINING.sub("", decomposed)
    return stripped.replace("đ", "d").replace("Đ", "d")


def fold(text: str) -> str:
    """Fold a whole text: lower case, no diacritics, single spaces."""
    return " ".join(fold_word(part) for part in text.split())


_WORD = re.compile(r"[0-9a-z]+(?:[.\-/][0-9a-z]+)*")


def words(text: str) -> List[str]:
    """Folded word list of a text (punctuation and emoji dropped)."""
    return _WORD.findall(fold(text))


def expand_abbreviations(tokens: Iterable[str]) -> List[str]:
    """Replace folded chat abbreviations by the folded words they stand for."""
    out: List[str] = []
    for token in tokens:
        out.extend(ABBREVIATIONS.get(token, token).split())
    return out


def normalise(text: str) -> str:
    """Folded, abbreviation-expanded text: the form search and features work on."""
    return " ".join(expand_abbreviations(words(text)))


def has_tone_marks(text: str) -> bool:
    """True when the text carries a tone or vowel mark (đ, a letter of its own, does not count)."""
    return _COMBINING.search(unicodedata.normalize("NFD", text)) is not None


def has_diacritics(text: str) -> bool:
    """True when the text carries any Vietnamese diacritic (or đ)."""
    return has_tone_marks(text) or "đ" in text.lower()

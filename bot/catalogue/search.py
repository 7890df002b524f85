"""Procedure search over the whole catalogue (TF-IDF on folded text, scikit-learn).

The index is built from the catalogue rows (names of all procedures, plus the colloquial
aliases of the curated ones and the phrases of life events), so a re-imported catalogue is
searchable at once, with no retraining of the NLU model. Queries and documents are folded
(no diacritics, lower case) and abbreviation-expanded; word uni/bi-grams and character n-grams
make the match insensitive to word order and typing without diacritics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.text import ABBREVIATIONS, fold, fold_word, has_diacritics, has_tone_marks, nfc, normalise

_RAW_WORD = re.compile(r"[^\W_]+(?:[.\-/][^\W_]+)*")

# Question words that never name a procedure (folded). Removed from queries before matching.
_STOP_PHRASES = [
    "nhu the nao", "the nao", "lam sao", "lam the nao", "cach nao", "o dau", "cho nao", "bao lau",
    "bao nhieu", "mat phi", "le phi", "chi phi", "giay to", "giay ma", "ho so gom", "can mang",
    "mang theo", "chuan bi", "duoc khong", "co duoc", "truc tuyen", "qua mang", "tren mang", "online",
    "cac buoc", "quy trinh", "mat tien", "ton tien", "het tien", "bao nhieu tien", "mat bao lau", "thu tuc gi", "thu tuc", "can lam", "phai lam", "muon lam",
    "nop o", "o dau", "bao gio", "khi nao", "mat bao", "ngay nao", "xin hoi", "cho hoi",
    "hoi chut", "giup voi", "giup em", "giup toi", "giup minh", "admin oi", "gia dinh",
    "dich vu cong", "thu tuc hanh chinh", "hanh chinh", "tren vneid", "qua vneid", "bang vneid",
    "tren app", "qua app", "tren vssid", "qua vssid", "cong dich vu cong",
    # How long: "mất mấy ngày", "bao nhiêu hôm" ("mất" alone is kept: "mất giấy khai sinh").
    "mat may ngay", "mat may hom", "mat may tuan", "mat may thang", "het may ngay", "mat bao nhieu ngay",
    "mat bao nhieu", "bao nhieu ngay", "bao nhieu hom", "bao nhieu tuan", "bao nhieu thang",
    "may ngay", "may hom", "may tuan", "may thang", "lau khong", "lau ko",
    # When the result comes: "bao giờ có kết quả", "nhận kết quả ở đâu".
    "co ket qua", "nhan ket qua", "tra ket qua", "lay ket qua", "ket qua", "lay duoc", "lay o dau",
    # When it happened: "tuần trước" is not "trước bạ", "năm ngoái" not a procedure's word.
    "tuan truoc", "thang truoc", "nam truoc", "hom truoc", "bua truoc", "luc truoc", "hoi truoc", "truoc day",
    "tuan sau", "thang sau", "nam sau", "tuan toi", "thang toi", "nam toi", "nam ngoai", "hom qua", "hom nay",
]
_STOP_WORDS = set(
    "toi minh em anh chi ban admin ad oi a ah ha nhe nha nhi vay roi thi la va cua cho di "
    "can gi khong co duoc nhung muon phai lam nao hoi giup voi nay kia "
    "gium dum luon vui long xin chao moi nguoi mn ko k z j ok vang da uh um "
    "nop nen hien bay gio theo mang vao ra kieu tui the con sao lau dau ne ni ri hong".split()
)
_FOREIGN = re.compile(r"yeu to nuoc ngoai|khu vuc bien gioi|luu dong|co quan dai dien|o nuoc ngoai")
# A foreign person, country or papers in the message: the "có yếu tố nước ngoài" twin of a civil
# status procedure is the one the law applies (a child of a Japanese father, a Korean bride).
_FOREIGN_PERSON = re.compile(
    r"nuoc ngoai|dai su quan|lanh su|ngoai quoc|viet kieu|quoc tich|"
    r"\b(?:han quoc|nguoi han|dai loan|nhat ban|nguoi nhat|trung quoc|nguoi hoa|my|hoa ky|"
    r"duc|phap|uc|anh quoc|canada|lao|campuchia|thai lan|singapore|nga|tay)\b"
)
_FOREIGN_QUERY = re.compile(rf"bien gioi|luu dong|{_FOREIGN_PERSON.pattern}")
_FOREIGN_TWIN = " co yeu to nuoc ngoai"  # "đăng ký khai sinh có yếu tố nước ngoài"
_PROCEDURE_PREFIX = re.compile(r"^thu tuc ")
# Social-insurance entitlements are published twice: by BHXH's own ministry (Finance, since BHXH
# moved under it in March 2025), whose version citizens file, and by the Ministry of Home Affairs
# (policy side, field "Bảo hiểm xã hội"). Namesakes of the second kind come after the first.
_SUPERSEDED = {("Bộ Nội vụ", "Bảo hiểm xã hội")}
# Correction procedures ("cải chính hộ tịch", "đính chính giấy chứng nhận", "chỉnh sửa văn bằng"):
# lifted when the message asks to correct something written wrong ("ghi sai", "sửa lại").
_CORRECTION_NAME = re.compile(r"\b(?:cai chinh|dinh chinh|chinh sua|sai sot|dieu chinh thong tin)\b")
# Specific actions of procedure names (folded): a message that names one lifts the procedures
# whose name does ("gia hạn giấy phép xây dựng" is not "cấp giấy phép xây dựng"). Re-issues and
# corrections have their own rules above. (message words, name words)
_ACTIONS = [
    (r"gia han", r"gia han"),
    (r"xoa", r"xoa"),
    (r"tach", r"tach"),
    (r"trinh bao|bao mat", r"trinh bao"),
    (r"truy linh|chua (?:linh|nhan)", r"truy linh"),
    (r"uy quyen|(?:linh|nhan) thay", r"uy quyen"),
    (r"tam (?:ngung|nghi|dung)", r"tam ngung|tam dung"),
    (r"chuyen (?:noi|di|den|huong)", r"chuyen (?:noi|di|den|huong)"),
]
_ACTIONS_COMPILED = [(re.compile(rf"\b(?:{q})\b"), re.compile(rf"\b(?:{n})\b")) for q, n in _ACTIONS]
# "8 tuổi": the age decides between the variants of a procedure (ID card under/over 14, ...).
_AGE = re.compile(r"\b(\d{1,3}) ?tuoi\b")
_LONGEST_PHRASE = 10  # words of a name or alias looked for whole in a message
_CODE = re.compile(r"\b[1-3]\.\d{6}(?:\.[a-z0-9]{2,6})?\b")
# Chat abbreviations that are also words of procedure names: "hong" (hồng: sổ hồng), "ty" (công ty).
# Acronyms of official names are spelled out so that names and messages meet.
_SEARCH_ABBREVIATIONS = {
    **{k: v for k, v in ABBREVIATIONS.items() if k not in {"hong", "ty"}},
    "dsphsk": "duong suc phuc hoi suc khoe",
    "tnld": "tai nan lao dong",
    "bnn": "benh nghe nghiep",
    "npt": "nguoi phu thuoc",
    "tncn": "thu nhap ca nhan",
    "tnhh": "trach nhiem huu han",
}
# Re-registration and re-issue namesakes ("đăng ký lại khai sinh"): only when the message says so.
_AGAIN = re.compile(r"\b(?:dang ky lai|cap lai|lam lai|cap doi)\b|^doi\b")
# A paper lost is issued again ("cấp lại"); one whose details changed is exchanged ("cấp đổi", "đổi");
# one damaged is exchanged too (land certificate, vehicle registration, driving licence), except the
# thẻ căn cước, which is issued again (Luật Căn cước 2023, Art. 24(2)(a)).
_REISSUE_NAME = re.compile(r"\bcap lai\b")
_EXCHANGE_NAME = re.compile(r"\bcap doi\b|^doi\b")
_DAMAGED_REISSUED_NAME = re.compile(r"\bthe can cuoc\b")


@dataclass(frozen=True)
class Entry:
    code: str
    name: str
    portal_url: str = ""
    slug: Optional[str] = None
    aliases: Tuple[str, ...] = ()
    local: bool = False  # done at the commune level: where citizens go
    superseded: bool = False  # a policy-side duplicate of a procedure citizens file elsewhere


# Agencies of the commune level. The national list predates the two-tier reform of 1 July 2025:
# district-level agencies ("Phòng Tư pháp", "Công an huyện") no longer exist, so a namesake done
# by them is out of date where a commune-level one exists.
_LOCAL_AGENCY = re.compile(r"cấp xã|xã, phường|công an xã|ủy ban nhân dân xã|ubnd xã", re.IGNORECASE)


def is_local(agencies: Iterable[str]) -> bool:
    """Whether a procedure is done at the commune level, near citizens, from its agencies."""
    return any(_LOCAL_AGENCY.search(agency) for agency in agencies)


def is_superseded(ministry: str, field: str) -> bool:
    """Whether a procedure is a duplicate publication of one citizens file with another agency."""
    return (ministry.strip(), field.strip()) in _SUPERSEDED


@dataclass(frozen=True)
class Hit:
    code: str
    name: str
    score: float
    slug: Optional[str] = None
    portal_url: str = ""

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "score": round(self.score, 4),
            "slug": self.slug,
            "portal_url": self.portal_url,
        }


# Stop words as typed with diacritics: "bạn" is a stop word, "bản" (bản sao) is not, though both
# fold to "ban"; the folded list above applies only to words typed without diacritics.
_STOP_WORDS_MARKED = set(
    "tôi mình em anh chị bạn ơi à ạ nhé nha nhỉ vậy rồi thì là và của cho đi cần gì không có được "
    "những muốn phải làm nào hỏi giúp với này kia giùm dùm luôn vui lòng xin chào mọi người ừ ừm "
    "nộp nên hiện bây giờ theo mang vào ra kiểu tui thế còn lâu đâu nè ni rì dạ vâng đã hông".split()
)

# A token: (folded word, the word as typed in lower case when it carried diacritics, else "").
Token = Tuple[str, str]
_CONTENT = "\x00"  # marks words that came from a synonym: never dropped


def _tokens(text: str) -> List[Token]:
    out: List[Token] = []
    for word in _RAW_WORD.findall(nfc(text).lower()):
        folded = fold_word(word)
        # A word typed with tone marks is a word, not a chat abbreviation ("hồng", "tý", "à");
        # đ alone does not count: "đc", "đk" are abbreviations.
        marked_word = has_tone_marks(word)
        expanded = [folded] if marked_word else _SEARCH_ABBREVIATIONS.get(folded, folded).split()
        marked = word if has_diacritics(word) and expanded == [folded] else ""
        out.extend((part, marked) for part in expanded)
    return out


@dataclass(frozen=True)
class _Cue:
    """Words by which a message says something (it asks again, it asks to correct).

    Folded words are ambiguous ("lai" is lại, again, or lái, drive), so a word typed with
    diacritics counts if it is one of ``marked``, a word typed without if it is one of ``plain``;
    either is left out beside a neighbour that gives it another sense (folded bigrams). Phrases
    count over the folded words.
    """

    marked: FrozenSet[str]
    plain: FrozenSet[str]
    phrases: "re.Pattern[str]"
    plain_not_beside: FrozenSet[str] = frozenset()
    marked_not_beside: FrozenSet[str] = frozenset()

    def said(self, tokens: List[Token], expanded: str = "") -> bool:
        folded = [token[0] for token in tokens]
        for i, (word, marked) in enumerate(tokens):
            if not (marked in self.marked if marked else word in self.plain):
                continue
            before = f"{folded[i - 1]} {word}" if i else ""
            after = f"{word} {folded[i + 1]}" if i + 1 < len(folded) else ""
            if not {before, after} & (self.marked_not_beside if marked else self.plain_not_beside):
                return True
        return bool(self.phrases.search(" ".join(folded) + " " + expanded))


# Doing it again, or a lost or damaged paper. "lại" (again) and "lái" (drive: "bằng lái") fold
# alike: typed with marks, the marks decide; typed without, "lai" beside "xe", "bằng", "phép" is
# driving. Plain "doi" is also đời, đòi, đợi: only in phrases.
_ASKS_AGAIN = _Cue(
    marked=frozenset({"lại", "hỏng", "rách", "cháy", "nát", "đổi"}),
    plain=frozenset({"lai", "hong", "rach", "chay", "nat"}),
    phrases=re.compile(
        r"\b(?:cap lai|dang ky lai|cap doi|doi moi|doi sang|bi mat|danh mat|lam mat|that lac|het han|gia han)\b"
    ),
    plain_not_beside=frozenset({"lai xe", "bang lai", "phep lai"}),
)
# Something written wrong ("ghi sai ngày sinh", "sửa tên"). "sai" has no marks: only in phrases.
# Plain "sua" is also sữa (milk: trà sữa, sữa bột, sữa tươi, sữa đặc); "sửa chữa" is repair.
_ASKS_CORRECTION = _Cue(
    marked=frozenset({"sửa", "nhầm"}),
    plain=frozenset({"sua", "nham"}),
    phrases=re.compile(r"\b(?:dinh chinh|cai chinh|chinh sua|sai sot|ghi sai|bi sai|sai ten|sai ngay)\b"),
    plain_not_beside=frozenset({"tra sua", "sua bot", "sua tuoi", "sua dac", "sua chua"}),
    marked_not_beside=frozenset({"sua chua"}),
)


# A paper lost or stolen, over the folded message with its punctuation ("bố mất, thẻ ..." is not
# "mất thẻ"). "mất" alone is also died, or takes (time, money): only in phrases.
_SAYS_LOST = re.compile(
    r"\b(?:bi mat|danh mat|lam mat|that lac|danh roi|roi mat|bi trom|bi lay cap|mat trom|"
    r"mat (?:the|so|giay|bang|ca vet|cavet|cccd|can cuoc|ho chieu|bien|gplx|dang ky))\b"
)
# A paper damaged ("gãy đôi", "mờ hết chữ", "rách nát"). Not expired: an expired driving licence is
# exchanged, one long overdue issued again after a new test.
_SAYS_DAMAGED = _Cue(
    marked=frozenset({"hỏng", "rách", "nát", "mờ", "gãy", "ố", "nhòe", "bong"}),
    plain=frozenset({"rach", "nat", "gay"}),
    phrases=re.compile(
        r"\b(?:hu hong|bi hong|bi mo|mo het|bi rach|rach nat|bi gay|gay doi|bi uot|bi nhoe|bi bong)\b"
    ),
    plain_not_beside=frozenset({"lai xe", "bang lai"}),
)
# A paper whose details changed or are wrong ("đổi họ tên", "sai thông tin"): exchanged.
_SAYS_CHANGED = re.compile(r"\b(?:sai thong tin|thong tin bi sai|doi ten|doi ho ten|thay doi thong tin)\b")


def _folded(text: str) -> str:
    """A phrase's folded words, as queries are read (synonym keys and values)."""
    return " ".join(token[0] for token in _tokens(text))


def _replace_phrases(
    tokens: List[Token],
    table: Dict[str, Optional[str]],
    longest: int,
    marks: Optional[Dict[str, Tuple[str, ...]]] = None,
) -> List[Token]:
    """Phrase replacement on folded words; None drops the phrase.

    The phrases chosen cover as many words as possible ("hồ sơ bảo hiểm thất nghiệp" is "bảo
    hiểm thất nghiệp", not "sổ bảo hiểm" from the folded "so bao hiem"); on a tie, the earlier and
    longer one. ``marks`` gives a phrase's words as written with diacritics: a word typed with
    marks must have the same ones ("hồ sơ" is not "sổ"). Replaced text is emitted as content
    tokens, never matched or dropped again.
    """
    size = len(tokens)
    covered = [0] * (size + 1)  # most words covered by phrases from position i on
    taken = [0] * (size + 1)  # length of the phrase taken at i (0: the word is kept)
    for i in range(size - 1, -1, -1):
        covered[i], taken[i] = covered[i + 1], 0
        for n in range(min(longest, size - i), 0, -1):
            if any(t[1] == _CONTENT for t in tokens[i : i + n]):
                continue  # words that came from a synonym stay as they are ("hỗ trợ chi phí mai táng")
            phrase = " ".join(t[0] for t in tokens[i : i + n])
            if phrase not in table or not _marks_agree(tokens[i : i + n], (marks or {}).get(phrase)):
                continue
            total = n + covered[i + n]
            if total > covered[i] or (total == covered[i] and not taken[i]):  # a phrase over a kept word
                covered[i], taken[i] = total, n
    out: List[Token] = []
    i = 0
    while i < size:
        n = taken[i]
        if n:
            replacement = table[" ".join(t[0] for t in tokens[i : i + n])]
            if replacement:
                out.extend((word, _CONTENT) for word in replacement.split())
            i += n
        else:
            out.append(tokens[i])
            i += 1
    return out


def _marks_agree(tokens: List[Token], written: Optional[Tuple[str, ...]]) -> bool:
    """Whether words typed with diacritics have those of the phrase as written (if it has any)."""
    if not written:
        return True
    return all(
        not marked or not has_diacritics(word) or marked == word
        for (_, marked), word in zip(tokens, written)
    )


_STOP_TABLE: Dict[str, Optional[str]] = {phrase: None for phrase in _STOP_PHRASES}
_STOP_LONGEST = max(len(p.split()) for p in _STOP_PHRASES)


# Question and filler words that never belong to a procedure's name, even beside one of its words.
_ALWAYS_STOP = set("khong ko k a ah nhe oi gi j z ad admin".split())
# ... and, typed with their marks, words that are never part of a name: "thì" is not "thi" (exam),
# "tôi" not "tội", "em" not "êm".
_ALWAYS_STOP_MARKED = set(
    "thì tôi mình bạn em anh chị của là và nhé nha nhỉ vậy hả à ạ ơi muốn rồi gì dạ vâng nè tui giùm dùm".split()
)


def _is_stop(token: Token) -> bool:
    folded, marked = token
    if marked == _CONTENT:
        return False
    return marked in _STOP_WORDS_MARKED if marked else folded in _STOP_WORDS


def _drop_stop_words(tokens: List[Token], known_bigrams: set) -> str:
    """Drop question words, except inside a known phrase with a content word ("thế chấp")."""
    tokens = _replace_phrases(tokens, _STOP_TABLE, _STOP_LONGEST)
    kept = []
    for i, token in enumerate(tokens):
        if _is_stop(token):
            word = token[0]
            before = tokens[i - 1] if i else None
            after = tokens[i + 1] if i + 1 < len(tokens) else None
            # A stop word is kept next to a content word it forms a known phrase with ("thế chấp").
            in_phrase = word not in _ALWAYS_STOP and token[1] not in _ALWAYS_STOP_MARKED and (
                (before is not None and not _is_stop(before) and f"{before[0]} {word}" in known_bigrams)
                or (after is not None and not _is_stop(after) and f"{word} {after[0]}" in known_bigrams)
            )
            if not in_phrase:
                continue
        kept.append(token[0])
    return " ".join(kept)


def clean_query(text: str, known_bigrams: Optional[set] = None) -> str:
    """Folded query without question words."""
    return _drop_stop_words(_tokens(text), known_bigrams or set())


def _dot(columns, query) -> np.ndarray:
    """Every row's dot product with a one-row sparse query, from the query's columns only.

    ``columns`` is in CSC form: slicing the query's few columns and multiplying by their weights
    costs what those columns hold, where a sparse-by-sparse product also walks the result twice.
    """
    query = query.tocsr()
    return np.asarray(columns[:, query.indices] @ query.data, dtype=np.float32).ravel()


@dataclass
class SearchIndex:
    entries: Sequence[Entry]
    life_events: Sequence[dict] = ()
    synonyms: Dict[str, List[str]] = field(default_factory=dict)
    curated_bonus: float = 0.06
    foreign_penalty: float = 0.12
    again_penalty: float = 0.06  # re-issue namesakes when the message does not ask again
    again_bonus: float = 0.04  # ... and when it does ("đăng ký lại", "bị cháy", "thất lạc")
    lost_or_worn_bonus: float = 0.06  # "cấp lại" for a lost paper, "cấp đổi" for a changed or damaged one
    correction_bonus: float = 0.08  # correction procedures when the message asks to correct ("ghi sai")
    action_bonus: float = 0.06  # a specific action named in the message ("gia hạn", "tách", "trình báo")
    superseded_penalty: float = 0.08  # more than a curated record counts: the version citizens file first
    local_bonus: float = 0.02
    phrase_bonus: float = 0.04  # a name or alias found whole in the message (full for 4+ words)
    weights: Tuple[float, float, float] = (0.35, 0.3, 0.35)  # word cosine, word coverage, char cosine
    entry_coverage_weight: float = 0.4  # share of the query's words found in any name or alias of the entry
    name_weight: float = 0.3  # share of the official name's own score next to the best variant

    def __post_init__(self) -> None:
        self._by_ref = {}
        for index, entry in enumerate(self.entries):
            self._by_ref[entry.code] = index
            if entry.slug:
                self._by_ref[entry.slug] = index
        self._synonym_table: Dict[str, Optional[str]] = {
            _folded(k): " ".join(_folded(v) for v in values) for k, values in self.synonyms.items()
        }
        self._synonym_longest = max((len(k.split()) for k in self._synonym_table), default=1)
        self._synonym_marks: Dict[str, Tuple[str, ...]] = {
            _folded(k): tuple(_RAW_WORD.findall(nfc(k).lower())) for k in self.synonyms
        }
        texts: List[str] = []
        owners: List[int] = []
        name_rows: List[int] = []
        self._phrases: Dict[str, List[int]] = {}  # a name or alias, rewritten -> its entries
        for index, entry in enumerate(self.entries):
            name_rows.append(len(texts))
            for text in (entry.name, *entry.aliases):
                texts.append(self._rewrite(text))
                owners.append(index)
                if 2 <= len(texts[-1].split()) <= _LONGEST_PHRASE:
                    self._phrases.setdefault(texts[-1], []).append(index)
        variant_rows = len(texts)
        for event in self.life_events:
            refs = [self._by_ref[r] for r in event.get("procedures", []) if r in self._by_ref]
            if refs:
                for phrase in event.get("phrases", []):
                    texts.append(self._rewrite(phrase))
                    owners.append(refs[0])
        self._owners = np.asarray(owners, dtype=np.int64)
        self._name_rows = np.asarray(name_rows, dtype=np.int64)
        self._word = TfidfVectorizer(
            analyzer="word", ngram_range=(1, 2), token_pattern=r"\S+", sublinear_tf=True, dtype=np.float32
        )
        self._char = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, dtype=np.float32
        )
        # Column-major: a query touches only the columns of its own terms (see _dot).
        self._word_matrix = self._word.fit_transform(texts).tocsc()
        self._char_matrix = self._char.fit_transform(texts).tocsc()
        self._bigrams = {term for term in self._word.vocabulary_ if " " in term}
        self._word_presence = (self._word_matrix > 0).astype(np.float32).tocsc()
        # Entry x term: 1 where a name or alias of the entry holds the term (life-event phrases
        # describe situations, not the procedure: left out).
        owner_of = sparse.csr_matrix(
            (np.ones(variant_rows, dtype=np.float32), (self._owners[:variant_rows], np.arange(variant_rows))),
            shape=(len(self.entries), len(texts)),
        )
        entry_presence = (owner_of @ self._word_presence.tocsr()).tocsc()
        entry_presence.data[:] = 1.0
        self._entry_presence = entry_presence
        prior = np.zeros(len(self.entries), dtype=np.float32)
        for index, entry in enumerate(self.entries):
            if entry.slug:  # a curated record: the common citizen procedure
                prior[index] += self.curated_bonus
            elif entry.local:  # among other namesakes, the one done at the commune level
                prior[index] += self.local_bonus
            if entry.superseded and not entry.slug:
                prior[index] -= self.superseded_penalty
        self._prior = prior
        names = [normalise(entry.name) for entry in self.entries]
        self._foreign = np.array([bool(_FOREIGN.search(name)) for name in names])
        self._again = np.array([bool(_AGAIN.search(name)) for name in names])
        reissue = np.array([bool(_REISSUE_NAME.search(name)) for name in names])
        exchange = np.array([bool(_EXCHANGE_NAME.search(name)) for name in names])
        # +1 for a "cấp lại" namesake, -1 for a "cấp đổi" one, 0 elsewhere ("Đổi, cấp lại ...": both)
        self._towards_reissue = (reissue & ~exchange).astype(np.float32) - (exchange & ~reissue)
        # Which way a damaged paper goes: issued again (the thẻ căn cước) or exchanged (the others).
        damaged_reissued = np.array([bool(_DAMAGED_REISSUED_NAME.search(name)) for name in names])
        self._damaged_direction = np.where(damaged_reissued, 1.0, -1.0).astype(np.float32)
        # Domestic procedures with a foreign-element twin ("đăng ký khai sinh" for "... có yếu tố
        # nước ngoài"): the twin replaces them when the message speaks of a foreigner.
        plain_names = [_PROCEDURE_PREFIX.sub("", name) for name in names]
        twins = {name[: -len(_FOREIGN_TWIN)] for name in plain_names if name.endswith(_FOREIGN_TWIN)}
        self._domestic_twin = np.array([name in twins for name in plain_names])
        self._correction = np.array([bool(_CORRECTION_NAME.search(name)) for name in names])
        self._actions = [np.array([bool(n.search(name)) for name in names]) for _, n in _ACTIONS_COMPILED]
        self._under14 = np.array(["duoi 14 tuoi" in name for name in names])
        self._under6 = np.array(["duoi 6 tuoi" in name for name in names])
        self._over14 = np.array(["tu du 14 tuoi" in name for name in names])

    def _official(self, tokens: List[Token]) -> List[Token]:
        """Tokens with colloquial phrases in official wording."""
        return _replace_phrases(tokens, self._synonym_table, self._synonym_longest, self._synonym_marks)

    def _rewrite(self, text: str) -> str:
        """Folded words of a document text, colloquial phrases in official wording (as queries are)."""
        return " ".join(token[0] for token in self._official(_tokens(text)))

    def _expanded(self, tokens: List[Token]) -> str:
        """A query's words, colloquial phrases replaced by the official wording, question words dropped."""
        return _drop_stop_words(self._official(tokens), self._bigrams)

    def expand(self, query: str) -> str:
        """The query's words, colloquial phrases replaced by the official wording, question words dropped."""
        return self._expanded(_tokens(query))

    def _code_hits(self, query: str) -> List[Hit]:
        hits = []
        for code in _CODE.findall(query.lower()):
            entry = self.resolve(code) or self.resolve(code.upper())
            if entry is not None:
                hits.append(Hit(entry.code, entry.name, 1.0, entry.slug, entry.portal_url))
        return hits

    def search(self, query: str, top: int = 3) -> List[Hit]:
        code_hits = self._code_hits(query)
        if code_hits:  # an official code names the procedure outright
            return code_hits[:top]
        tokens = _tokens(query)
        text = self._expanded(tokens)
        if not text:
            return []
        scores = self._scores(query, tokens, text)
        top = max(1, min(top, len(self.entries)))
        candidates = np.argpartition(-scores, top - 1)[:top] if len(scores) > top else np.arange(len(scores))
        ranked = sorted(candidates, key=lambda i: -scores[i])
        return [
            Hit(
                code=self.entries[i].code,
                name=self.entries[i].name,
                score=float(scores[i]),
                slug=self.entries[i].slug,
                portal_url=self.entries[i].portal_url,
            )
            for i in ranked
            if scores[i] > 0
        ]

    def _scores(self, query: str, tokens: List[Token], text: str) -> np.ndarray:
        """Every entry's score for a query, its tokens and its expanded words."""
        query_word = self._word.transform([text])
        word = _dot(self._word_matrix, query_word)
        # Share of the query's weight that a name covers: rare words ("karaoke") count even in
        # long names, which cosine similarity alone would punish.
        total = query_word.sum()
        coverage = _dot(self._word_presence, query_word) / total if total else word
        char = _dot(self._char_matrix, self._char.transform([text]))
        w_word, w_coverage, w_char = self.weights
        variant_scores = w_word * word + w_coverage * coverage + w_char * char
        scores = np.zeros(len(self.entries), dtype=np.float32)
        np.maximum.at(scores, self._owners, variant_scores)
        if self.name_weight:
            scores = (1 - self.name_weight) * scores + self.name_weight * variant_scores[self._name_rows]
        matched = scores > 0.05
        # What all the entry's names and aliases together say of the query ("lương hưu" in one,
        # "tài khoản ngân hàng" in another): a specific procedure over a general one that shares a word.
        entry_coverage = _dot(self._entry_presence, query_word) / total if total else 0.0
        scores = scores + (self._prior + self.entry_coverage_weight * entry_coverage) * matched
        scores = scores + self._phrase_scores(text)
        # Namesakes that differ by age ("dưới 14 tuổi"): the age in the message pushes down the
        # band it is not in (a 10-year-old is not "từ đủ 14 tuổi") and, for a child, lifts the
        # child's band among close candidates (only those near the best score).
        age = _AGE.search(normalise(query))
        if age and int(age.group(1)) < 14:
            # Only when the message is about a banded procedure: "hộ chiếu cho con 5 tuổi" is not
            # the under-14 ID card.
            banded = self._over14 | self._under14 | self._under6
            about_banded = bool(banded[int(np.argmax(scores))])
            scores = scores - self.foreign_penalty * (self._over14 & matched)
            if about_banded:
                close = scores >= 0.8 * scores.max()
                scores = scores + self.foreign_penalty * (self._age_band(int(age.group(1))) & close)
        elif age:
            scores = scores - self.foreign_penalty * ((self._under14 | self._under6) & matched)
        # Namesakes with a foreign element (or mobile, border, consular): only when asked for;
        # for a foreign person, their domestic twins go down as much.
        sign = 1.0 if _FOREIGN_QUERY.search(text) else -1.0
        scores = scores + sign * self.foreign_penalty * (self._foreign & matched)
        if _FOREIGN_PERSON.search(text):
            scores = scores - self.foreign_penalty * (self._domestic_twin & matched)
        # Re-registration and re-issue namesakes: pushed down unless the message speaks of
        # doing it again, or of a lost or damaged paper, and then lifted.
        if _ASKS_AGAIN.said(tokens, text):
            scores = scores + self.again_bonus * (self._again & matched)
        else:
            scores = scores - self.again_penalty * (self._again & matched)
        direction = self._lost_or_worn_direction(query, tokens)
        if direction is not None:
            scores = scores + self.lost_or_worn_bonus * direction * self._towards_reissue * matched
        for (asked, _), named in zip(_ACTIONS_COMPILED, self._actions):
            if asked.search(text):
                scores = scores + self.action_bonus * (named & matched)
        if _ASKS_CORRECTION.said(tokens):
            scores = scores + self.correction_bonus * (self._correction & matched)
        return scores

    def _lost_or_worn_direction(self, query: str, tokens: List[Token]) -> Optional[Union[float, np.ndarray]]:
        """+1 towards "cấp lại" (a lost paper), -1 towards "cấp đổi" (changed details), per entry for a
        damaged paper; None when the message says none of these, or says lost and something else."""
        folded = fold(query)
        lost, changed = bool(_SAYS_LOST.search(folded)), bool(_SAYS_CHANGED.search(folded))
        damaged = _SAYS_DAMAGED.said(tokens)
        if lost:
            return None if changed or damaged else 1.0
        if changed:
            return -1.0
        return self._damaged_direction if damaged else None

    def _held_names(self, text: str) -> Dict[int, int]:
        """Entries whose whole name or alias the expanded text holds -> the longest one's word count."""
        held: Dict[int, int] = {}
        words = text.split()
        for n in range(2, min(_LONGEST_PHRASE, len(words)) + 1):
            for start in range(len(words) - n + 1):
                for index in self._phrases.get(" ".join(words[start : start + n]), ()):
                    held[index] = n  # n grows: the last one seen is the longest
        return held

    def _phrase_scores(self, text: str) -> np.ndarray:
        """A bonus for entries whose whole name or alias the message holds ("đăng ký tạm trú"),
        growing with the phrase's length up to four words."""
        bonus = np.zeros(len(self.entries), dtype=np.float32)
        for index, n in self._held_names(text).items():
            bonus[index] = self.phrase_bonus * min(1.0, n / 4)
        return bonus

    def holds_name(self, query: str, ref: str) -> bool:
        """Whether the message holds a whole name or alias of this procedure ("đăng ký tạm trú")."""
        index = self._by_ref.get(ref)
        return index is not None and index in self._held_names(self.expand(query))

    def _age_band(self, age: int) -> np.ndarray:
        """Entries whose name is for children of this age (under 14, under 6)."""
        return self._under14 | (self._under6 if age < 6 else False)

    def resolve(self, ref: str) -> Optional[Entry]:
        index = self._by_ref.get(ref)
        return None if index is None else self.entries[index]

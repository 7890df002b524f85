"""A Rasa tokenizer around underthesea's Vietnamese word segmentation.

Every token is an exact slice of the message text (entity offsets depend on it), however the
text is typed: decomposed Unicode, repeated spaces, emoji, very long or empty text. The token's
lemma is the folded, abbreviation-expanded form of its syllables, which the featurizers use
(``use_lemma``), so "giấy khai sinh", "giay khai sinh" and "gks" share features.
"""

from __future__ import annotations

import logging
import re
from itertools import islice
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.text import expand_abbreviations, fold_word, nfc

logger = logging.getLogger(__name__)

# Pieces of text that are never split: code-like runs (1.001193, 000.00.22.H39-261118-0007,
# 12/03/2025), words (letters, digits and combining marks), then any other single character.
_PIECE = re.compile(
    r"[^\W_](?:[\w\u0300-\u036f]*)(?:[.\-/][^\W_][\w\u0300-\u036f]*)+"
    r"|[\w\u0300-\u036f]+"
    r"|[^\s]",
    re.UNICODE,
)
_WORDLIKE = re.compile(r"[\w\u0300-\u036f]", re.UNICODE)

# Only the beginning of a very long message is understood: a citizen's question fits in far fewer
# pieces (words, numbers, punctuation), and bounded sequences keep the classifier's time and memory
# flat whatever arrives (unbounded lengths fragment the native heap; tests/integration/test_fuzz.py).
MAX_PIECES = 150


def _pieces(text: str, limit: int = MAX_PIECES) -> List[Tuple[int, int]]:
    return [(m.start(), m.end()) for m in islice(_PIECE.finditer(text), limit)]


def _segment(normalised: List[str]) -> Optional[List[str]]:
    """underthesea words over NFC pieces joined by spaces; None if it fails."""
    from underthesea import word_tokenize  # imported lazily: loading the model is I/O

    try:
        return word_tokenize(" ".join(normalised), use_token_normalize=False)
    except Exception:  # pragma: no cover - defensive: never crash on user text
        logger.exception("underthesea failed; falling back to whitespace pieces")
        return None


def group_pieces(pieces: List[str], segmented: Optional[List[str]]) -> List[Tuple[int, int]]:
    """Group consecutive pieces into words following the segmenter's output.

    Returns (first_piece, last_piece_exclusive) index pairs. A segmenter word that cuts a piece
    in two is merged with its neighbours until both sides end on a piece boundary; any
    disagreement in characters falls back to one word per piece.
    """
    if not segmented:
        return [(i, i + 1) for i in range(len(pieces))]
    groups: List[Tuple[int, int]] = []
    piece_index, piece_pos = 0, 0  # position inside the current piece (NFC characters)
    group_start = 0
    try:
        for word in segmented:
            for char in word.replace(" ", ""):
                while piece_pos >= len(pieces[piece_index]):
                    piece_index, piece_pos = piece_index + 1, 0
                if pieces[piece_index][piece_pos] != char:
                    raise ValueError("segmenter changed the text")
                piece_pos += 1
            if piece_pos == len(pieces[piece_index]):  # the word ends on a piece boundary
                groups.append((group_start, piece_index + 1))
                piece_index, piece_pos = piece_index + 1, 0
                group_start = piece_index
        if group_start != len(pieces):
            raise ValueError("segmenter dropped text")
    except (ValueError, IndexError):
        return [(i, i + 1) for i in range(len(pieces))]
    return groups


def lemma_of(syllables: List[str]) -> str:
    """Folded, abbreviation-expanded lemma of a token made of these syllables."""
    return " ".join(expand_abbreviations(fold_word(s) for s in syllables))


def tokenize_text(text: str) -> List[Token]:
    """Tokens of ``text``: exact slices, with folded lemmas; punctuation and emoji dropped."""
    spans = _pieces(text)
    if not spans:
        return []
    normalised = [nfc(text[start:end]) for start, end in spans]
    segmented = _segment(normalised)
    tokens: List[Token] = []
    for first, last in group_pieces(normalised, segmented):
        word_spans = [s for s in spans[first:last] if _WORDLIKE.search(text[s[0] : s[1]])]
        if not word_spans:
            continue  # punctuation or emoji only
        start, end = spans[first][0], spans[last - 1][1]
        # trim leading/trailing punctuation pieces the segmenter glued on
        start, end = word_spans[0][0], word_spans[-1][1]
        syllables = [nfc(text[s:e]) for s, e in word_spans]
        tokens.append(Token(text[start:end], start, lemma=lemma_of(syllables)))
    if not tokens:
        stripped = text.strip()
        offset = text.find(stripped)
        tokens.append(Token(stripped, offset, lemma=stripped))
    return tokens


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class VietnameseTokenizer(Tokenizer):
    """Word segmentation with underthesea; tokens are exact slices of the text."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def supported_languages() -> Optional[List[Text]]:
        return ["vi"]

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "VietnameseTokenizer":
        return cls(config)

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        text = message.get(attribute) or ""
        return self._apply_token_pattern(tokenize_text(text))

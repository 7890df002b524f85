"""Decide which procedure a message is about: a code, a search hit, the one in context, or ask."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import List, Optional

from bot.catalogue.search import Hit
from bot.catalogue.service import CatalogueService, Procedure, ProcedureNotFound
from bot.text import fold, words

FOUND = "found"  # a curated procedure: full answers
CATALOGUE_ONLY = "catalogue_only"  # in the national list only: name, agency, link
AMBIGUOUS = "ambiguous"  # several candidates: offer choices
MISSING = "missing"  # nothing in the message nor in context: ask
UNAVAILABLE = "unavailable"  # the catalogue could not be opened (infrastructure down)
OUT_OF_SCOPE = "out_of_scope"  # read as out of scope, and no procedure says otherwise
COURT = "court"  # a matter courts decide ("ly hôn", "khởi kiện"), not an administrative procedure
NOT_UNDERSTOOD = "not_understood"  # the NLU could not classify the message, nor read it as a procedure question

# Scores are TF-IDF cosine similarities, plus up to 0.4 for the share of the message's words that the
# procedure's names and aliases hold together, plus small priors (see bot.catalogue.search).
STRONG_SCORE = 0.42  # a hit this good replaces the procedure in context
WEAK_SCORE = 0.22  # below this, a hit is noise
MARGIN = 0.06  # the best hit must lead the second by this much to be taken without asking
# A message the NLU read as out of scope is answered as a procedure question only on evidence this
# strong, for a curated procedure: short chit-chat ("ban co buon khong" is all words of "buôn bán")
# scores up to about 1.15 against some procedure, "có được hỗ trợ tiền mai táng ko" 1.33.
OVERRULE_SCORE = 1.2
# ... or on a lower score when the message holds a whole name or alias of that procedure
# ("tiền mai táng" is "hỗ trợ chi phí mai táng"). Measured with scripts/evaluate_resolver.py on the
# out-of-scope training examples and the development sets: none of 94 chit-chat messages is overruled.
OVERRULE_NAMED_SCORE = 0.8
# With a procedure in context, a question about one aspect ("có cần công chứng không", "mẫu tờ
# khai ở đâu") often brushes against some other name. It moves to another procedure only when it
# names one: a hit this good, or the hit's whole name or alias in the message, or a long message
# (a situation told in full). Measured with scripts/evaluate_resolver.py: development questions
# asked with another procedure in context, and follow-ups written for the purpose.
SWITCH_SCORE = 1.0
SWITCH_TERMS = 7
# A short question about a paper to bring is about the procedure in context: "có cần (mang) giấy
# khai sinh không", "photo công chứng mấy bản", "bản sao có được không" (unless the paper is to be
# obtained: "có cần xin giấy phép xây dựng không", or the question is how to submit).
PAPER_QUESTION_TERMS = 8
_NEEDS_PAPER = re.compile(
    r"\b(?:can|phai)\b(?:(?!\b(?:xin|lam|dang ky|cap|online|truc tuyen|qua mang|duoc|buoc)\b).)*"
    r"\b(?:khong|ko|k|hong|hok|kg)$"
)
_PAPER_KIND = re.compile(
    r"\b(?:may|bao nhieu) ban\b|\b(?:ban sao|ban chinh|ban goc|photo|cong chung)\b.*\bduoc (?:khong|ko|k)$"
)


@dataclass
class Resolution:
    state: str
    procedure: Optional[Procedure] = None
    choices: List[Hit] = field(default_factory=list)


def _state_of(procedure: Procedure) -> str:
    return FOUND if procedure.detail is not None else CATALOGUE_ONLY


def _covers(catalogue: CatalogueService, best: Hit, runner_up: Hit) -> bool:
    """A linked (liên thông) service leads its own parts: "con mới sinh" is the newborn service,
    which includes the birth registration that comes second."""
    procedure = catalogue.get(best.code)
    if not fold(procedure.name).startswith("lien thong"):
        return False
    return runner_up.code in {part.code for part in catalogue.related(best.code)}


def _leads(catalogue: CatalogueService, hits: List[Hit]) -> bool:
    """The best hit is clear of the next one (or is a linked service that includes it)."""
    return len(hits) == 1 or hits[0].score - hits[1].score >= MARGIN or _covers(catalogue, hits[0], hits[1])


def _asks_about_a_paper(text: str, terms: int) -> bool:
    """Whether a follow-up asks about a paper to bring rather than naming a procedure to do."""
    folded = " ".join(words(text))
    return bool(_PAPER_KIND.search(folded) or (terms <= PAPER_QUESTION_TERMS and _NEEDS_PAPER.search(folded)))


def _names_another(catalogue: CatalogueService, text: str, hits: List[Hit], terms: int) -> bool:
    """With a procedure in context: whether an aspect question names another procedure."""
    if not hits or hits[0].score < STRONG_SCORE or _asks_about_a_paper(text, terms):
        return False
    return hits[0].score >= SWITCH_SCORE or terms >= SWITCH_TERMS or catalogue.holds_name(text, hits[0].code)


def overrule_out_of_scope(catalogue: CatalogueService, text: str) -> Resolution:
    """A message read as out of scope: a curated procedure if the search is sure of it, else out of scope."""
    hits = catalogue.search(text, top=3)
    if not hits or not _leads(catalogue, hits):
        return Resolution(OUT_OF_SCOPE)
    best = hits[0]
    sure = best.score >= OVERRULE_SCORE or (
        best.score >= OVERRULE_NAMED_SCORE and catalogue.holds_name(text, best.code)
    )
    procedure = catalogue.get(best.code)
    if sure and procedure.detail is not None:
        return Resolution(FOUND, procedure)
    return Resolution(OUT_OF_SCOPE)


def resolve(
    catalogue: CatalogueService,
    text: str,
    code: Optional[str] = None,
    context_code: Optional[str] = None,
    follow_up: bool = False,
) -> Resolution:
    """Resolve the procedure of one user message.

    ``code`` is an official code given explicitly (typed, or sent by a choice button);
    ``context_code`` the procedure the conversation is already about; ``follow_up`` says the
    message asks about one aspect (documents, fee, time, ...) rather than naming what to do.
    """
    if code:
        try:
            procedure = catalogue.get(code)
            return Resolution(_state_of(procedure), procedure)
        except ProcedureNotFound:
            pass
    hits = catalogue.search(text, top=3)
    court = catalogue.court_matter(text)
    # Unless a procedure's own name holds the phrase ("ghi vào sổ hộ tịch việc ly hôn").
    if court and not any(court in fold(hit.name) for hit in hits[:1]):
        return Resolution(COURT)
    context = None
    if context_code:
        try:
            context = catalogue.get(context_code)
        except ProcedureNotFound:
            context = None
    best = hits[0] if hits else None
    if context is not None:
        terms = len(catalogue.query_terms(text))
        # "vậy mất bao lâu?" leaves at most one content word: stay on the context. So does a
        # question about one aspect that names no other procedure ("mẫu tờ khai ở đâu").
        if terms <= 1 or (follow_up and not _names_another(catalogue, text, hits, terms)):
            return Resolution(_state_of(context), context)
    if best is None or best.score < WEAK_SCORE:
        return Resolution(_state_of(context), context) if context else Resolution(MISSING)
    if best.score >= STRONG_SCORE and _leads(catalogue, hits):
        procedure = catalogue.get(best.code)
        return Resolution(_state_of(procedure), procedure)
    if context is not None and (best.score < STRONG_SCORE or context.code in {h.code for h in hits}):
        return Resolution(_state_of(context), context)
    if len(hits) == 1:
        procedure = catalogue.get(best.code)
        return Resolution(_state_of(procedure), procedure)
    return Resolution(AMBIGUOUS, choices=hits[:3])

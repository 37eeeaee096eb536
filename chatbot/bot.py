"""The Bot: a knowledge base loaded and indexed once, then ``answer(question)`` per question."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from . import cache, calibrate, knowledge, replies
from .decide import DEFAULT, Thresholds, decide
from .index import Index, Scored, Weights, is_table
from .models import ANSWERED, CLARIFY, DECLINED, Answer, Candidate, KnowledgeBase
from .text import Analyzer

MAX_QUESTION_CHARS = 1000
OFFERED_TOPICS = 3
KEPT_CANDIDATES = 10
_SURROGATE = re.compile("[\ud800-\udfff]")


class Bot:
    """Answers Japanese questions from one knowledge base. Safe to share between threads.

    >>> bot = Bot()                       # the bundled knowledge base
    >>> bot.answer("裏ももがつる").intent
    'cramp'
    """

    def __init__(
        self,
        kb: KnowledgeBase | str | Path | None = None,
        *,
        thresholds: Thresholds = DEFAULT,
        weights: Weights | None = None,
    ):
        """A bot over ``kb``: a KnowledgeBase, a path (see ``from_path``), or by default the
        bundled knowledge base. Knowledge read from files is compiled once, then cached on
        disk until the files change. ``weights``: by default, ``Weights.suited_to(kb)``."""
        self.thresholds = thresholds
        if isinstance(kb, KnowledgeBase):
            self.kb, self.analyzer, self.index = _compile(kb, weights)
        else:
            path = knowledge.bundled_path() if kb is None else Path(kb)
            self.kb, self.analyzer, self.index = _compiled(path, weights)
        self.model = calibrate.Model.fitted(is_table(self.kb))

    @classmethod
    def from_path(cls, path: str | Path, **options) -> "Bot":
        """A bot over another knowledge base: a directory with intents.yaml and knowledge/,
        an intents.yaml file, or a FAQ table (.csv/.tsv/.jsonl with question and answer)."""
        return cls(Path(path), **options)

    def rank(self, question: str, limit: int | None = None) -> list[Scored]:
        """Every intent that shares evidence with the question, best first (the ``limit`` best).
        A question that cannot be asked (see ``answer``) shares evidence with nothing."""
        if self._unusable(question):
            return []
        return self.index.rank(self.analyzer.variants(question), limit)

    def new_words(self, question: str) -> tuple[str, ...]:
        """The question's topical words that no example question uses (腹筋, 株価)."""
        return self.index.query_features(self.analyzer.analyze(question))[2]

    def answer(self, question: str, *, top_k: int = KEPT_CANDIDATES) -> Answer:
        """Answer one question; ``candidates`` keeps the ``top_k`` best-ranked intents.

        A question that cannot be asked is declined with a ``reason``: empty, longer than
        ``MAX_QUESTION_CHARS``, or not valid Unicode (a lone surrogate, as undecodable bytes
        become when read with ``surrogateescape``). A question that is not a ``str`` raises TypeError."""
        problem = self._unusable(question)
        if problem:
            return self.decline(question, problem)
        ranked = self.rank(question, max(top_k, OFFERED_TOPICS))
        first, pair = self.model.probabilities(ranked)
        status = decide(first, pair, self.thresholds)
        top = ranked[0].score if ranked else 0.0
        if status == DECLINED:
            return self._decline(question, ranked, top, confidence=first)
        candidates = self._candidates(ranked)
        if status == CLARIFY:
            text = replies.clarify([c.title for c in candidates[:2]])
            offered = tuple(c.intent for c in candidates[:2])
            return Answer(question, text, CLARIFY, None, top, candidates, offered=offered, confidence=first)
        intent = self.kb.intents[ranked[0].intent]
        text = replies.in_kind(intent, self.analyzer.normalize(question)) if intent.in_kind else intent.answer
        return Answer(
            question, text, ANSWERED, intent.id, top, candidates, intent.source, intent.title, confidence=first
        )

    def _candidates(self, ranked: list[Scored]) -> tuple[Candidate, ...]:
        intents = self.kb.intents
        return tuple(Candidate(intents[s.intent].id, s.score, intents[s.intent].title) for s in ranked)

    def decline(self, question: str, reason: str) -> Answer:
        """A declined answer for a question that cannot be asked (empty, unreadable, too long)."""
        return self._decline(question, [], 0.0, reason)

    def _decline(
        self, question: str, ranked: list[Scored], score: float, reason: str | None = None, confidence: float = 0.0
    ) -> Answer:
        intents = self.kb.intents
        closest_first = dict.fromkeys([s.intent for s in ranked] + list(range(len(intents))))
        content = any(i.source for i in intents)  # offer content topics, not 'hello', where there are some
        offered = [intents[i] for i in closest_first if intents[i].source or not content][:OFFERED_TOPICS]
        text = replies.decline([i.title for i in offered], unreadable=reason is not None)
        return Answer(
            question, text, DECLINED, None, score, self._candidates(ranked), reason=reason,
            offered=tuple(i.id for i in offered), confidence=confidence,
        )

    @staticmethod
    def _unusable(question: str) -> str | None:
        if not isinstance(question, str):
            hint = " (decode the bytes first, e.g. data.decode('utf-8'))" if isinstance(question, (bytes, bytearray)) else ""
            raise TypeError(f"a question must be a str, not {type(question).__name__}{hint}")
        if not question or not question.strip():
            return "empty question"
        if len(question) > MAX_QUESTION_CHARS:
            return f"question longer than {MAX_QUESTION_CHARS} characters ({len(question)})"
        bad = _SURROGATE.search(question)
        if bad:
            return (f"not valid text: undecodable bytes or a lone surrogate at character {bad.start() + 1}"
                    " (send UTF-8)")
        return None


def _compile(kb: KnowledgeBase, weights: Weights | None) -> tuple[KnowledgeBase, Analyzer, Index]:
    weights = weights or Weights.suited_to(kb)
    examples = (q for intent in kb.intents for q in intent.examples)
    analyzer = Analyzer(kb.synonyms, examples, pieces=weights.pieces > 0)
    return kb, analyzer, Index(kb, analyzer, weights)


def _compiled(path: Path, weights: Weights | None) -> tuple[KnowledgeBase, Analyzer, Index]:
    sources = knowledge.read_sources(path)  # read once: the key and the build use the same bytes
    kb, analyzer, index = cache.cached(sources, repr(weights), lambda: _compile(knowledge.load(path, sources), weights))
    here = knowledge.origin(path)
    if kb.origin != here:  # an entry built from the same files in another folder: this is where they are
        object.__setattr__(kb, "origin", here)  # kb is this call's own copy, decoded from the entry
    return kb, analyzer, index


_default: Bot | None = None
_default_lock = threading.Lock()


def default_bot() -> Bot:
    """The bot over the bundled knowledge base, built on first use and shared after."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Bot()
    return _default


def answer(question: str) -> Answer:
    """Answer one question with the bundled knowledge base."""
    return default_bot().answer(question)

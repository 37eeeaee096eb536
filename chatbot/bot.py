"""The Bot: a knowledge base loaded and indexed once, then ``answer(question)`` per question."""

from __future__ import annotations

import threading
from pathlib import Path

from . import cache, knowledge, replies
from .decide import DEFAULT, Thresholds, decide
from .index import Index, Scored, Weights
from .models import ANSWERED, CLARIFY, DECLINED, Answer, Candidate, KnowledgeBase
from .text import Analyzer

MAX_QUESTION_CHARS = 1000
OFFERED_TOPICS = 3
KEPT_CANDIDATES = 10


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

    @classmethod
    def from_path(cls, path: str | Path, **options) -> "Bot":
        """A bot over another knowledge base: a directory with intents.yaml and knowledge/,
        an intents.yaml file, or a FAQ table (.csv/.tsv/.jsonl with question and answer)."""
        return cls(Path(path), **options)

    def rank(self, question: str, limit: int | None = None) -> list[Scored]:
        """Every intent that shares evidence with the question, best first (the ``limit`` best)."""
        return self.index.rank(self.analyzer.variants(question), limit)

    def answer(self, question: str, *, top_k: int = KEPT_CANDIDATES) -> Answer:
        """Answer one question; ``candidates`` keeps the ``top_k`` best-ranked intents."""
        problem = self._unusable(question)
        if problem:
            return self.decline(question, problem)
        ranked = self.rank(question, max(top_k, 2))
        status = decide([s.score for s in ranked[:2]], self.thresholds)
        top = ranked[0].score if ranked else 0.0
        if status == DECLINED:
            return self._decline(question, ranked, top)
        candidates = self._candidates(ranked)
        if status == CLARIFY:
            text = replies.clarify([c.title for c in candidates[:2]])
            return Answer(question, text, CLARIFY, None, top, candidates, offered=tuple(c.intent for c in candidates[:2]))
        intent = self.kb.intents[ranked[0].intent]
        text = replies.in_kind(intent, self.analyzer.normalize(question)) if intent.in_kind else intent.answer
        return Answer(question, text, ANSWERED, intent.id, top, candidates, intent.source, intent.title)

    def _candidates(self, ranked: list[Scored]) -> tuple[Candidate, ...]:
        intents = self.kb.intents
        return tuple(Candidate(intents[s.intent].id, s.score, intents[s.intent].title) for s in ranked)

    def decline(self, question: str, reason: str) -> Answer:
        """A declined answer for a question that cannot be asked (empty, unreadable, too long)."""
        return self._decline(question, [], 0.0, reason)

    def _decline(self, question: str, ranked: list[Scored], score: float, reason: str | None = None) -> Answer:
        intents = self.kb.intents
        closest_first = dict.fromkeys([s.intent for s in ranked] + list(range(len(intents))))
        offered = [intents[i] for i in closest_first if intents[i].source][:OFFERED_TOPICS]
        if not offered:  # a knowledge base without sections: offer its first entries
            offered = list(intents[:OFFERED_TOPICS])
        text = replies.decline([i.title for i in offered], unreadable=reason is not None)
        return Answer(
            question, text, DECLINED, None, score, self._candidates(ranked), reason=reason,
            offered=tuple(i.id for i in offered),
        )

    @staticmethod
    def _unusable(question: str) -> str | None:
        if not question or not question.strip():
            return "empty question"
        if len(question) > MAX_QUESTION_CHARS:
            return f"question longer than {MAX_QUESTION_CHARS} characters ({len(question)})"
        return None


def _compile(kb: KnowledgeBase, weights: Weights | None) -> tuple[KnowledgeBase, Analyzer, Index]:
    weights = weights or Weights.suited_to(kb)
    examples = (q for intent in kb.intents for q in intent.examples)
    analyzer = Analyzer(kb.synonyms, examples, pieces=weights.pieces > 0)
    return kb, analyzer, Index(kb, analyzer, weights)


def _compiled(path: Path, weights: Weights | None) -> tuple[KnowledgeBase, Analyzer, Index]:
    files = knowledge.source_files(path)
    return cache.cached(files, repr(weights), lambda: _compile(knowledge.load(path), weights))


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

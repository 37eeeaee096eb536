"""Values that flow through the bot: frozen dataclasses, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

ANSWERED = "answered"
CLARIFY = "clarify"
DECLINED = "declined"


@dataclass(frozen=True)
class Source:
    """Where a content answer comes from: the article's section, and the reference the article
    cites for that content (None where the article cites none)."""

    section: str
    reference: str | None = None


@dataclass(frozen=True)
class InKind:
    """A reply given instead of the answer when the question holds one of ``words`` (おはよう → おはようございます)."""

    words: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class Intent:
    """One thing people ask, with its curated answer and the example questions that reach it."""

    id: str
    title: str
    answer: str
    examples: tuple[str, ...]
    source: Source | None = None
    in_kind: tuple[InKind, ...] = ()


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything the bot knows: intents in order, and word variants folded before matching."""

    intents: tuple[Intent, ...]
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    origin: str = ""

    def intent(self, intent_id: str) -> Intent:
        for intent in self.intents:
            if intent.id == intent_id:
                return intent
        raise KeyError(intent_id)


@dataclass(frozen=True)
class Candidate:
    """An intent ranked for a question, with its score in 0.0-1.0."""

    intent: str
    score: float
    title: str = ""


@dataclass(frozen=True)
class Answer:
    """The bot's reply to one question.

    ``status`` is ``answered`` (``intent`` holds the id), ``clarify`` (the two closest
    topics are in ``candidates[:2]``) or ``declined`` (``intent`` is None; ``reason``
    says why when the input itself was unusable).
    """

    question: str
    text: str
    status: str
    intent: str | None
    score: float  # the best-ranked topic's match score (0-1), whatever the status
    candidates: tuple[Candidate, ...] = ()
    source: Source | None = None
    title: str | None = None
    reason: str | None = None
    offered: tuple[str, ...] = ()  # clarify / declined: the intent ids the reply lists, in its numbering
    confidence: float = 0.0  # the estimated probability that the best-ranked topic is the right one

    def to_dict(self, top_k: int = 3) -> dict:
        """A JSON-ready record: the fields of the batch and ``--json`` output."""
        return {
            "question": self.question,
            "intent": self.intent,
            "status": self.status,
            "score": round(self.score, 4),
            "confidence": round(self.confidence, 4),
            "answer": self.text,
            "title": self.title,
            "section": self.source.section if self.source else None,
            "reference": self.source.reference if self.source else None,
            "candidates": [
                {"intent": c.intent, "score": round(c.score, 4)} for c in self.candidates[:top_k]
            ],
            "reason": self.reason,
            "offered": list(self.offered),
        }

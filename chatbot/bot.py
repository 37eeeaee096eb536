"""The Bot: a knowledge base loaded and indexed once, then ``answer(question)`` per question."""

from __future__ import annotations

import gc
import threading
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from . import cache, calibrate, knowledge, replies
from .decide import DEFAULT, Thresholds, decide
from .errors import ChatbotError
from .index import Index, Scored, Weights, is_table
from .models import ANSWERED, CLARIFY, DECLINED, Answer, Candidate, KnowledgeBase
from .text import Analyzer

MAX_QUESTION_CHARS = 1000
OFFERED_TOPICS = 3
KEPT_CANDIDATES = 10


@dataclass(frozen=True)
class _Compiled:
    """One knowledge base, compiled: what ``reload`` swaps in whole."""

    kb: KnowledgeBase
    analyzer: Analyzer
    index: Index
    model: calibrate.Model
    content: bool = field(init=False)  # whether any intent has a source: then only those are offered, not 'hello'
    asides: int = field(init=False)  # how many intents a decline never offers (hello, help)

    def __post_init__(self):
        content = any(i.source for i in self.kb.intents)
        object.__setattr__(self, "content", content)
        object.__setattr__(self, "asides", sum(not i.source for i in self.kb.intents) if content else 0)


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
        log_misses: str | Path | None = None,
    ):
        """A bot over ``kb``: a KnowledgeBase, a path (see ``from_path``), or by default the
        bundled knowledge base. Knowledge read from files is compiled once, then cached on
        disk until the files change. ``weights``: by default, ``Weights.suited_to(kb)``.
        ``log_misses``: a file to append each declined and clarify answer to, as JSONL
        (see ``chatbot.misses``); off by default."""
        self.thresholds = thresholds
        self._weights = weights
        self.path = None if isinstance(kb, KnowledgeBase) else knowledge.bundled_path() if kb is None else Path(kb)
        self._now = _build(kb if self.path is None else self.path, weights)
        self.miss_log = None
        if log_misses is not None:
            from .misses import MissLog

            self.miss_log = MissLog(log_misses)

    # The compiled knowledge: a call reads ``self._now`` once (``now = self._now``) and uses
    # only that, so a call that began before a ``reload`` finishes on the knowledge it began with.
    kb = property(lambda self: self._now.kb, doc="the knowledge base answered from")
    analyzer = property(lambda self: self._now.analyzer)
    index = property(lambda self: self._now.index)
    model = property(lambda self: self._now.model)

    def reload(self, path: str | Path | None = None) -> KnowledgeBase:
        """Read the knowledge files again (or those at ``path``), build the new knowledge base
        aside and swap it in at once: answers under way finish on the old one, later ones use
        the new. A broken file raises KnowledgeError and the bot keeps what it knew."""
        path = self.path if path is None else Path(path)
        if path is None:
            raise ChatbotError("this bot was built from a KnowledgeBase in memory; give reload() the path to read")
        compiled = _build(path, self._weights)  # raises before anything changes
        self._now = compiled  # one attribute: a thread sees the old knowledge or the new, never a mix
        self.path = path
        return compiled.kb

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
        now = self._now
        return now.index.rank(now.analyzer.variants(question), limit)

    def new_words(self, question: str) -> tuple[str, ...]:
        """The question's topical words that no example question uses (腹筋, 株価)."""
        now = self._now
        return now.index.query_features(now.analyzer.analyze(question))[2]

    def answer(self, question: str, *, top_k: int = KEPT_CANDIDATES) -> Answer:
        """Answer one question; ``candidates`` keeps the ``top_k`` best-ranked intents.

        A question that cannot be asked is declined with a ``reason``: empty, longer than
        ``MAX_QUESTION_CHARS``, or not valid Unicode (a lone surrogate, as undecodable bytes
        become when read with ``surrogateescape``). A question that is not a ``str`` raises TypeError.
        With ``log_misses``, a declined or clarify answer to a real question is logged."""
        result = self._answer(self._now, question, top_k)
        if self.miss_log is not None and result.status != ANSWERED and not result.reason:
            self.miss_log.record(result)
        return result

    def _answer(self, now: _Compiled, question: str, top_k: int) -> Answer:
        problem = self._unusable(question)
        if problem:
            return self._decline(now, question, [], 0.0, problem)
        # enough to offer the closest topics whatever the top_k, when hello or help ranks among them
        closest = now.index.rank(now.analyzer.variants(question), max(top_k, OFFERED_TOPICS + now.asides))
        ranked = closest[: max(top_k, OFFERED_TOPICS)]
        first, pair = now.model.probabilities(ranked)
        status = decide(first, pair, self.thresholds)
        top = ranked[0].score if ranked else 0.0
        if status == DECLINED:
            return self._decline(now, question, ranked, top, confidence=first, closest=closest)
        candidates = _candidates(now.kb, ranked)
        if status == CLARIFY:
            text = replies.clarify([c.title for c in candidates[:2]])
            offered = tuple(c.intent for c in candidates[:2])
            return Answer(question, text, CLARIFY, None, top, candidates, offered=offered, confidence=first)
        intent = now.kb.intents[ranked[0].intent]
        text = replies.in_kind(intent, now.analyzer.normalize(question)) if intent.in_kind else intent.answer
        return Answer(
            question, text, ANSWERED, intent.id, top, candidates, intent.source, intent.title, confidence=first
        )

    def decline(self, question: str, reason: str) -> Answer:
        """A declined answer for a question that cannot be asked (empty, unreadable, too long)."""
        return self._decline(self._now, question, [], 0.0, reason)

    @staticmethod
    def _decline(
        now: _Compiled, question: str, ranked: list[Scored], score: float, reason: str | None = None,
        confidence: float = 0.0, closest: list[Scored] | None = None,
    ) -> Answer:
        offered = _offered(now.kb.intents, ranked if closest is None else closest, now.content)
        text = replies.decline([i.title for i in offered], unreadable=reason is not None)
        return Answer(
            question, text, DECLINED, None, score, _candidates(now.kb, ranked), reason=reason,
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
        try:
            question.encode("utf-8")  # fails at the first surrogate (no regex to compile for it)
        except UnicodeEncodeError as bad:
            return (f"not valid text: undecodable bytes or a lone surrogate at character {bad.start + 1}"
                    " (send UTF-8)")
        return None


def _offered(intents, ranked: list[Scored], content: bool) -> list:
    """The ``OFFERED_TOPICS`` closest intents, then the first ones (content topics where there
    are some): only as many are looked at as it takes, not the whole of a large FAQ table."""
    offered, seen = [], set()
    for i in chain((s.intent for s in ranked), range(len(intents))):
        if i not in seen and (intents[i].source or not content):
            seen.add(i)
            offered.append(intents[i])
            if len(offered) == OFFERED_TOPICS:
                break
    return offered


def _candidates(kb: KnowledgeBase, ranked: list[Scored]) -> tuple[Candidate, ...]:
    intents = kb.intents
    return tuple(Candidate(intents[s.intent].id, s.score, intents[s.intent].title) for s in ranked)


def _build(kb: KnowledgeBase | Path, weights: Weights | None) -> _Compiled:
    kb, analyzer, index = _compile(kb, weights) if isinstance(kb, KnowledgeBase) else _compiled(kb, weights)
    return _Compiled(kb, analyzer, index, calibrate.Model.fitted(is_table(kb)))


def _compile(kb: KnowledgeBase, weights: Weights | None) -> tuple[KnowledgeBase, Analyzer, Index]:
    weights = weights or Weights.suited_to(kb)
    examples = (q for intent in kb.intents for q in intent.examples)
    analyses: dict = {}  # the examples', analysed as their words are learnt: the index's memo
    analyzer = Analyzer(kb.synonyms, examples, pieces=weights.pieces > 0, analyses=analyses)
    return kb, analyzer, Index(kb, analyzer, weights, analyses)


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


def configured(kb: str | Path | None = None, threshold: float | None = None, log_misses: str | Path | None = None) -> Bot:
    """The bot a command or a server or batch worker answers with, for as long as its process
    lasts: over ``kb`` (None: the bundled knowledge, shared), answering and asking back at
    ``threshold`` (None: the default), with a miss log if asked.

    Loading it (reading the compiled index) makes objects that last as long as the process, tens
    of thousands of them, millions for a large FAQ table: the garbage collector is kept off
    meanwhile, and they are frozen out of its later passes (``gc.freeze``). Walking them again
    and again found nothing to free, and cost milliseconds a command, and up to a second on some
    questions to a 100,000-row table. Frozen objects are never collected: call it once a process,
    not for every reload (``Bot.reload`` does not freeze)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        if threshold is None and log_misses is None:
            bot = Bot.from_path(kb) if kb else default_bot()
        else:
            thresholds = DEFAULT if threshold is None else Thresholds(answer=threshold, clarify=threshold)
            bot = Bot(kb, thresholds=thresholds, log_misses=log_misses)
        gc.freeze()
    finally:
        if collecting:
            gc.enable()
    return bot


def answer(question: str) -> Answer:
    """Answer one question with the bundled knowledge base."""
    return default_bot().answer(question)

"""The searchable index of a knowledge base: built once, then ``rank(analysis)`` per question.

Three kinds of evidence, each a similarity in 0-1 between the question and one example
question, combined per example and maxed per intent, then blended with the question's
similarity to the intent as a whole (all its examples, and its answer at a lower weight):

- words: cosine of content words (normalized form and lemma reading), weighted by
  rarity across intents, so a word only one intent uses decides more than 鍛える does.
  A word the knowledge base has never seen still counts in the question's length, so
  「スクワットのやり方」 stays far from 「ヒップリフトのやり方」. Unknown words are
  matched to known ones by rapidfuzz (ストレチ → ストレッチ) before they count as unknown.
- readings: cosine of katakana-reading bigrams, for hiragana runs Sudachi splits badly.
- rapidfuzz: ``fuzz.ratio`` of the content-word readings, scored over the examples that
  share evidence with the question (``process.extract``).

Each kind of evidence is a ``space.Space`` (an ``arrays.ArraySpace`` for a large knowledge
base when numpy is installed: the same scores); only the best-scored examples (``SHORTLIST``)
are scored in full.
"""

from __future__ import annotations

import heapq
import math
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property, partial
from operator import itemgetter
from typing import Callable

from rapidfuzz import fuzz, process

from . import arrays
from .models import KnowledgeBase
from .space import Space
from .space import best as _best
from .space import values as _values
from .text import Analysis, Analyzer, has_kanji, to_katakana

TYPO_CUTOFF = 80  # rapidfuzz ratio for an unknown word to count as a misspelt known one
TYPO_MIN_LENGTH = 3
# Small and full-size kana are one key apart on a phone and one letter in romaji (スポーッ for
# スポーツ): a typo's reading is compared with the known words' with each small kana made full size.
_SMALL_KANA = str.maketrans("ァィゥェォッャュョヮ", "アイウエオツヤユヨワ")
SHORTLIST = 50  # examples scored in full: the best by words and the best by readings


@dataclass(frozen=True)
class Weights:
    """How the evidence is combined. An example's score is ``words*w + reading*r + fuzz*f``;
    an intent's is ``(1 - topic - pieces)`` times its best example's, plus ``topic`` times the
    similarity to all its examples and its answer together (the answer's words at ``answer``),
    plus ``pieces`` times BM25 over split-mode-A pieces of the same (used for FAQ tables)."""

    words: float = 0.55
    reading: float = 0.3
    fuzz: float = 0.15
    topic: float = 0.4
    answer: float = 0.3
    unknown_noun: float = 2.5  # how much more an unknown noun weighs than the rarest known word
    lean: float = 0.5  # 0.5: cosine; higher: forgive a question the words an example lacks
    topic_lean: float = 0.2
    pieces: float = 0.0  # BM25 over split-mode-A pieces of examples and answer

    @classmethod
    def suited_to(cls, kb: KnowledgeBase) -> "Weights":
        """The defaults for a knowledge base of many examples per intent; for one with about
        one question per entry (a FAQ table), the answer text carries much of the evidence."""
        return cls(topic=0.2, answer=1.0, topic_lean=0.1, pieces=0.5) if is_table(kb) else cls()


def is_table(kb: KnowledgeBase) -> bool:
    """Whether the knowledge base has about one question per entry, as FAQ tables do."""
    return sum(len(i.examples) for i in kb.intents) < 2 * max(len(kb.intents), 1)


@dataclass(frozen=True)
class Scored:
    """One intent's score for a question, with the evidence behind it."""

    intent: int  # position in the knowledge base
    score: float
    example: str  # the example question that scored best
    words: float
    reading: float
    fuzz: float
    unknown: float = 0.0  # the share of the question's words the knowledge base has never used
    measure: Callable[[], float] | None = field(default=None, repr=False, compare=False)

    @cached_property
    def coverage(self) -> float:
        """The share of the question's words this intent uses (examples, title, answer), worked
        out when first read: the decision reads it for the best-ranked intent only."""
        return self.measure() if self.measure is not None else 0.0


def _bigrams(reading: str) -> dict[str, float]:
    """The reading's bigrams, in the order they come (an order that hash seeds do not change)."""
    reading = reading.replace("ー", "")  # バイバーイ, バイバイ
    if len(reading) < 2:
        return {reading: 1.0} if reading else {}
    return dict.fromkeys((reading[i : i + 2] for i in range(len(reading) - 1)), 1.0)


def _columns(postings: list[tuple[int, float]]) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """A feature's postings as two columns, its documents (ascending) and their weights: the
    pairs without an object for each (zip walks the columns as fast as a list walks pairs)."""
    docs, weights = zip(*postings)
    return docs, weights


def _shared(doc: dict[str, float]) -> dict[str, float]:
    """The document with its features as one string object each, whichever documents have them
    (a large table repeats the same few thousand features over and over)."""
    return {sys.intern(feature): factor for feature, factor in doc.items()}


def _word_features(analysis: Analysis) -> dict[str, float]:
    features: dict[str, float] = {}
    for word in analysis.words:
        for feature in ("w:" + word.form, "r:" + word.reading):
            features[feature] = max(features.get(feature, 0.0), word.weight)
    return features


def _space(documents: list[dict[str, float]], owners: list[int], n_owners: int, lean: float) -> Space:
    """A Space, or for as many documents as ``arrays.ARRAYS_FROM`` and numpy installed, an ArraySpace."""
    large = len(documents) >= arrays.ARRAYS_FROM and arrays.available()
    return (arrays.ArraySpace if large else Space)(documents, owners, n_owners, lean)


class _Bm25:
    """Intents as whole documents scored Okapi-BM25 style (term weights saturate, long
    documents are discounted), as the share of the question's best possible score: 0-1."""

    K1, B = 1.2, 0.75
    NEGLIGIBLE = 0.5  # an idf this low (a piece in over half the entries) is not looked up

    def __init__(self, documents: list[dict[str, float]]):
        n = len(documents)
        df: dict[str, int] = defaultdict(int)
        for doc in documents:
            for feature in doc:
                df[feature] += 1
        self.idf = {f: math.log(1 + (n - d + 0.5) / (d + 0.5)) for f, d in df.items()}
        lengths = [sum(doc.values()) for doc in documents]
        average = (sum(lengths) / n) if n else 1.0
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, (doc, length) in enumerate(zip(documents, lengths)):
            norm = self.K1 * (1 - self.B + self.B * length / (average or 1.0))
            for feature, tf in doc.items():
                postings[feature].append((i, tf * (self.K1 + 1) / (tf + norm)))
        self.postings = {f: _columns(p) for f, p in postings.items()}

    def coverage(self, query: dict[str, float]) -> dict[int, float]:
        scores: dict[int, float] = defaultdict(float)
        total = sum(self.idf.get(f, 0.0) * (self.K1 + 1) for f in query)
        for feature in query:
            idf = self.idf.get(feature, 0.0)
            if idf > self.NEGLIGIBLE:  # の, を... are in most entries: long postings, nothing to tell
                for doc, saturated in zip(*self.postings[feature]):
                    scores[doc] += idf * saturated
        return {doc: min(1.0, s / total) for doc, s in scores.items()} if total else {}


class Index:
    """Every example question of a knowledge base, analyzed once."""

    def __init__(
        self, kb: KnowledgeBase, analyzer: Analyzer, weights: Weights = Weights(), memo: dict | None = None
    ):
        """``memo``: text → Analysis, shared by indexes built over parts of one knowledge base."""
        memo = {} if memo is None else memo

        def analyze(text: str) -> Analysis:
            analysis = memo.get(text)
            if analysis is None:
                analysis = memo[text] = analyzer.analyze(text)
            return analysis

        self.kb = kb
        self.analyzer = analyzer
        self.weights = weights
        self.owner: list[int] = []
        self.examples: list[str] = []
        analyses: list[Analysis] = []
        for i, intent in enumerate(kb.intents):
            for example in intent.examples:
                self.owner.append(i)
                self.examples.append(example)
                analyses.append(analyze(example))
        n = len(kb.intents)
        features = [_shared(_word_features(a)) for a in analyses]
        self.words = _space(features, self.owner, n, weights.lean)
        self.readings = _space([_shared(_bigrams(a.reading)) for a in analyses], self.owner, n, weights.lean)
        self.keys = [a.key for a in analyses]
        answers = [analyze(intent.answer) for intent in kb.intents]
        topics: list[dict[str, float]] = [{} for _ in kb.intents]
        for i, intent in enumerate(kb.intents):
            for analysis in (analyze(intent.title), answers[i]):
                for feature, factor in _word_features(analysis).items():
                    topics[i][feature] = max(topics[i].get(feature, 0.0), factor * weights.answer)
        for owner, doc in zip(self.owner, features):
            for feature, factor in doc.items():
                topics[owner][feature] = max(topics[owner].get(feature, 0.0), factor)
        self.topics = _space(topics, list(range(n)), n, weights.topic_lean)
        self.pieces: _Bm25 | None = None
        if weights.pieces:
            pieces: list[dict[str, float]] = [defaultdict(float) for _ in kb.intents]
            for owner, a in zip(self.owner, analyses):
                for piece in a.pieces:
                    pieces[owner][piece] += 1.0
            for i, answer in enumerate(answers):
                for piece in answer.pieces:
                    pieces[i][piece] += weights.answer
            self.pieces = _Bm25(pieces)
        # Known words by reading, to repair misspelt words in questions: the examples'
        # words, and the variants of single-word synonyms (ハムストリングズ → 裏もも).
        self.vocabulary: dict[str, tuple[str, ...]] = {}
        self.kana_readings: set[str] = set()  # readings of words the examples spell in kana
        self.kanji_words: dict[str, tuple[str, str]] = {}  # reading → a word the examples spell in kanji
        topical: set[str] = set()  # readings of the examples' words that are not filler (方 is)
        for a in analyses:
            for word, after in zip(a.words, a.words[1:] + (None,)):
                mine = ("w:" + word.form, "r:" + word.reading)
                self.vocabulary.setdefault(word.reading, mine)
                if not has_kanji(word.form):
                    self.kana_readings.add(word.reading)
                elif not word.filler:
                    self.kanji_words.setdefault(word.reading, mine)
                if not word.filler:
                    topical.add(word.reading)
                if after is not None and not has_kanji(word.form + after.form):
                    # Sudachi splits some compounds (ヒップ|リフト): a typo in one (ヒップリフド) is one word
                    pair = mine + ("w:" + after.form, "r:" + after.reading)
                    self.vocabulary.setdefault(word.reading + after.reading, pair)
        # Known words by Sudachi synonym group, to read a question's unknown word as a known
        # one of the same meaning (回数 → 頻度). The examples' words first, then the answers'.
        self.by_group: dict[int, tuple[str, str]] = {}
        for a in [*analyses, *answers]:
            for word in a.words:
                for group in word.groups:
                    self.by_group.setdefault(group, ("w:" + word.form, "r:" + word.reading))
        for canonical, variants in kb.synonyms.items():
            words = analyze(canonical).words
            if len(words) == 1:
                for variant in variants:
                    self.vocabulary.setdefault(to_katakana(variant), ("w:" + words[0].form, "r:" + words[0].reading))
        self.kana_readings &= topical  # 肩 (カタ) is not known through the filler 方 (カタ)
        self._readings = list(self.vocabulary)
        self._readings_folded = [reading.translate(_SMALL_KANA) for reading in self._readings]

    def query_features(self, analysis: Analysis) -> tuple[dict[str, float], float, tuple[str, ...]]:
        """The question's word features, unknown words replaced by close known ones; the share
        of its topical words' weight (filler aside) that neither the examples nor the answers
        use, 1.0 when it has none; and the topical words that no example question uses."""
        features: dict[str, float] = {}
        whole_known = False
        unknown = total = 0.0
        new: list[str] = []
        words = analysis.words
        for at, word in enumerate(words):
            mine = ("w:" + word.form, "r:" + word.reading)
            factor = word.weight
            if not word.part:
                whole_known = mine[0] in self.words.idf or mine[0] in self.topics.idf
            elif whole_known:
                continue  # the compound itself is known: its parts add nothing
            if mine[0] not in self.words.idf and not (
                mine[1] in self.words.idf and (word.reading in self.kana_readings or not has_kanji(word.form))
            ):  # neither the word nor a kana spelling of it is known (肩 is not 方 for sharing カタ)
                mine = (mine[0], "?" + mine[1])
                match = None  # (the known word's features, how alike)
                if len(word.reading) >= TYPO_MIN_LENGTH:
                    if not has_kanji(word.form):
                        match = self._misspelt(word.reading, words[at + 1 :])
                    elif word.reading in self.kanji_words:  # the IME's wrong pick of its reading (高価 for 効果)
                        match = (self.kanji_words[word.reading], 1.0)
                synonym = next((self.by_group[g] for g in word.groups if self.by_group.get(g, mine)[0] != mine[0]), None)
                if match is not None:
                    mine, alike = match
                    factor *= alike
                elif synonym is not None:
                    mine = synonym
                elif word.filler:
                    continue  # a filler word no example uses (そもそも, ぶっちゃけ) says nothing at all
                else:
                    if not word.part:
                        new.append(word.form)  # no example question uses it
                    if mine[0] not in self.topics.idf:
                        # a thing named that neither the examples nor the answers mention (腹筋, 首)
                        if not word.part:
                            unknown += word.weight
                        if word.noun:
                            factor *= self.weights.unknown_noun
            if not word.part and not word.filler:
                total += word.weight
            for feature in mine:
                features[feature] = max(features.get(feature, 0.0), factor)
        return features, (unknown / total if total else 1.0), tuple(new)  # no topical word: nothing known

    def _misspelt(self, reading: str, following: tuple) -> tuple[tuple[str, ...], float] | None:
        """The known word a kana word is a typo of (ストレチ), also where Sudachi split the
        typo of a compound (レック|カール): its features and how alike the readings are."""
        after = next((w for w in following if not w.part), None)
        tries = [reading] if after is None or has_kanji(after.form) else [reading, reading + after.reading]
        best = None
        for typed in tries:
            typed = typed.translate(_SMALL_KANA)
            found = process.extractOne(typed, self._readings_folded, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
            if found is not None and (best is None or found[1] > best[1]):
                best = found
        return None if best is None else (self.vocabulary[self._readings[best[2]]], best[1] / 100)

    def rank(self, analyses: list[Analysis], limit: int | None = None) -> list[Scored]:
        """Intents that share any evidence with any reading of the question, best first;
        the ``limit`` best if given."""
        best: dict[int, tuple] = {}  # intent → (score, intent, example, words, reading, fuzz, unknown, query)
        shared: dict = {}  # (kind, text) → evidence alike in variants; "whole unknown": the plain reading's
        for analysis in analyses:
            for entry in self._rank_one(analysis, shared):
                if entry[1] not in best or entry[0] > best[entry[1]][0]:
                    best[entry[1]] = entry
        if limit is None:
            ranked = sorted(best.values(), key=itemgetter(0), reverse=True)
        else:
            ranked = heapq.nlargest(limit, best.values(), key=itemgetter(0))
        return [
            Scored(i, score, "" if d is None else self.examples[d], w, r, f, u, partial(self._coverage, q, i))
            for score, i, d, w, r, f, u, q in ranked
        ]

    def _coverage(self, query: dict[str, float], owner: int) -> float:
        """The share of the question's word weight (rarity-weighted, as the similarities weigh
        it) that the intent's own words cover: how much of the question the match explains."""
        topics = self.topics
        idf, unknown_idf = topics.idf, topics.unknown_idf
        total = covered = 0.0
        for feature, factor in query.items():
            weight = (idf.get(feature, unknown_idf) * factor) ** 2
            total += weight
            if topics.has(feature, owner):
                covered += weight
        return covered / total if total else 0.0

    def _rank_one(self, analysis: Analysis, shared: dict) -> list[tuple]:
        if analysis.lead and not shared.get("whole unknown"):
            return []  # a lead-in of known words does not dilute the question: nothing to lighten
        query, unknown, _ = self.query_features(analysis)
        if analysis.focus:  # read apart from its story, a question keeps what the whole text leaves unknown
            unknown = max(unknown, shared.get("whole unknown", 0.0))
        else:
            shared.setdefault("whole unknown", unknown)  # the plain reading comes first
        words, word_scale = self.words.scores(query)
        topics = self.topics.similarities(query)
        readings = shared.get(("readings", analysis.reading))
        if readings is None:
            readings = shared["readings", analysis.reading] = self.readings.scores(_bigrams(analysis.reading))
        readings, reading_scale = readings
        bm25 = {}
        if self.pieces:
            bm25 = shared.get(("pieces", analysis.pieces))
            if bm25 is None:
                pieces = dict.fromkeys(analysis.pieces, 1.0)
                bm25 = shared["pieces", analysis.pieces] = self.pieces.coverage(pieces)
        shortlist = _best(words, SHORTLIST) | _best(readings, SHORTLIST, floor=0.1 / reading_scale)
        fuzzed = shared.setdefault(("fuzz", analysis.key), {})
        missing = {d: self.keys[d] for d in shortlist if d not in fuzzed}
        if missing and analysis.key:
            for _, score, d in process.extract(analysis.key, missing, scorer=fuzz.ratio, limit=None):
                fuzzed[d] = score / 100
        # An intent's score: its best example's evidence, then what it has as a whole.
        k = self.weights
        if query:
            kw, kr, kf = k.words, k.reading, k.fuzz
        else:  # no content word at all (じゃあね, 終わります): only the reading can tell
            kw, kr, kf = 0.0, 1.0, 0.0
        owner_of = self.owner
        best: dict[int, tuple] = {}  # intent → (score, its best example, words, reading, fuzz)
        fuzz_of = fuzzed.get
        shortlist = list(shortlist)
        for d, w, r in zip(shortlist, _values(words, shortlist), _values(readings, shortlist)):
            w, r, f = w * word_scale, r * reading_scale, fuzz_of(d, 0.0)
            w, r = (w if w < 1.0 else 1.0), (r if r < 1.0 else 1.0)  # similarities, as ``Space.similarities``
            score = kw * w + kr * r + kf * f
            owner = owner_of[d]
            if owner not in best or score > best[owner][0]:
                best[owner] = (score, d, w, r, f)
        if query:  # an intent found by its answer or as a whole, with no example sharing a word
            for owner in _best(topics, SHORTLIST).union(_best(bm25, SHORTLIST) if bm25 else ()):
                if owner not in best:
                    best[owner] = (0.0, None, 0.0, 0.0, 0.0)
        ranked = []
        for owner, (score, d, w, r, f) in best.items():
            if query:
                score = (
                    (1 - k.topic - k.pieces) * score
                    + k.topic * topics.get(owner, 0.0)
                    + k.pieces * bm25.get(owner, 0.0)
                )
            ranked.append((min(score, 1.0), owner, d, w, r, f, unknown, query))
        return ranked

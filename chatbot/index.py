"""The searchable index of a knowledge base: built once, then ``rank(analysis)`` per question.

Three kinds of evidence, each a similarity in 0-1 between the question and one example
question, combined per example and maxed per intent:

- words: cosine of content words (normalized form and lemma reading), weighted by
  rarity across intents, so a word only one intent uses decides more than 鍛える does.
  A word the knowledge base has never seen still counts in the question's length, so
  「スクワットのやり方」 stays far from 「ヒップリフトのやり方」. Unknown words are
  matched to known ones by rapidfuzz (ストレチ → ストレッチ) before they count as unknown.
- readings: cosine of katakana-reading bigrams, for hiragana runs Sudachi splits badly.
- rapidfuzz: ``fuzz.ratio`` of the content-word readings, scored over the examples that
  share evidence with the question (``process.extract``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from .models import KnowledgeBase
from .text import Analysis, Analyzer

WORD_WEIGHT = 0.55
READING_WEIGHT = 0.3
FUZZ_WEIGHT = 0.15
TYPO_CUTOFF = 80  # rapidfuzz ratio for an unknown word to count as a misspelt known one
TYPO_MIN_LENGTH = 3


@dataclass(frozen=True)
class Scored:
    """One intent's score for a question, with the evidence behind it."""

    intent: int  # position in the knowledge base
    score: float
    example: str  # the example question that scored best
    words: float
    reading: float
    fuzz: float


def _bigrams(reading: str) -> set[str]:
    if len(reading) < 2:
        return {reading} if reading else set()
    return {reading[i : i + 2] for i in range(len(reading) - 1)}


def _word_features(analysis: Analysis) -> dict[str, float]:
    features: dict[str, float] = {}
    for word in analysis.words:
        for feature in ("w:" + word.form, "r:" + word.reading):
            features[feature] = max(features.get(feature, 0.0), word.weight)
    return features


class _Space:
    """A weighted vector space over one kind of feature, with an inverted index."""

    def __init__(self, documents: list[dict[str, float]], owners: list[int], n_owners: int):
        df: dict[str, set[int]] = defaultdict(set)
        for doc, owner in zip(documents, owners):
            for feature in doc:
                df[feature].add(owner)
        self.idf = {f: math.log(1 + n_owners / len(o)) for f, o in df.items()}
        self.unknown_idf = math.log(1 + n_owners)
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.norms = []
        for i, doc in enumerate(documents):
            total = 0.0
            for feature, factor in doc.items():
                weight = self.idf[feature] * factor
                self.postings[feature].append((i, weight))
                total += weight * weight
            self.norms.append(math.sqrt(total) or 1.0)

    def weight(self, feature: str) -> float:
        return self.idf.get(feature, self.unknown_idf)

    def cosines(self, query: dict[str, float]) -> dict[int, float]:
        dots: dict[int, float] = defaultdict(float)
        total = 0.0
        for feature, factor in query.items():
            weight = self.weight(feature) * factor
            total += weight * weight
            for doc, doc_weight in self.postings.get(feature, ()):
                dots[doc] += weight * doc_weight
        if not total:
            return {}
        norm = math.sqrt(total)
        return {doc: dot / (norm * self.norms[doc]) for doc, dot in dots.items()}


class Index:
    """Every example question of a knowledge base, analyzed once."""

    def __init__(self, kb: KnowledgeBase, analyzer: Analyzer):
        self.kb = kb
        self.analyzer = analyzer
        self.owner: list[int] = []
        self.examples: list[str] = []
        analyses: list[Analysis] = []
        for i, intent in enumerate(kb.intents):
            for example in intent.examples:
                self.owner.append(i)
                self.examples.append(example)
                analyses.append(analyzer.analyze(example))
        n = len(kb.intents)
        self.words = _Space([_word_features(a) for a in analyses], self.owner, n)
        self.readings = _Space([dict.fromkeys(_bigrams(a.reading), 1.0) for a in analyses], self.owner, n)
        self.keys = [a.key for a in analyses]
        # Known words by reading, to repair misspelt words in questions.
        self.vocabulary: dict[str, tuple[str, ...]] = {}
        for a in analyses:
            for word in a.words:
                self.vocabulary.setdefault(word.reading, ("w:" + word.form, "r:" + word.reading))
        for canonical, variants in kb.synonyms.items():
            for feature_source in (self.analyzer.analyze(canonical),):
                if len(feature_source.words) == 1:
                    word = feature_source.words[0]
                    for variant in variants:
                        reading = self.analyzer.analyze(variant).reading
                        self.vocabulary.setdefault(reading, ("w:" + word.form, "r:" + word.reading))
        self._readings = list(self.vocabulary)

    def query_features(self, analysis: Analysis) -> dict[str, float]:
        """The question's word features; unknown words replaced by close known ones."""
        features: dict[str, float] = {}
        for word in analysis.words:
            mine = ("w:" + word.form, "r:" + word.reading)
            factor = word.weight
            if not any(f in self.words.idf for f in mine) and len(word.reading) >= TYPO_MIN_LENGTH:
                match = process.extractOne(
                    word.reading, self._readings, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF
                )
                if match is not None:
                    mine = self.vocabulary[match[0]]
                    factor *= match[1] / 100
            for feature in mine:
                features[feature] = max(features.get(feature, 0.0), factor)
        return features

    def rank(self, analysis: Analysis) -> list[Scored]:
        """Intents that share any evidence with the question, best first."""
        words = self.words.cosines(self.query_features(analysis))
        readings = self.readings.cosines(dict.fromkeys(_bigrams(analysis.reading), 1.0))
        shortlist = sorted(set(words) | {d for d, s in readings.items() if s > 0.1})
        fuzzed = {}
        if shortlist and analysis.key:
            choices = {d: self.keys[d] for d in shortlist}
            for _, score, d in process.extract(analysis.key, choices, scorer=fuzz.ratio, limit=None):
                fuzzed[d] = score / 100
        best: dict[int, Scored] = {}
        for d in shortlist:
            w, r, f = words.get(d, 0.0), readings.get(d, 0.0), fuzzed.get(d, 0.0)
            score = WORD_WEIGHT * w + READING_WEIGHT * r + FUZZ_WEIGHT * f
            owner = self.owner[d]
            if owner not in best or score > best[owner].score:
                best[owner] = Scored(owner, min(score, 1.0), self.examples[d], w, r, f)
        return sorted(best.values(), key=lambda s: -s.score)

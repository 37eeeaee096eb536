"""A weighted vector space over one kind of feature (an index's words, readings or topics),
with an inverted index: built once from documents, then ``scores(query)`` per question.

Pruning, so that a large knowledge base costs little more than a small one: a question's
features are looked up rarest first, and once they have found ``FOUND`` documents, a common one
(in over ``COMMON``) only adds to those. ``arrays.ArraySpace`` keeps the same postings in numpy
arrays for a large knowledge base.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from collections import defaultdict
from itertools import compress, islice, repeat
from operator import ge, itemgetter

COMMON = 200  # a feature in more documents than this only adds to those rarer ones found...
FOUND = 200  # ...once they have found this many
# While fewer are found, a feature in over half the documents finds only this many of them, those
# it weighs most: it tells little apart (a question of words every entry of a large table has would
# otherwise walk all of it).
FINDS_AT_MOST = 2000
# Up to this many scores, sorting them all (in C) costs less than a heap pass over them in
# Python (measured: the two meet between 2,000 and 5,000 scores).
SORT_UP_TO = 2500


def best(scores, k: int, floor: float = 0.0) -> set[int]:
    """The ``k`` best-scored keys at or above ``floor``; of keys scored alike, the first.

    Of many scores (a FAQ table of thousands of entries), only those at or above the k-th
    best are sorted, after a heap pass finds it: the same set, built in the same order.
    ``scores``: a dict, or an ``arrays.Found``, which picks the same keys itself."""
    if not isinstance(scores, dict):
        return scores.best(k, floor)
    if len(scores) > SORT_UP_TO:
        kth, next_best = heapq.nlargest(k + 1, scores.values())[k - 1 :]
        if not floor or next_best >= floor:  # more than k keys reach the floor: the best k of them
            keys = _at_least(scores, kth)
            return set(sorted(keys, key=scores.__getitem__, reverse=True)[:k])
    keys = _at_least(scores, floor) if floor else list(scores)
    if len(keys) > k:
        keys = sorted(keys, key=scores.__getitem__, reverse=True)[:k]
    return set(keys)


def values(scores, keys: list[int]) -> list[float]:
    """The keys' scores, 0.0 for those not scored (a dict's or an ``arrays.Found``'s, which
    looks them up at once)."""
    if not isinstance(scores, dict):
        return scores.values_at(keys)
    get = scores.get
    return [get(key, 0.0) for key in keys]


def _at_least(scores: dict[int, float], floor: float) -> list[int]:
    """The keys scored ``floor`` or more, in the dict's order."""
    return list(compress(scores, map(ge, scores.values(), repeat(floor))))


class Space:
    """A weighted vector space over one kind of feature, with an inverted index. ``lean``
    sets the similarity (see ``similarities``); a document's postings carry its part of the
    weights, already divided by its norm to the power the similarity gives it."""

    def __init__(self, documents: list[dict[str, float]], owners: list[int], n_owners: int, lean: float = 0.5):
        """``owners``: each document's owner, an owner's documents next to each other."""
        df: dict[str, int] = defaultdict(int)  # in how many owners' documents
        last: dict[str, int] = {}
        for doc, owner in zip(documents, owners):
            for feature in doc:
                if last.get(feature) != owner:
                    last[feature] = owner
                    df[feature] += 1
        self.idf = {f: math.log(1 + n_owners / d) for f, d in df.items()}
        self.unknown_idf = math.log(1 + n_owners)
        self.lean = lean
        # Each feature's postings as two columns: its documents (ascending) and the document's
        # part of the weight, its factor for the feature over its norm to the power the
        # similarity gives it; the feature's idf is the query's part (``scores``). A document
        # has few factors (1.0 for every bigram), so its postings share a few float objects.
        columns: dict[str, tuple[list[int], list[float]]] = {}
        scales: list[float] = []  # each document's part for a factor of 1.0
        idf = self.idf
        for i, doc in enumerate(documents):
            scale = (math.sqrt(sum((idf[f] * factor) ** 2 for f, factor in doc.items())) or 1.0) ** (-2 * lean)
            scales.append(scale)
            parts: dict[float, float] = {}  # factor → the document's part, one object each
            for feature, factor in doc.items():
                part = parts.get(factor)
                if part is None:
                    part = parts[factor] = factor * scale
                docs, its = columns.setdefault(feature, ([], []))
                docs.append(i)
                its.append(part)
        self.lengths = {f: len(docs) for f, (docs, _) in columns.items()}
        self.size = len(documents)
        self.finds_all_up_to = max(FINDS_AT_MOST, len(documents) // 2)
        self._keep(columns, scales)

    def _keep(self, columns: dict[str, tuple[list[int], list[float]]], scales: list[float]) -> None:
        """The postings kept, from the columns (emptied as they are used up).

        Features with the same postings (a word's form and its reading, used alike: the same
        documents, so the same idf) keep one copy, under the first of them: a query walks it
        once, with their weights added."""
        first: dict[int, str] = {}  # the hash of a feature's postings → the first feature with them
        self.same: dict[str, str] = {}
        self.postings: dict[str, tuple[tuple[int, ...], tuple[float, ...]]] = {}
        self.common: dict[str, dict[int, float]] = {}  # a common feature's: document → its part, for lookups
        for feature in list(columns):
            pair = tuple(map(tuple, columns.pop(feature)))  # the lists go as they are used up
            to = first.setdefault(hash(pair), feature)
            if to != feature and self._has_postings(to, pair):
                self.same[feature] = to
            elif len(pair[0]) <= COMMON:
                self.postings[feature] = pair
            elif len(pair[0]) <= self.finds_all_up_to:
                self.common[feature] = dict(zip(*pair))
            else:  # in the order it finds them: heaviest first
                self.common[feature] = dict(sorted(zip(*pair), key=itemgetter(1), reverse=True))

    def _has_postings(self, feature: str, pair: tuple[tuple[int, ...], tuple[float, ...]]) -> bool:
        its = self.common.get(feature)
        return self.postings[feature] == pair if its is None else its == dict(zip(*pair))

    def has(self, feature: str, doc: int) -> bool:
        """Whether the document has the feature."""
        feature = self.same.get(feature, feature)
        if feature in self.common:
            return doc in self.common[feature]
        docs = self.postings.get(feature, ((),))[0]
        at = bisect_left(docs, doc)
        return at < len(docs) and docs[at] == doc

    def similarities(self, query: dict[str, float]) -> dict[int, float]:
        """Each document's similarity to the query: the weighted share of the query it covers
        and the share of itself the query covers, combined as ``query^(1-lean) * doc^lean``
        (``lean`` 0.5 is the cosine). Only documents sharing a feature are returned."""
        scores, scale = self.scores(query)
        return {doc: min(1.0, score * scale) for doc, score in scores.items()}

    def scores(self, query: dict[str, float]) -> tuple[dict[int, float], float]:
        """The documents sharing a feature with the query, each with a score that ranks them
        as their similarity does, and the scale that turns a score into the similarity:
        ``min(1, score * scale)``. Rarer features find the documents: once ``FOUND`` are
        found, a common feature (の, a bigram in most examples) only adds to those."""
        dots: dict[int, float] = {}
        dot = dots.get
        postings, common = self.postings, self.common
        known, total = self._known(query)
        for feature, weight in known.items():
            if feature in postings:
                for doc, doc_weight in zip(*postings[feature]):
                    dots[doc] = dot(doc, 0.0) + weight * doc_weight
                continue
            its = common[feature]
            if len(dots) < FOUND and len(its) <= self.finds_all_up_to:  # still finding: all its documents
                for doc, doc_weight in its.items():
                    dots[doc] = dot(doc, 0.0) + weight * doc_weight
                continue
            if len(its) > len(dots):  # add to those found: look them up...
                weight_in = its.get
                for doc in dots:
                    dots[doc] += weight * weight_in(doc, 0.0)
            else:  # ...or walk the feature's, the shorter
                for doc, doc_weight in its.items():
                    if doc in dots:
                        dots[doc] += weight * doc_weight
            if len(dots) < FOUND:  # a feature in over half the documents finds only its heaviest
                for doc, doc_weight in islice(its.items(), FINDS_AT_MOST):
                    if doc not in dots:
                        dots[doc] = weight * doc_weight
        if not total:
            return {}, 1.0
        return dots, self._scale(total)

    def _known(self, query: dict[str, float]) -> tuple[dict[str, float], float]:
        """The features of the query to look up, rarest first, each with its weight (and that of
        those sharing its postings) times its idf; and the query's squared length."""
        total = 0.0
        idf, lengths, same = self.idf, self.lengths, self.same
        known: dict[str, float] = {}
        for feature, factor in query.items():
            if feature in lengths:
                weight = idf[feature] * factor
                total += weight * weight
                shared = same.get(feature, feature)
                known[shared] = known.get(shared, 0.0) + weight * idf[feature]  # times the postings' idf
            else:  # a feature no document has still makes the query longer
                total += (self.unknown_idf * factor) ** 2
        return {feature: known[feature] for feature in sorted(known, key=lengths.__getitem__)}, total

    def _scale(self, total: float) -> float:
        # dot^(1-lean) / total^(1-lean) * dot^lean / norm^(2 lean): the postings hold the norm's part
        return total ** (self.lean - 1)

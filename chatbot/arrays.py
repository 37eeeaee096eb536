"""A large knowledge base's feature spaces as flat arrays, scored with numpy (the ``large`` extra).

``space.Space`` keeps each feature's postings as Python tuples and dicts and adds up a
question's scores one posting at a time. At tens of thousands of examples that walk is most of
a question's time, and the dicts most of the memory. ``ArraySpace`` keeps the same postings in
three arrays (each feature's documents, ascending, and their parts of the weight, one feature
after another) and adds a feature's postings at once: the same additions in the same order, so
every score is the same float and every ranking the same, documents scored alike included (the
order found breaks ties, as a dict's order does). ``scores`` gives ``Found`` instead of a dict.

numpy is imported only when an ArraySpace is built or loaded: a small knowledge base (and the
cold start of ``chatbot ask``) never pays for it.
"""

from __future__ import annotations

import importlib.util
from array import array

from . import space as spaces
from .space import Space

# Documents in a space from which its postings are arrays, when numpy is installed. Measured
# (bench/README.md): the bundled knowledge's 1,707 examples answer faster in dicts (p50 1.2 ms
# against 1.5), a generated FAQ's 4,980 twice as fast in arrays (1.7 ms against 3.1-3.7),
# and `chatbot ask` on it starts sooner too (numpy's import costs less than loading the dicts).
ARRAYS_FROM = 4_000


def available() -> bool:
    return importlib.util.find_spec("numpy") is not None


def _numpy():
    import numpy

    return numpy


ARRAYS = {"docs": "int32", "parts": "float64", "scales": "float64", "heavy_docs": "int32", "heavy_parts": "float64"}


class ArraySpace(Space):
    """``Space`` with its postings in arrays: ``rows`` maps a feature to its slice of ``docs``
    and ``parts``; a feature in over ``finds_all_up_to`` documents also has its
    ``space.FINDS_AT_MOST`` heaviest in ``heavy_docs``/``heavy_parts`` (``heavy_rows``), heaviest
    first. Where every posting's part is its document's part for a factor of 1.0 (reading bigrams
    are all 1.0), ``parts`` is None and a feature's parts are read from ``scales`` by document."""

    def _keep(self, columns: dict[str, tuple[list[int], list[float]]], scales: list[float]) -> None:
        np = _numpy()
        self.scales = np.array(scales, dtype=np.float64)
        uniform = True  # every part so far its document's scale
        first: dict[int, str] = {}  # the hash of a feature's postings → the first feature with them
        self.same: dict[str, str] = {}
        self.rows: dict[str, tuple[int, int]] = {}
        self.heavy_rows: dict[str, tuple[int, int]] = {}
        docs, parts, heavy_docs, heavy_parts = array("i"), array("d"), array("i"), array("d")
        for feature in list(columns):
            its_docs, its_parts = (array(kind, column) for kind, column in zip("id", columns.pop(feature)))
            to = first.setdefault(hash(its_docs.tobytes() + its_parts.tobytes()), feature)
            if to != feature:
                start, end = self.rows[to]
                if docs[start:end] == its_docs and parts[start:end] == its_parts:
                    self.same[feature] = to
                    continue
            self.rows[feature] = (len(docs), len(docs) + len(its_docs))
            docs.extend(its_docs)
            parts.extend(its_parts)
            if uniform:
                ours = np.frombuffer(its_docs, dtype=np.int32)
                uniform = bool((np.frombuffer(its_parts, dtype=np.float64) == self.scales[ours]).all())
            if len(its_docs) > self.finds_all_up_to:  # in the order it finds them: heaviest first (stable)
                weights = np.frombuffer(its_parts, dtype=np.float64)
                order = np.argsort(-weights, kind="stable")[: spaces.FINDS_AT_MOST]
                self.heavy_rows[feature] = (len(heavy_docs), len(heavy_docs) + len(order))
                heavy_docs.extend(array("i", np.frombuffer(its_docs, dtype=np.int32)[order].tobytes()))
                heavy_parts.extend(array("d", weights[order].tobytes()))
        blobs = {"docs": docs, "parts": None if uniform else parts, "heavy_docs": heavy_docs, "heavy_parts": heavy_parts}
        self._arrays({"scales": self.scales.tobytes(), **{k: None if v is None else v.tobytes() for k, v in blobs.items()}})

    def _arrays(self, blobs: dict[str, bytes | None]) -> None:
        np = _numpy()
        for name, blob in blobs.items():
            setattr(self, name, None if blob is None else np.frombuffer(blob, dtype=ARRAYS[name]))

    def __getstate__(self) -> dict:  # plain data for the cache: the arrays as bytes
        state = {k: v for k, v in self.__dict__.items() if k not in ARRAYS}
        state["blobs"] = {k: None if getattr(self, k) is None else getattr(self, k).tobytes() for k in ARRAYS}
        return state

    def __setstate__(self, state: dict) -> None:
        blobs = state.pop("blobs")
        self.__dict__.update(state)
        self._arrays(blobs)

    def has(self, feature: str, doc: int) -> bool:
        row = self.rows.get(self.same.get(feature, feature))
        if row is None:
            return False
        docs = self.docs[row[0] : row[1]]
        at = int(docs.searchsorted(doc))
        return at < len(docs) and int(docs[at]) == doc

    def similarities(self, query: dict[str, float]) -> "Found":
        found, scale = self.scores(query)
        return found.scaled(scale)

    def scores(self, query: dict[str, float]) -> tuple["Found", float]:
        """As ``Space.scores``, a feature at a time."""
        np = _numpy()
        known, total = self._known(query)
        found = Found(np.zeros(self.size), np.zeros(self.size, dtype=bool), np.empty(self.size, dtype=np.int64))
        dots, is_found = found.scores, found.found
        for feature, weight in known.items():
            start, end = self.rows[feature]
            docs = self.docs[start:end]
            if end - start <= spaces.COMMON or (found.count < spaces.FOUND and end - start <= self.finds_all_up_to):
                found.add(docs[~is_found[docs]])
                dots[docs] += weight * (self.scales[docs] if self.parts is None else self.parts[start:end])
                continue
            inside = is_found[docs]  # add to those found (looking each up instead measured no faster)
            ours = docs[inside]
            dots[ours] += weight * (self.scales[ours] if self.parts is None else self.parts[start:end][inside])
            if found.count < spaces.FOUND and end - start > self.finds_all_up_to:  # then find its heaviest
                start, end = self.heavy_rows[feature]
                docs, parts = self.heavy_docs[start:end], self.heavy_parts[start:end]
                fresh = ~is_found[docs]
                found.add(docs[fresh])
                dots[docs[fresh]] = weight * parts[fresh]
        if not total:
            return Found.nothing(), 1.0
        return found, self._scale(total)


class Found:
    """A space's scores for one question: the documents found, each with its score, and the
    order they were found in. Read like the dict ``Space.scores`` gives."""

    def __init__(self, scores, found, order, count: int = 0):
        self.scores, self.found, self.order, self.count = scores, found, order, count

    @classmethod
    def nothing(cls) -> "Found":
        np = _numpy()
        return cls(np.zeros(0), np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64))

    def add(self, docs) -> None:
        """Documents found now, in this order, none found before."""
        if len(docs):
            self.found[docs] = True
            self.order[docs] = _numpy().arange(self.count, self.count + len(docs))
            self.count += len(docs)

    def scaled(self, scale: float) -> "Found":
        """The similarities: ``min(1, score * scale)``, as ``Space.similarities``; sharing which
        documents are found with this Found, which the caller lets go."""
        return Found(_numpy().minimum(1.0, self.scores * scale), self.found, self.order, self.count)

    def __len__(self) -> int:
        return self.count

    def __contains__(self, doc: int) -> bool:
        return 0 <= doc < len(self.found) and bool(self.found[doc])

    def get(self, doc: int, default=None):
        return float(self.scores[doc]) if doc in self else default

    def values_at(self, docs: list[int]) -> list[float]:
        """Each document's score, 0.0 for those not found."""
        if not self.count:
            return [0.0] * len(docs)
        np = _numpy()
        at = np.asarray(docs, dtype=np.int64)
        return np.where(self.found[at], self.scores[at], 0.0).tolist()

    def __getitem__(self, doc: int) -> float:
        if doc not in self:
            raise KeyError(doc)
        return float(self.scores[doc])

    def pop(self, doc: int, default=None):
        if doc not in self:
            return default
        self.found[doc] = False
        self.count -= 1
        return float(self.scores[doc])

    def keys(self) -> list[int]:
        """The documents found, in the order found."""
        docs = self.found.nonzero()[0]
        return docs[self.order[docs].argsort(kind="stable")].tolist()

    def __iter__(self):
        return iter(self.keys())

    def items(self) -> list[tuple[int, float]]:
        return [(doc, float(self.scores[doc])) for doc in self.keys()]

    def best(self, k: int, floor: float = 0.0) -> set[int]:
        """``space.best`` of these scores: the ``k`` best at or above ``floor``, of those scored
        alike the first found; as a set built in the same order (the order found, where there
        are no more than ``k``; else best first)."""
        np = _numpy()
        docs = self.found.nonzero()[0]
        values = self.scores[docs]
        if floor:
            docs, values = docs[values >= floor], values[values >= floor]
        if len(docs) <= k:
            return set(docs[self.order[docs].argsort()].tolist())
        kth = np.partition(values, len(values) - k)[len(values) - k]  # the k-th best
        docs, values = docs[values >= kth], values[values >= kth]
        ranked = docs[np.lexsort((self.order[docs], -values))]  # best first, then the first found
        return set(ranked[:k].tolist())

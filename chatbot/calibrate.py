"""How sure the bot is: the ranking's evidence turned into probabilities.

The decision does not read a match score against a hand-set threshold. A logistic model
over a few pieces of evidence (``evidence``) gives the probability that the first-ranked
topic is the right one (``answer``) and that the right one is among the first two
(``pair``). Its coefficients (``decision.json``) are fitted by ``bench/fit_decision.py`` on
real labelled questions asked of two knowledge bases of the two shapes the bot serves (the
bundled one, many example questions per topic; a city-hall FAQ table, one per entry):

- each question against the full index: in scope, right when its topic comes first;
- each question against an index built without its topic (five folds of topics): out of
  scope, a near miss that a good decision declines;
- everyday questions that no FAQ answers (``offtopic.txt``), against the full index.

The evidence is what means the same on any knowledge base: the best score, its margin
over the runner-up, the share of the question's words the knowledge base never uses, the
share of the question the best topic's own words cover, and whether the knowledge base is a
table of one question per entry (whose scores run lower).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

OFFTOPIC = Path(__file__).with_name("offtopic.txt")
COEFFICIENTS = Path(__file__).with_name("decision.json")
PRIOR = 1.0  # L2 pull of the coefficients towards zero when fitting


def evidence(ranked: Sequence, table: bool = False) -> tuple[float, ...]:
    """What the decision reads from a ranking (``index.Scored``, best first): a constant, the
    best score, its margin over the runner-up, the share of the question's words that the
    knowledge base never uses, the share of the question the best topic covers (``Scored.coverage``),
    and whether the knowledge base is a one-question-per-entry table."""
    if not ranked:
        return (1.0, 0.0, 0.0, 1.0, 0.0, float(table))
    first = ranked[0].score
    second = ranked[1].score if len(ranked) > 1 else 0.0
    return (1.0, first, first - second, ranked[0].unknown, ranked[0].coverage, float(table))


@dataclass(frozen=True)
class Model:
    """Logistic coefficients over ``evidence``: ``answer`` for the first topic being right,
    ``pair`` for the right topic being among the first two."""

    answer: tuple[float, ...]
    pair: tuple[float, ...]
    table: bool = False  # the knowledge base is a one-question-per-entry table

    @classmethod
    def fitted(cls, table: bool = False) -> "Model":
        """The coefficients ``bench/fit_decision.py`` wrote, for a knowledge base of this shape."""
        data = json.loads(COEFFICIENTS.read_text(encoding="utf-8"))
        return cls(tuple(data["answer"]), tuple(data["pair"]), table)

    def probabilities(self, ranked: Sequence) -> tuple[float, float]:
        x = evidence(ranked, self.table)
        return _logistic(self.answer, x), _logistic(self.pair, x)


def _logistic(coef: Sequence[float], x: Sequence[float]) -> float:
    z = sum(c * v for c, v in zip(coef, x))
    return 1 / (1 + math.exp(-z)) if z > -30 else 0.0


def fit_logistic(rows: list[tuple[float, ...]], labels: list[int], prior: float = PRIOR) -> tuple[float, ...]:
    """Coefficients maximising the L2-penalised likelihood (Newton's method; the constant is
    not penalised). Deterministic: the same rows give the same coefficients."""
    n = len(rows[0])
    coef = [0.0] * n
    for _ in range(50):
        grad = [0.0] * n
        hess = [[0.0] * n for _ in range(n)]
        for x, y in zip(rows, labels):
            p = _logistic(coef, x)
            w = max(p * (1 - p), 1e-9)
            for i in range(n):
                grad[i] += (y - p) * x[i]
                for j in range(i + 1):
                    hess[i][j] += w * x[i] * x[j]
        for i in range(n):
            for j in range(i):
                hess[j][i] = hess[i][j]
            if i:  # the penalty
                grad[i] -= prior * coef[i]
                hess[i][i] += prior
        step = _solve(hess, grad)
        coef = [c + s for c, s in zip(coef, step)]
        if max(abs(s) for s in step) < 1e-7:
            break
    return tuple(coef)


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """``a x = b`` by Gaussian elimination with partial pivoting (``a`` is small and positive definite)."""
    n = len(b)
    m = [row[:] + [v] for row, v in zip(a, b)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        if abs(m[col][col]) < 1e-12:
            continue
        for r in range(n):
            if r != col:
                f = m[r][col] / m[col][col]
                for c in range(col, n + 1):
                    m[r][c] -= f * m[col][c]
    return [m[i][n] / m[i][i] if abs(m[i][i]) >= 1e-12 else 0.0 for i in range(n)]


def offtopic_questions() -> list[str]:
    """Everyday questions that no FAQ answers: one a line, ``#`` comments."""
    lines = OFFTOPIC.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]

"""Fit the decision's model (chatbot/decision.json) on real labelled questions.

    python bench/fit_decision.py [--check]

Two knowledge bases, one of each shape the bot serves, each with questions written apart
from its examples: the bundled one with tests/data/questions.tsv, tests/data/romaji.tsv and
bench/data/heldout2.tsv; the city-hall FAQ table with bench/data/cityfaq/queries.tsv.
Every question is asked of the full index (in scope unless labelled ``none``) and of an
index built without its topic (out of scope: a near miss), five folds of topics; the
everyday questions in chatbot/offtopic.txt are asked of both full indexes. See
chatbot/calibrate.py for what the model reads. ``--check`` fits and compares with the
file instead of writing it (exit 1 when they differ).
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chatbot import Bot, calibrate  # noqa: E402
from chatbot.evaluate import NONE, parse_labels  # noqa: E402
from chatbot.index import Index, is_table  # noqa: E402

FOLDS = 5
SETS = [
    (None, ["tests/data/questions.tsv", "tests/data/romaji.tsv", "bench/data/heldout2.tsv"]),
    ("bench/data/cityfaq/faq.csv", ["bench/data/cityfaq/queries.tsv"]),
]


def labelled(paths: list[str]) -> list[tuple[str, str]]:
    rows = []
    for path in paths:
        text = (ROOT / path).read_text(encoding="utf-8")
        if path.endswith("queries.tsv"):  # id<TAB>query, the FAQ benchmark's format
            text = "\n".join(text.splitlines()[1:])
        rows += parse_labels(text, path)
    return rows


def samples(kb_path: str | None, paths: list[str]):
    """Evidence rows with their two labels (first right, right among two) for one knowledge base."""
    bot = Bot(None if kb_path is None else ROOT / kb_path)
    kb, analyzer, table = bot.kb, bot.analyzer, is_table(bot.kb)
    position = {intent.id: i for i, intent in enumerate(kb.intents)}
    rows, first, pair = [], [], []

    def ask(index: Index, question: str, own: int | None) -> None:
        ranked = index.rank(analyzer.variants(question), 2)
        rows.append(calibrate.evidence(ranked, table))
        first.append(int(own is not None and bool(ranked) and ranked[0].intent == own))
        pair.append(int(own is not None and any(s.intent == own for s in ranked[:2])))

    questions = labelled(paths)
    for label, question in questions:
        ask(bot.index, question, position.get(label) if label != NONE else None)
    for question in calibrate.offtopic_questions():
        ask(bot.index, question, None)
    if any(label == NONE for label, _ in questions):
        return rows, first, pair  # real out-of-scope questions: no need to make near misses
    memo: dict = {}
    for fold in range(FOLDS):  # near misses: the question's own topic is not there
        kept = tuple(intent for i, intent in enumerate(kb.intents) if i % FOLDS != fold)
        index = Index(replace(kb, intents=kept), analyzer, bot.index.weights, memo)
        for label, question in questions:
            if label in position and position[label] % FOLDS == fold:
                ask(index, question, None)
    return rows, first, pair


def fit() -> dict:
    rows, first, pair = [], [], []
    for kb_path, paths in SETS:
        r, f, p = samples(kb_path, paths)
        rows += r
        first += f
        pair += p
    return {
        "evidence": ["constant", "best score", "margin", "unknown share", "coverage", "table"],
        "answer": [round(c, 4) for c in calibrate.fit_logistic(rows, first)],
        "pair": [round(c, 4) for c in calibrate.fit_logistic(rows, pair)],
        "questions": len(rows),
    }


def main(argv: list[str]) -> int:
    fitted = fit()
    text = json.dumps(fitted, ensure_ascii=False, indent=1) + "\n"
    if "--check" in argv:
        same = calibrate.COEFFICIENTS.read_text(encoding="utf-8") == text
        print("decision.json is up to date" if same else "decision.json differs from a fresh fit:\n" + text)
        return 0 if same else 1
    calibrate.COEFFICIENTS.write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

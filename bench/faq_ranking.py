"""How often the right entry of a large FAQ comes first, against BM25 baselines in the same run.

    python bench/faq_ranking.py [FAQ.csv QUERIES.tsv]

FAQ: a table with id, question, answer (any format ``--kb`` takes). QUERIES: TSV with
``id<TAB>query``, the id of the entry that answers the query. Default: the city-hall FAQ
in bench/data/cityfaq/. Prints top-1 accuracy, recall@5 and MRR for:

- char BM25: character bigrams of the question;
- word BM25 (C): Sudachi split-mode-C normalized forms of the question;
- word BM25 (A, q+a): split-mode-A normalized forms of question and answer;
- chatbot: this project's ranking (``Bot.rank``).
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chatbot import Bot  # noqa: E402
from chatbot.knowledge import load  # noqa: E402

DATA = ROOT / "bench" / "data" / "cityfaq"


class BM25:
    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self.tf = [Counter(d) for d in docs]
        self.lengths = [len(d) for d in docs]
        self.avg = sum(self.lengths) / len(docs)
        df = Counter(t for d in self.tf for t in d)
        n = len(docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.postings = defaultdict(list)
        for i, tf in enumerate(self.tf):
            for t in tf:
                self.postings[t].append(i)

    def rank(self, query: list[str]) -> list[int]:
        scores: dict[int, float] = defaultdict(float)
        for t in set(query):
            idf = self.idf.get(t)
            if idf is None:
                continue
            for i in self.postings[t]:
                f = self.tf[i][t]
                scores[i] += idf * f * (self.k1 + 1) / (f + self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avg))
        return sorted(scores, key=lambda i: -scores[i])


def char_bigrams(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower().replace(" ", "")
    return [text[i : i + 2] for i in range(len(text) - 1)]


def sudachi_words(mode_name: str):
    from sudachipy import Dictionary, SplitMode

    tokenizer = Dictionary(dict="core").tokenizer(mode=getattr(SplitMode, mode_name))

    def words(text: str) -> list[str]:
        text = unicodedata.normalize("NFKC", text).lower()
        return [m.normalized_form() for m in tokenizer.tokenize(text) if m.part_of_speech()[0] not in ("補助記号", "空白")]

    return words


def measure(ranked_ids: list[list[str]], gold: list[str]) -> dict:
    top1 = sum(r[:1] == [g] for r, g in zip(ranked_ids, gold)) / len(gold)
    at5 = sum(g in r[:5] for r, g in zip(ranked_ids, gold)) / len(gold)
    mrr = sum(1 / (r.index(g) + 1) if g in r[:100] else 0 for r, g in zip(ranked_ids, gold)) / len(gold)
    return {"top1": top1, "recall@5": at5, "mrr": mrr}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("faq", nargs="?", default=str(DATA / "faq.csv"))
    parser.add_argument("queries", nargs="?", default=str(DATA / "queries.tsv"))
    args = parser.parse_args(argv)
    kb = load(args.faq)
    ids = [i.id for i in kb.intents]
    with open(args.queries, encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t")]
    queries, gold = [r["query"] for r in rows], [r["id"] for r in rows]
    print(f"{len(ids)} entries, {len(queries)} queries ({args.faq})")

    systems = {}
    questions = [" ".join(i.examples) for i in kb.intents]
    both = [q + " " + i.answer for q, i in zip(questions, kb.intents)]
    words_c, words_a = sudachi_words("C"), sudachi_words("A")
    for name, docs, tokenize in (
        ("char BM25", questions, char_bigrams),
        ("word BM25 (C)", questions, words_c),
        ("word BM25 (A, q+a)", both, words_a),
    ):
        index = BM25([tokenize(d) for d in docs])
        started = time.perf_counter()
        systems[name] = ([[ids[i] for i in index.rank(tokenize(q))] for q in queries], time.perf_counter() - started)

    started = time.perf_counter()
    bot = Bot(kb)
    built = time.perf_counter() - started
    started = time.perf_counter()
    systems["chatbot"] = ([[ids[s.intent] for s in bot.rank(q)] for q in queries], time.perf_counter() - started)
    print(f"chatbot index built in {built:.2f}s")

    print(f"{'system':<22} {'top-1':>7} {'recall@5':>9} {'MRR':>6} {'ms/query':>9}")
    for name, (ranked, seconds) in systems.items():
        m = measure(ranked, gold)
        print(f"{name:<22} {m['top1']:>7.1%} {m['recall@5']:>9.1%} {m['mrr']:>6.3f} {1000 * seconds / len(queries):>9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A snapshot of rankings, to check that an optimisation changes no result.

    python bench/snapshot.py --write before.json     # on the code before the change
    python bench/snapshot.py --compare before.json   # after it: exit 1 listing differences
    python bench/snapshot.py --arrays --compare before.json   # every space as numpy arrays, even small ones

Questions, all made deterministically: ``synthetic.questions`` and our labelled questions
(tests/data/*.tsv) asked of the bundled knowledge base; a generated FAQ table's own
questions (``synthetic.faq_table``) and some questions out of its scope asked of it; the
city FAQ table's queries asked of it. For each: the status, the confidence and the best
``TOP`` intents with their scores. Each knowledge base is asked twice, built afresh and
loaded from its cache entry, and both must agree with the snapshot.

Scores and confidences are kept at full precision. A difference is reported when the status,
the top intents or their order differ, or when a number differs by more than ``TOLERANCE``
(summation order may move the last bits); the largest difference seen is always printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import synthetic  # noqa: E402

TOP = 5
BUNDLED_QUESTIONS = 2000
TABLE_ENTRIES = 1500  # a table large enough that pruning (FOUND, COMMON) comes into play
TABLE_OUT_OF_SCOPE = 300
TOLERANCE = 1e-9
SHOWN = 40  # differences listed at most
CITY_FAQ = HERE / "data" / "cityfaq"
LABELLED = sorted((ROOT / "tests" / "data").glob("*.tsv"))


def labelled_questions() -> list[str]:
    from chatbot.evaluate import parse_labels

    return [q for path in LABELLED for _, q in parse_labels(path.read_text(encoding="utf-8"), str(path))]


def cases(scratch: Path) -> list[tuple[str, Path | None, list[str]]]:
    """(name, knowledge path or None for the bundled one, questions)."""
    from chatbot import knowledge

    examples = [q for intent in knowledge.load(knowledge.bundled_path()).intents for q in intent.examples]
    bundled = synthetic.questions(BUNDLED_QUESTIONS, examples) + labelled_questions()
    table = scratch / "faq.csv"
    asked = [q for q, _ in synthetic.faq_table(table, TABLE_ENTRIES)]
    asked += synthetic.questions(BUNDLED_QUESTIONS, examples)[:TABLE_OUT_OF_SCOPE]
    found = [("bundled", None, bundled), ("table", table, asked)]
    if (CITY_FAQ / "faq.csv").exists():
        queries = [line.split("\t", 1)[1] for line in (CITY_FAQ / "queries.tsv").read_text("utf-8").splitlines()[1:]]
        found.append(("cityfaq", CITY_FAQ / "faq.csv", queries))
    return found


def record(bot, question: str) -> dict:
    result = bot.answer(question, top_k=TOP)
    return {
        "status": result.status,
        "confidence": result.confidence,
        "top": [[c.intent, c.score] for c in result.candidates[:TOP]],
    }


def snapshot() -> dict[str, list]:
    """Every case's records, checking the index loaded from the cache against the one built."""
    from chatbot import Bot, cache

    with tempfile.TemporaryDirectory(prefix="snapshot-") as scratch:
        os.environ["CHATBOT_CACHE_DIR"] = str(Path(scratch) / "cache")
        result = {}
        for name, path, questions in cases(Path(scratch)):
            built = Bot(path)
            records = [[q, record(built, q)] for q in questions]
            if not any((Path(scratch) / "cache").glob(f"*{cache.SUFFIX}")):
                raise SystemExit(f"{name}: no cache entry was written (the index is not plain data?)")
            loaded = Bot(path)  # from the cache entry the first one wrote
            for entry in (Path(scratch) / "cache").glob(f"*{cache.SUFFIX}"):
                entry.unlink()  # the next case's entry is then the only one
            for (q, mine), (_, theirs) in zip(records, ([q, record(loaded, q)] for q in questions)):
                if mine != theirs:
                    raise SystemExit(f"{name}: the cached index answers {q!r} otherwise: {mine} != {theirs}")
            result[name] = records
            print(f"{name}: {len(records)} questions", file=sys.stderr)
        return result


def differences(old: dict, new: dict) -> tuple[list[str], float]:
    """The differences that matter, and the largest numeric difference seen."""
    found, largest = [], 0.0
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name, []), new.get(name, [])
        if [q for q, _ in before] != [q for q, _ in after]:
            found.append(f"{name}: the questions differ ({len(before)} vs {len(after)})")
            continue
        for (question, a), (_, b) in zip(before, after):
            ids_a, ids_b = [i for i, _ in a["top"]], [i for i, _ in b["top"]]
            gaps = [abs(x - y) for (_, x), (_, y) in zip(a["top"], b["top"])] + [abs(a["confidence"] - b["confidence"])]
            largest = max(largest, *gaps)
            what = []
            if a["status"] != b["status"]:
                what.append(f"status {a['status']} → {b['status']}")
            if ids_a != ids_b:
                what.append(f"top {ids_a} → {ids_b}")
            if max(gaps) > TOLERANCE:
                what.append(f"scores/confidence differ by {max(gaps):.3g}")
            if what:
                found.append(f"{name}: {question!r}: {'; '.join(what)}")
    return found, largest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", metavar="FILE", help="write the snapshot to FILE")
    action.add_argument("--compare", metavar="FILE", help="compare with the snapshot in FILE")
    parser.add_argument("--arrays", action="store_true",
                        help="keep every feature space as arrays (arrays.ArraySpace, needs numpy), whatever its size")
    args = parser.parse_args(argv)
    if args.arrays:
        from chatbot import arrays

        arrays.ARRAYS_FROM = 0
    new = snapshot()
    total = sum(len(records) for records in new.values())
    if args.write:
        Path(args.write).write_text(json.dumps(new, ensure_ascii=False, indent=0), encoding="utf-8")
        print(f"wrote {total} questions to {args.write}")
        return 0
    old = json.loads(Path(args.compare).read_text(encoding="utf-8"))
    found, largest = differences(old, new)
    for line in found[:SHOWN]:
        print(line)
    if len(found) > SHOWN:
        print(f"... and {len(found) - SHOWN} more")
    print(f"{total} questions: {len(found)} differences; largest numeric difference {largest:.3g}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

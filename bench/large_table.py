"""A large generated FAQ table: build time and peak memory, then a fresh process that loads
it from the cache: load time, its RSS and the per-question p50/p99.

    python bench/large_table.py --rows 20000
    python bench/large_table.py --rows 100000 --questions 200

Each figure comes from its own process (VmHWM and VmRSS from /proc), so what one step
allocated does not count against the next. The table's entries are ``synthetic``'s
subjects and aspects, each also asked about a place or a thing (``QUALIFIERS``), so that
up to ``MAX_ROWS`` distinct entries can be made; about one question per entry, as FAQ
tables have.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import synthetic  # noqa: E402
from processes import status_kb  # noqa: E402

QUALIFIERS = ("",) + tuple(f"{p}での" for p in synthetic.PLACES) + tuple(f"{t}と" for t in synthetic.THINGS)
MAX_ROWS = len(synthetic.SUBJECTS) * len(synthetic.ASPECTS) * len(QUALIFIERS)
SECOND_QUESTION = 5  # one entry in this many has a second way of asking it


def write_table(path: Path, rows: int, seed: int = synthetic.SEED) -> list[str]:
    """Write a FAQ table of ``rows`` entries; return questions to ask it, worded apart from it."""
    if rows > MAX_ROWS:
        raise ValueError(f"at most {MAX_ROWS} entries")
    rng = random.Random(seed)
    triples = list(itertools.product(QUALIFIERS, synthetic.SUBJECTS, synthetic.ASPECTS))
    rng.shuffle(triples)
    asked = []
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id", "question", "answer"])
        for number, (qualifier, subject, (aspect, answer)) in enumerate(triples[:rows], start=1):
            entry = f"q{number:06d}"
            forms = rng.sample(synthetic.ASK_FORMS, 2)
            topic = f"{qualifier}{subject}{aspect}"
            out.writerow([entry, forms[0].format(s=qualifier + subject, a=aspect), f"{topic}について。{answer}"])
            if number % SECOND_QUESTION == 0:
                out.writerow([entry, forms[1].format(s=qualifier + subject, a=aspect), ""])
            asked.append(f"{rng.choice(synthetic.LEAD_INS)}{topic}{rng.choice(('', 'って?', 'が知りたい'))}")
    return asked


def _child_build(table: str) -> dict:
    from chatbot import Bot

    start = time.perf_counter()
    Bot.from_path(table)
    return {"build_s": time.perf_counter() - start, "build_peak_mb": status_kb(os.getpid(), "VmHWM") / 1024}


def _child_query(table: str, questions: list[str]) -> dict:
    from chatbot import Bot

    before = status_kb(os.getpid(), "VmRSS")
    start = time.perf_counter()
    bot = Bot.from_path(table)
    loaded = time.perf_counter() - start
    rss = status_kb(os.getpid(), "VmRSS")
    times = []
    for question in questions:
        start = time.perf_counter()
        bot.answer(question)
        times.append(time.perf_counter() - start)
    times.sort()
    return {
        "load_s": loaded,
        "loaded_rss_mb": rss / 1024,
        "index_mb": (rss - before) / 1024,
        "p50_ms": 1000 * statistics.median(times),
        "p99_ms": 1000 * times[min(len(times) - 1, int(len(times) * 0.99))],
        "query_peak_mb": status_kb(os.getpid(), "VmHWM") / 1024,
    }


def _run_child(*args: str, env: dict) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", *args], env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(rows: int, n_questions: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="large-table-") as scratch:
        table = Path(scratch) / "faq.csv"
        asked = write_table(table, rows)
        questions = random.Random(synthetic.SEED).sample(asked, min(n_questions, len(asked)))
        (Path(scratch) / "questions.json").write_text(json.dumps(questions, ensure_ascii=False), encoding="utf-8")
        env = dict(os.environ, CHATBOT_CACHE_DIR=str(Path(scratch) / "cache"))
        figures = {"rows": rows, **_run_child("build", str(table), env=env)}
        entries = list((Path(scratch) / "cache").glob("*.entry"))
        figures["cache_mb"] = sum(e.stat().st_size for e in entries) / 2**20
        figures.update(_run_child("query", str(table), str(Path(scratch) / "questions.json"), env=env))
        return figures


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        if argv[1] == "build":
            result = _child_build(argv[2])
        else:
            result = _child_query(argv[2], json.loads(Path(argv[3]).read_text(encoding="utf-8")))
        print(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--questions", type=int, default=300)
    args = parser.parse_args(argv)
    figures = measure(args.rows, args.questions)
    print(" ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The steps of bench/run.py's large-FAQ case, each run in a process of its own so that the
memory it reports is its own: ``python bench/large_faq.py STEP TABLE [QUESTIONS]`` prints
one JSON object (seconds, bytes).

- ``build``: ``Bot.from_path(TABLE)`` with an empty knowledge cache (CHATBOT_CACHE_DIR):
  its wall time, and the process's peak RSS (VmHWM) at the end.
- ``ask``: the bot as ``chatbot --kb TABLE`` and ``chatbot serve`` load it (``configured``:
  its objects frozen out of the garbage collector) from the cache ``build`` filled: its wall
  time, the RSS once loaded; then each question of QUESTIONS (a JSON list of [question, entry id or null])
  answered once and tokenized once by a bare Sudachi tokenizer, p50/p99 of both, and the
  share of the questions with an entry id answered with that entry.
- ``floor``: what a bare Sudachi process pays for the same table: its RSS with the
  dictionary loaded, then the wall time and peak RSS of tokenizing every question of TABLE.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from pathlib import Path

from processes import status_kb
from run import _percentile, _tokenizer


def build(table: Path) -> dict:
    from chatbot import Bot

    started = time.perf_counter()
    Bot.from_path(table)
    return {"seconds": time.perf_counter() - started, "peak": _own("VmHWM")}


def ask(table: Path, questions: Path) -> dict:
    from chatbot.bot import configured

    started = time.perf_counter()
    bot = configured(table)
    load, rss = time.perf_counter() - started, _own("VmRSS")  # before the tokenizer below maps its own dictionary
    asked = json.loads(questions.read_text(encoding="utf-8"))
    answer, found = [], 0
    for question, entry in asked:
        started = time.perf_counter()
        result = bot.answer(question)
        answer.append(time.perf_counter() - started)
        found += entry is not None and result.intent == entry
    tokenizer, token = _tokenizer(), []
    for question, _ in asked:
        started = time.perf_counter()
        tokenizer.tokenize(question)
        token.append(time.perf_counter() - started)
    return {
        "load": load, "rss": rss, "peak": _own("VmHWM"), **_percentiles("answer", answer), **_percentiles("token", token),
        "found": found / max(1, sum(entry is not None for _, entry in asked)),
    }


def floor(table: Path) -> dict:
    tokenizer = _tokenizer()
    tokenizer.tokenize("辞書を読み込む")  # the dictionary in use, as in the loaded bot
    rss = _own("VmRSS")
    started = time.perf_counter()
    with open(table, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            tokenizer.tokenize(row["question"])
    return {"rss": rss, "seconds": time.perf_counter() - started, "peak": _own("VmHWM")}


def _percentiles(name: str, seconds: list[float]) -> dict:
    seconds = sorted(seconds)
    return {name + "50": _percentile(seconds, 0.50), name + "99": _percentile(seconds, 0.99)}


def _own(field: str) -> int:
    """A memory figure of this process, in bytes."""
    return status_kb(os.getpid(), field) * 1024


def main(argv: list[str]) -> int:
    step, table, *rest = argv
    run = {"build": build, "ask": ask, "floor": floor}[step]
    print(json.dumps(run(Path(table), *map(Path, rest))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Answering very large question sets on a Dask cluster: one ``Bot`` per worker process,
built on its first partition and kept for the rest. No dask import here: the functions take
and give plain values, and ``answer_bag`` only calls the bag's own ``map_partitions``.

    import dask.bag as db
    from dask.distributed import Client
    from chatbot.cluster import answer_bag

    client = Client("tcp://scheduler:8786")            # or Client() for a local cluster
    questions = db.read_text("s3://bucket/questions-*.txt").map(str.rstrip)
    answer_bag(questions, top_k=3).map(json.dumps).to_textfiles("s3://bucket/answers-*.jsonl")

The records are those of ``chatbot ask --json`` / ``chatbot batch``, in the bag's order.
``kb`` is a path that every worker can read (the same install, or a shared file system);
by default the knowledge base bundled with the package.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Iterable

_bots: dict = {}
_loads: Counter = Counter()
_lock = threading.Lock()


def worker_bot(kb: str | None = None):
    """This process's bot over ``kb``: built once (about a second and 200 MB), then shared by the
    worker's threads (a Bot is safe to share)."""
    with _lock:
        if kb not in _bots:
            from .bot import Bot, default_bot

            _bots[kb] = Bot.from_path(kb) if kb else default_bot()
            _loads[kb] += 1
        return _bots[kb]


def loads() -> dict:
    """How many bots this process has built, per knowledge base (None: the bundled one)."""
    with _lock:
        return dict(_loads)


def answer_partition(questions: Iterable[str], kb: str | None = None, top_k: int = 3) -> list[dict]:
    """The records of one partition's questions, in order."""
    bot = worker_bot(kb)
    return [bot.answer(q, top_k=top_k).to_dict(top_k) for q in questions]


def answer_bag(bag, kb: str | None = None, top_k: int = 3):
    """A ``dask.bag`` of questions -> a bag of their records, partition by partition."""
    return bag.map_partitions(answer_partition, kb=kb, top_k=top_k)

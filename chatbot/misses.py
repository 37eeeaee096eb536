"""What the bot could not answer: a JSONL log of declined and clarify turns, and its clusters.

``MissLog(path).record(answer)`` appends one line per missed question (time, question,
status, confidence, top candidates with scores) and nothing else; answered questions and
input that could not be asked at all (empty, undecodable) are not logged. ``read(text)``
parses a log back, as data only; ``clusters(misses)`` groups similar questions, most
frequent first, each with its nearest existing intent. ``to_yaml(clusters)`` writes them
as draft examples to paste into ``intents.yaml``. All pure but ``MissLog.record``.
"""

from __future__ import annotations

import json
import os
import threading
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from rapidfuzz import fuzz

from .errors import InputError
from .models import CLARIFY, DECLINED, Answer
from .safe import json_text
from .text import fold, to_hiragana

LOGGED = (DECLINED, CLARIFY)
LOGGED_CANDIDATES = 3
SIMILAR = 75  # rapidfuzz ratio (0-100) of two folded questions for them to be one cluster
MAX_LINE = 64 * 1024  # a longer line was not written by MissLog: skipped as unreadable


class MissLog:
    """Appends missed questions to ``path`` as JSONL. Safe to share between threads and
    processes: each record is one ``write`` to a file opened with O_APPEND."""

    def __init__(self, path: str | Path):
        """Opens ``path`` once to see that it can be written (made 0600 if new)."""
        self.path = Path(path)
        self._lock = threading.Lock()
        self.error: OSError | None = None  # the last write that failed: answering goes on regardless
        try:
            os.close(self._open())
        except OSError as e:
            raise InputError(f"{path}: cannot write the miss log ({e.strerror}); give a file in a folder you can write") from e

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def record(self, answer: Answer, now: datetime | None = None) -> bool:
        """Append ``answer`` if it is a declined or clarify turn on a real question; whether it was."""
        if answer.status not in LOGGED or answer.reason:
            return False
        line = json_text(entry(answer, now)) + "\n"  # one line: controls and separators escaped
        with self._lock:
            try:
                fd = self._open()
                try:
                    os.write(fd, line.encode("utf-8"))
                finally:
                    os.close(fd)
            except OSError as e:  # a full disk must not stop the answers
                self.error = e
                return False
        return True


def entry(answer: Answer, now: datetime | None = None) -> dict:
    """The logged record of one missed question."""
    now = now or datetime.now(timezone.utc)
    return {
        "time": now.isoformat(timespec="seconds"),
        "question": answer.question,
        "status": answer.status,
        "confidence": round(answer.confidence, 4),
        "candidates": [{"intent": c.intent, "score": round(c.score, 4)} for c in answer.candidates[:LOGGED_CANDIDATES]],
    }


@dataclass(frozen=True)
class Miss:
    """One logged question: what was asked and the intents it came closest to."""

    question: str
    candidates: tuple[tuple[str, float], ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Cluster:
    """Similar missed questions: ``questions`` distinct, most asked first, with their counts."""

    questions: tuple[tuple[str, int], ...]
    nearest: str | None  # the intent these questions came closest to
    nearest_score: float

    @property
    def count(self) -> int:
        return sum(n for _, n in self.questions)

    def to_dict(self) -> dict:
        return {
            "count": self.count,
            "nearest_intent": self.nearest,
            "nearest_score": round(self.nearest_score, 4),
            "questions": [{"question": q, "count": n} for q, n in self.questions],
        }


def read(text: str, path: str = "misses.jsonl") -> tuple[list[Miss], list[int]]:
    """The misses in a log's text, and the numbers of the lines that were not records (skipped)."""
    misses, bad = [], []
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        record = None
        if len(raw) <= MAX_LINE:
            try:
                record = json.loads(raw)
            except (ValueError, RecursionError):
                record = None
        question = record.get("question") if isinstance(record, dict) else None
        if not isinstance(question, str) or not question.strip():
            bad.append(number)
            continue
        candidates = []
        for c in record.get("candidates") or ():
            if isinstance(c, dict) and isinstance(c.get("intent"), str) and isinstance(c.get("score"), (int, float)):
                candidates.append((c["intent"], float(c["score"])))
        misses.append(Miss(question.strip(), tuple(candidates), number))
    if bad and not misses:
        raise InputError(f"{path}:{bad[0]}: not a miss log (JSON lines with a 'question'); give the file --log-misses wrote")
    return misses, bad


def _key(question: str) -> str:
    """A question as compared for clustering: width, case and kana folded, spaces and punctuation dropped."""
    text = to_hiragana(fold(question))
    return "".join(c for c in text if not unicodedata.category(c).startswith(("P", "Z", "S")))


def clusters(misses: list[Miss], similar: int = SIMILAR, reading: Callable[[str], str] | None = None) -> list[Cluster]:
    """Similar questions grouped, the most frequent cluster first. Questions are taken most
    asked first; each joins the first cluster whose first question it is ``similar`` to
    (rapidfuzz ratio of the folded texts, or of their ``reading``s where given: 腹筋 = ﾌｯｷﾝ),
    or starts a new one."""
    counts = Counter(m.question for m in misses)
    by_key: dict[tuple[str, str], list[str]] = defaultdict(list)
    for question in counts:
        by_key[(_key(question), _key(reading(question)) if reading else "")].append(question)
    key_counts = {k: sum(counts[q] for q in qs) for k, qs in by_key.items()}

    def near(a: tuple[str, str], b: tuple[str, str]) -> bool:
        return fuzz.ratio(a[0], b[0]) >= similar or (bool(a[1]) and fuzz.ratio(a[1], b[1]) >= similar)

    groups: list[list[tuple[str, str]]] = []  # keys; the first is the cluster's centre
    for key in sorted(key_counts, key=lambda k: (-key_counts[k], k)):
        home = next((g for g in groups if near(key, g[0])), None)
        if home is None:
            groups.append([key])
        else:
            home.append(key)
    scores: dict[str, defaultdict] = defaultdict(lambda: defaultdict(float))
    for m in misses:
        for intent, score in m.candidates[:1]:
            scores[m.question][intent] += score
    result = []
    for group in groups:
        questions = sorted(((q, counts[q]) for k in group for q in by_key[k]), key=lambda p: (-p[1], p[0]))
        closest: dict[str, float] = defaultdict(float)
        for q, _ in questions:
            for intent, score in scores[q].items():
                closest[intent] += score
        total = sum(n for _, n in questions)
        nearest = max(closest, key=lambda i: (closest[i], i)) if closest else None
        result.append(Cluster(tuple(questions), nearest, closest[nearest] / total if nearest else 0.0))
    result.sort(key=lambda c: (-c.count, c.questions[0][0]))
    return result


def format_clusters(found: list[Cluster], skipped: int = 0) -> str:
    """The clusters for a person: count, nearest intent, and the questions."""
    if not found:
        return "no missed questions in the log"
    lines = [f"{sum(c.count for c in found)} missed questions in {len(found)} clusters, most frequent first:"]
    for n, cluster in enumerate(found, start=1):
        near = f"nearest intent: {cluster.nearest} ({cluster.nearest_score:.2f})" if cluster.nearest else "no intent near"
        lines.append(f"\n{n}. {cluster.count}x  {near}")
        lines += [f"   {n_asked}x {q}" if n_asked > 1 else f"   {q}" for q, n_asked in cluster.questions]
    if skipped:
        lines.append(f"\n({skipped} unreadable lines skipped)")
    return "\n".join(lines)


def to_yaml(found: list[Cluster]) -> str:
    """Each cluster as a draft intent to paste under ``intents:`` in intents.yaml: its examples
    are the cluster's questions; the id is a placeholder (``new_topic_N``), since the nearest
    intent, named in a comment, may or may not be what they mean."""
    blocks = []
    for n, cluster in enumerate(found, start=1):
        near = (f"nearest existing intent: {cluster.nearest} ({cluster.nearest_score:.2f}); if they mean it, "
                "move the examples there" if cluster.nearest else "no existing intent near")
        lines = [f"  # cluster {n}: asked {cluster.count} times; {near}",
                 "  # else give this intent an id and add its answer in knowledge/",
                 f"  - id: new_topic_{n}",
                 "    examples:"]
        lines += [f"      - {_yaml_scalar(q)}" for q, _ in cluster.questions]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def _yaml_scalar(text: str) -> str:
    """``text`` as a YAML double-quoted scalar (a JSON string is one): never read as anything else."""
    return json.dumps(" ".join(text.split()), ensure_ascii=False)

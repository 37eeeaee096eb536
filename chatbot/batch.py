"""Files of questions in, one record per question out, in input order.

Reading yields every input line, good or bad: a line that is empty, not UTF-8, not
JSON or absurdly long still becomes an item with a ``problem``, so one bad line never
loses the ones around it. Memory stays flat: lines stream through in chunks, and a huge
line is skipped past, never held.

Answering spreads the chunks over worker processes, one Bot each, built from the
knowledge base's path; this process only reads, and writes the answers in input order.
At most a few chunks per worker are in flight, however long the input.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import signal
import stat
import sys
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO, Iterable, Iterator, NamedTuple, TextIO

from .errors import ChatbotError
from .models import Answer

FORMATS = ("txt", "csv", "tsv", "jsonl")
OUTPUT_FORMATS = ("jsonl", "csv", "tsv")
MAX_LINE_BYTES = 16 * 1024
COLUMNS = ("line", "question", "intent", "status", "score", "answer", "candidates", "reason")
CHUNK_LINES = 256  # questions handed to a worker at a time
SMALL_INPUT = 2_000  # an input shorter than this is answered in this process: workers would cost more
QUEUED_PER_JOB = 4  # chunks in flight per worker: enough to keep it busy, few enough to keep memory flat


@dataclass(frozen=True)
class Item:
    """One question read from the input; ``problem`` says why it cannot be asked."""

    line: int
    question: str
    problem: str | None = None


def format_of(name: str, default: str = "txt") -> str:
    """The format a file name implies by its ending (``questions.csv`` → csv)."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return suffix if suffix in FORMATS else default


def _physical_lines(stream: BinaryIO) -> Iterator[tuple[bytes, bool]]:
    """(line without its newline, whether it was cut for being too long)."""
    while True:
        chunk = stream.readline(MAX_LINE_BYTES + 1)
        if not chunk:
            return
        if len(chunk) > MAX_LINE_BYTES and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):  # skip the rest of the line
                chunk = stream.readline(1 << 20)
            yield b"", True
            continue
        yield chunk.rstrip(b"\r\n"), False


def _decoded(stream: BinaryIO) -> Iterator[tuple[int, str | None, str | None]]:
    """(line number, text or None, problem) for every physical line."""
    for number, (raw, too_long) in enumerate(_physical_lines(stream), start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if too_long:
            yield number, None, f"line longer than {MAX_LINE_BYTES} bytes"
            continue
        try:
            yield number, raw.decode("utf-8"), None
        except UnicodeDecodeError as e:
            yield number, None, f"not valid UTF-8 (byte {e.start + 1})"


def read_questions(stream: BinaryIO, fmt: str = "txt") -> Iterator[Item]:
    """Every question of a text, CSV/TSV (``question`` column) or JSONL (``question`` field) file."""
    if fmt in ("csv", "tsv"):
        yield from _read_table(stream, "," if fmt == "csv" else "\t")
        return
    for number, text, problem in _decoded(stream):
        if problem:
            yield Item(number, "", problem)
        elif fmt == "jsonl":
            yield _json_item(number, text)
        else:
            yield Item(number, text.strip(), None if text.strip() else "empty line")


def _json_item(number: int, text: str) -> Item:
    if not text.strip():
        return Item(number, "", "empty line")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        return Item(number, "", f"not valid JSON ({e.msg})")
    question = value.get("question") if isinstance(value, dict) else value
    if not isinstance(question, str):
        return Item(number, "", "no 'question' text in this JSON line")
    return Item(number, question.strip(), None if question.strip() else "empty question")


def _read_table(stream: BinaryIO, delimiter: str) -> Iterator[Item]:
    bad: dict[int, str] = {}

    def lines() -> Iterator[str]:
        for number, text, problem in _decoded(stream):
            if problem:
                bad[number] = problem
                yield "\n"
            else:
                yield text + "\n"

    reader = csv.reader(lines(), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        return
    columns = [c.strip().lower() for c in header]
    column = columns.index("question") if "question" in columns else 0
    start = reader.line_num + 1
    for row in reader:
        problems = [bad.pop(n) for n in range(start, reader.line_num + 1) if n in bad]  # popped: memory stays flat
        problem = problems[0] if problems else None
        question = row[column].strip() if len(row) > column else ""
        if not problem and not question:
            problem = "no question in this row" if any(c.strip() for c in row) else "empty line"
        yield Item(start, question if not problem else "", problem)
        start = reader.line_num + 1


@dataclass(frozen=True)
class Chunk:
    """Consecutive items of the input, and how many bytes of it had been read by their end
    (None when the input cannot tell, as a pipe cannot)."""

    items: tuple[Item, ...]
    end: int | None = None


def read_chunks(stream: BinaryIO, fmt: str = "txt", size: int | None = None) -> Iterator[Chunk]:
    """``read_questions`` in chunks of ``size`` items (default ``CHUNK_LINES``)."""
    size = size or CHUNK_LINES
    tell = stream.tell if _seekable(stream) else lambda: None
    items = read_questions(stream, fmt)
    while chunk := tuple(itertools.islice(items, size)):
        yield Chunk(chunk, tell())


def input_size(stream: BinaryIO) -> int | None:
    """The size in bytes of a regular file (None for a pipe or a terminal)."""
    try:
        status = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


def _seekable(stream: BinaryIO) -> bool:
    try:
        return stream.seekable()
    except (AttributeError, OSError, ValueError):
        return False


def record(item: Item, answer: Answer, top_k: int) -> dict:
    """The output record for one input line."""
    return {"line": item.line, **answer.to_dict(top_k)}


class Formatter:
    """One record as its JSONL line or CSV/TSV row."""

    def __init__(self, fmt: str = "jsonl"):
        self.fmt = fmt
        if fmt != "jsonl":
            self._buffer = io.StringIO()
            self._csv = csv.writer(self._buffer, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")

    def header(self) -> str:
        return "" if self.fmt == "jsonl" else self._row(COLUMNS)

    def __call__(self, rec: dict) -> str:
        if self.fmt == "jsonl":
            return json.dumps(rec, ensure_ascii=False) + "\n"
        cells = dict(rec)
        cells["candidates"] = " ".join(f"{c['intent']}:{c['score']}" for c in rec["candidates"])
        return self._row(["" if cells[c] is None else cells[c] for c in COLUMNS])

    def _row(self, cells) -> str:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._csv.writerow(cells)
        return self._buffer.getvalue()


class Writer:
    """Writes records as JSONL, CSV or TSV to a text stream (the header first)."""

    def __init__(self, out: TextIO, fmt: str = "jsonl"):
        self.out, self.format = out, Formatter(fmt)
        out.write(self.format.header())

    def write(self, rec: dict) -> None:
        self.out.write(self.format(rec))


def write_all(records: Iterable[dict], fmt: str = "jsonl") -> str:
    """All records as one string (for tests and small jobs)."""
    buffer = io.StringIO()
    writer = Writer(buffer, fmt)
    for rec in records:
        writer.write(rec)
    return buffer.getvalue()


class Answered(NamedTuple):
    """A chunk answered: its records as output text, and each answer's status in order."""

    text: str
    statuses: tuple[str, ...]


class _Answerer:
    """Answers chunks with one Bot over ``kb`` (a path; None: the bundled knowledge base).
    The Bot is built on first use, in the process that uses it."""

    def __init__(self, kb: str | None, fmt: str, top_k: int):
        self.kb, self.top_k, self.format = kb, top_k, Formatter(fmt)
        self._bot = None

    def bot(self):
        if self._bot is None:
            from .bot import Bot, default_bot  # here, not above: the reading process never loads Sudachi

            self._bot = Bot.from_path(self.kb) if self.kb else default_bot()
        return self._bot

    def __call__(self, items: Iterable[Item]) -> Answered:
        bot, text, statuses = self.bot(), [], []
        for item in items:
            if item.problem:
                answer = bot.decline(item.question, item.problem)
            else:
                answer = bot.answer(item.question, top_k=self.top_k)
            text.append(self.format(record(item, answer, self.top_k)))
            statuses.append(answer.status)
        return Answered("".join(text), tuple(statuses))


def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def answer_chunks(
    chunks: Iterable[Chunk], *, kb: str | None = None, fmt: str = "jsonl", top_k: int = 3, jobs: int | None = None
) -> Iterator[tuple[Chunk, Answered]]:
    """Every chunk with its answers, in input order, read from ``chunks`` as answers are taken.

    ``jobs``: processes answering. None: one per CPU, or this process alone when the input
    has fewer than ``SMALL_INPUT`` lines (starting workers would cost more than they save).
    1: this process. More: that many workers, each building its own Bot from ``kb``.
    """
    chunks = iter(chunks)
    ahead: list[Chunk] = []
    lines = 0
    for chunk in chunks:  # read ahead far enough to know whether the input is small
        ahead.append(chunk)
        lines += len(chunk.items)
        if lines >= SMALL_INPUT:
            break
    else:
        jobs = 1 if jobs is None else max(1, min(jobs, len(ahead)))
    jobs = jobs or default_jobs()
    chunks = itertools.chain(ahead, chunks)
    if jobs == 1:
        answerer = _Answerer(kb, fmt, top_k)
        answerer.bot()  # a broken knowledge base is reported even for an empty input
        for chunk in chunks:
            yield chunk, answerer(chunk.items)
    else:
        yield from _answer_in_workers(chunks, jobs, (kb, fmt, top_k))


def _answer_in_workers(chunks: Iterator[Chunk], jobs: int, answerer_args: tuple) -> Iterator[tuple[Chunk, Answered]]:
    # Submitted by hand, a few chunks ahead of the one being written: Executor.map submits
    # the whole input at once, and Pool.imap keeps every answer its workers finish while the
    # output is slow. A worker that dies shows as BrokenProcessPool here, not as a hang.
    for stream in (sys.stdout, sys.stderr):  # a forked worker flushes its copy of these when it ends
        if stream is not None:
            stream.flush()
    with ProcessPoolExecutor(jobs, initializer=_start_worker, initargs=answerer_args) as pool:
        pending: deque = deque()
        try:
            for chunk in chunks:
                pending.append((chunk, pool.submit(_work, chunk.items)))
                if len(pending) >= jobs * QUEUED_PER_JOB:
                    chunk, future = pending.popleft()
                    yield chunk, future.result()
            while pending:
                chunk, future = pending.popleft()
                yield chunk, future.result()
        finally:  # also when the reader stops early (an error, a closed pipe, Ctrl-C)
            pool.shutdown(cancel_futures=True)


_worker: _Answerer | None = None


def _start_worker(kb: str | None, fmt: str, top_k: int) -> None:
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the reading process to handle
    _worker = _Answerer(kb, fmt, top_k)


def _work(items: tuple[Item, ...]) -> Answered:
    try:
        return _worker(items)
    except ChatbotError as e:  # its subclasses' arguments do not survive pickling; the message does
        raise ChatbotError(str(e)) from None


class Progress:
    """A progress line on a terminal: questions done, share of the input, rate, time left.
    Silent when ``stream`` is None."""

    INTERVAL = 0.2  # seconds between redraws

    def __init__(self, stream: TextIO | None, total: int | None = None, clock=time.monotonic):
        self.stream, self.total, self.clock = stream, total, clock
        self.started = clock()
        self.done = 0
        self._drawn_at: float | None = None
        self._width = 0

    def update(self, lines: int, position: int | None = None) -> None:
        """``lines`` more questions written; ``position``: bytes of the input read by then."""
        self.done += lines
        now = self.clock()
        if self.stream is None or (self._drawn_at is not None and now - self._drawn_at < self.INTERVAL):
            return
        self._drawn_at = now
        line = progress_line(self.done, now - self.started, position, self.total)
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = len(line)

    def clear(self) -> None:
        """Rub the line out, before a warning or the summary."""
        if self.stream is not None and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def progress_line(
    done: int, elapsed: float, position: int | None = None, total: int | None = None, width: int = 20
) -> str:
    """``[#######-------------]  35%  21,504 questions  5,120/s  ETA 0:08``; without a known
    total (a pipe), just the count and the rate."""
    rate = f"{done / elapsed:,.0f}/s" if elapsed > 0 else "-/s"
    if not total or position is None:
        return f"{done:,} questions  {rate}"
    share = min(1.0, position / total)
    filled = round(share * width)
    left = elapsed * (1 - share) / share if share > 0 else None
    eta = "-:--" if left is None else f"{int(left) // 60}:{int(left) % 60:02d}"
    return f"[{'#' * filled}{'-' * (width - filled)}] {share:4.0%}  {done:,} questions  {rate}  ETA {eta}"

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

import contextlib
import csv
import ctypes
import io
import itertools
import json
import os
import signal
import stat
import sys
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import BinaryIO, Iterable, Iterator, NamedTuple, TextIO

from .errors import ChatbotError, InputError
from .knowledge import accepted_headers, header_name, looks_like_shift_jis
from .models import Answer
from .safe import json_text

FORMATS = ("txt", "csv", "tsv", "jsonl")
OUTPUT_FORMATS = ("jsonl", "csv", "tsv")
MAX_LINE_BYTES = 16 * 1024
# Every format carries the same fields: the JSONL record's keys are these, in this order.
COLUMNS = ("line", "id", "question", "intent", "status", "score", "confidence", "answer", "title", "section",
           "reference", "candidates", "reason", "offered")
CHUNK_LINES = 256  # questions handed to a worker at a time
SMALL_INPUT = 2_000  # an input shorter than this is answered in this process: workers would cost more
QUEUED_PER_JOB = 4  # chunks in flight per worker: enough to keep it busy, few enough to keep memory flat
MAX_RECORD_LINES = 20  # a CSV/TSV record running over more lines than this has lost a closing quote
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet reads a cell starting so as a formula (OWASP)
WORKER_RESTARTS = 1  # a pool whose worker died is started again this many times, then the run fails


class OutputError(ChatbotError):
    """The output cannot be written (a full disk, a closed stdout); what was there before is kept."""


class WorkerError(ChatbotError):
    """A worker process died (killed, or out of memory) and took the answers it held with it."""


@dataclass(frozen=True)
class Item:
    """One question read from the input; ``problem`` says why it cannot be asked."""

    line: int
    question: str
    problem: str | None = None
    id: str | None = None  # the row's own id (an ``id`` column or field), carried to its record


def format_of(name: str, default: str = "txt") -> str:
    """The format a file name implies by its ending (``questions.csv`` → csv)."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return suffix if suffix in FORMATS else default


def _physical_lines(stream: BinaryIO) -> Iterator[tuple[bytes, bool]]:
    """(line without its newline, whether it was cut for being too long). A file whose
    lines end in CR alone (classic Mac) is split at its CRs."""
    first = True
    while True:
        chunk = stream.readline(MAX_LINE_BYTES + 1)
        if not chunk:
            return
        if first and not chunk.endswith(b"\n") and b"\r" in chunk.rstrip(b"\r"):
            yield from _cr_lines(chunk, stream)
            return
        first = False
        if len(chunk) > MAX_LINE_BYTES and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):  # skip the rest of the line
                chunk = stream.readline(1 << 20)
            yield b"", True
            continue
        yield chunk.rstrip(b"\r\n"), False


def _cr_lines(head: bytes, stream: BinaryIO) -> Iterator[tuple[bytes, bool]]:
    """``_physical_lines`` of a file whose lines end in CR: ``head`` read already, then the rest."""
    pending, too_long = head, False
    while True:
        block = stream.read(1 << 16)
        *lines, pending = (pending + block).split(b"\r")
        for line in lines:
            yield (b"", True) if too_long or len(line) > MAX_LINE_BYTES else (line, False)
            too_long = False
        if len(pending) > MAX_LINE_BYTES:
            pending, too_long = b"", True
        if not block:
            if pending or too_long:
                yield (b"", True) if too_long else (pending, False)
            return


def _looks_like_utf16(raw: bytes, number: int) -> bool:
    """A byte-order mark, or ASCII with a NUL byte beside every character."""
    if number == 1 and raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return True
    even, odd = raw[0::2].count(0), raw[1::2].count(0)
    return (even == 0 or odd == 0) and even + odd >= max(2, len(raw) // 4)


def check_encoding(encoding: str) -> str:
    """``encoding`` when files can be read in it line by line (its newline is the byte 0x0A, as
    in UTF-8 and cp932); else an ``InputError`` saying what to do."""
    import codecs

    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise InputError(f"--encoding {encoding}: no such encoding; for Excel on Japanese Windows use cp932") from None
    if "\n".encode(name, "replace") != b"\n" or "a".encode(name, "replace") != b"a":
        raise InputError(f"--encoding {encoding}: lines cannot be read one by one in it; convert the file to UTF-8 "
                         f"(iconv -f {encoding} -t UTF-8)")
    return name


def _decoded(stream: BinaryIO, name: str = "input", encoding: str = "utf-8") -> Iterator[tuple[int, str | None, str | None]]:
    """(line number, text or None, problem) for every physical line. A file that looks
    like UTF-16 is an ``InputError``: read as UTF-8, every line would be junk. So is one that
    looks like Shift_JIS (its first undecodable line is cp932 Japanese, and no line before it
    held UTF-8 beyond ASCII): it is read with ``encoding="cp932"``."""
    utf8 = encoding.replace("_", "-").lower() in ("utf-8", "utf8")
    seen_utf8 = False  # a line of UTF-8 beyond ASCII: the file is UTF-8, a bad line is just bad
    for number, (raw, too_long) in enumerate(_physical_lines(stream), start=1):
        if number == 1 and utf8 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if number <= 2 and _looks_like_utf16(raw, number):
            raise InputError(
                f"{name}:{number}: this looks like UTF-16, not UTF-8; convert it first "
                f"(iconv -f UTF-16 -t UTF-8 {name} > questions-utf8.txt)"
            )
        if too_long:
            yield number, None, f"line longer than {MAX_LINE_BYTES} bytes"
            continue
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as e:
            if utf8 and not seen_utf8 and looks_like_shift_jis(raw) is not None:
                raise InputError(
                    f"{name}:{number}: this looks like Shift_JIS (cp932), as Excel on Japanese Windows saves it, "
                    f"not UTF-8: use --encoding cp932"
                ) from None
            yield number, None, f"not valid {'UTF-8' if utf8 else encoding} (byte {e.start + 1})"
            continue
        seen_utf8 = seen_utf8 or not raw.isascii()
        yield number, text, None


def read_questions(stream: BinaryIO, fmt: str = "txt", name: str = "input", encoding: str = "utf-8") -> Iterator[Item]:
    """Every question of a text, CSV/TSV (``question`` column) or JSONL (``question`` field) file.

    A line that cannot be asked is an item with a ``problem``. A file that cannot be read
    as questions at all (UTF-16; a table without a ``question`` column, or with two; a
    quote left open) raises ``InputError`` naming ``name`` and the line."""
    if fmt in ("csv", "tsv"):
        yield from _read_table(stream, "," if fmt == "csv" else "\t", name, encoding)
        return
    for number, text, problem in _decoded(stream, name, encoding):
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
    except RecursionError:
        return Item(number, "", "JSON nested too deeply")
    except ValueError as e:  # a number of thousands of digits
        return Item(number, "", f"unusable JSON ({str(e).split(':')[0]})")
    row_id = None
    if isinstance(value, dict):
        fields = {header_name(key) or key: field for key, field in value.items()}
        question, row_id = fields.get("question"), fields.get("id")
        row_id = None if row_id is None or isinstance(row_id, (dict, list)) else str(row_id)
    else:
        question = value
    if not isinstance(question, str):
        return Item(number, "", "no 'question' text in this JSON line")
    try:
        question.encode("utf-8")
    except UnicodeEncodeError as e:  # "\\udcff" decodes to half of a UTF-16 pair: not text
        return Item(number, "", f"not text: a lone surrogate \\u{ord(question[e.start]):04x} at character {e.start + 1}")
    return Item(number, question.strip(), None if question.strip() else "empty question", row_id)


def _question_column(header: list[str], name: str) -> int:
    """Which column holds the questions: the one named ``question`` (or 質問, 問い, in any case),
    or the only one."""
    columns = [header_name(c) or c.strip().lower() for c in header]
    found = [i for i, c in enumerate(columns) if c == "question"]
    if len(found) > 1:
        raise InputError(
            f"{name}:1: {len(found)} 'question' columns (columns {', '.join(str(i + 1) for i in found)}); keep one"
        )
    if found:
        return found[0]
    if len(columns) == 1:
        return 0
    shown = ", ".join(repr(c.strip()) for c in header[:10]) + (", …" if len(header) > 10 else "")
    raise InputError(f"{name}:1: no question column (the columns are {shown}); name the questions' column "
                     f"one of: {accepted_headers('question').split(': ', 1)[1]}")


def _id_column(header: list[str]) -> int | None:
    """The column of the rows' own ids (``id``, ``ID``, 番号), if there is exactly one."""
    found = [i for i, c in enumerate(header) if header_name(c) == "id"]
    return found[0] if len(found) == 1 else None


def _read_table(stream: BinaryIO, delimiter: str, name: str = "input", encoding: str = "utf-8") -> Iterator[Item]:
    """The rows after the header; each item's ``line`` is the file's line its row starts on,
    the header being line 1 (so the first question is on line 2)."""
    bad: dict[int, str] = {}

    def lines() -> Iterator[str]:
        for number, text, problem in _decoded(stream, name, encoding):
            if problem:
                bad[number] = problem
                yield "\n"
            else:
                yield text + "\n"

    def open_quote(start: int, end: int, why: str) -> InputError:
        return InputError(
            f"{name}:{start}: {why} (it runs to line {end}): a quote \" opened on line {start} is not closed; "
            f"close it, or double a quote that is part of the text (\"\")"
        )

    reader = csv.reader(lines(), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        return
    column, id_column = _question_column(header, name), _id_column(header)
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            if reader.line_num > start:  # inside a quoted field that went on and on
                raise open_quote(start, reader.line_num, str(e)) from None
            row, bad[start] = [], f"unreadable row ({e})"
        if reader.line_num - start + 1 > MAX_RECORD_LINES:
            raise open_quote(start, reader.line_num, f"one row runs over {reader.line_num - start + 1} lines")
        problems = [bad.pop(n) for n in range(start, reader.line_num + 1) if n in bad]  # popped: memory stays flat
        problem = problems[0] if problems else None
        question = row[column].strip() if len(row) > column else ""
        if not problem and not question:
            problem = "no question in this row" if any(c.strip() for c in row) else "empty line"
        row_id = row[id_column].strip() if id_column is not None and len(row) > id_column else ""
        yield Item(start, question if not problem else "", problem, row_id or None)
        start = reader.line_num + 1


@dataclass(frozen=True)
class Chunk:
    """Consecutive items of the input, and how many bytes of it had been read by their end
    (None when the input cannot tell, as a pipe cannot)."""

    items: tuple[Item, ...]
    end: int | None = None


def read_chunks(
    stream: BinaryIO, fmt: str = "txt", size: int | None = None, name: str = "input", encoding: str = "utf-8"
) -> Iterator[Chunk]:
    """``read_questions`` in chunks of ``size`` items (default ``CHUNK_LINES``)."""
    size = size or CHUNK_LINES
    tell = stream.tell if _seekable(stream) else lambda: None
    items = read_questions(stream, fmt, name, encoding)
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
    """The output record for one input line: ``COLUMNS``, in every format."""
    fields = {"line": item.line, "id": item.id, **answer.to_dict(top_k)}
    return {column: fields[column] for column in COLUMNS}


BOM = "\ufeff"  # what tells Excel that a CSV is UTF-8, not the Windows code page
_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def tsv_cell(value: str) -> str:
    r"""A TSV cell on one line: backslash, newline, CR and tab written as ``\\``, ``\n``, ``\r``, ``\t``
    (the escapes of PostgreSQL's and MySQL's text format), so that every record is one line of
    tab-separated cells for ``cut`` and ``awk``."""
    return value.translate(_TSV_ESCAPES)


class Formatter:
    """One record as its JSONL line or CSV/TSV row. In CSV and TSV a text cell that a
    spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR first) gets a
    ``'`` in front, unless ``guard`` is off. TSV escapes line breaks and tabs (``tsv_cell``);
    CSV quotes them. ``bom``: the CSV header starts with a UTF-8 byte-order mark, for Excel."""

    def __init__(self, fmt: str = "jsonl", *, guard: bool = True, bom: bool = False):
        self.fmt, self.guard, self.bom = fmt, guard, bom and fmt == "csv"
        if fmt == "csv":
            self._buffer = io.StringIO()
            self._csv = csv.writer(self._buffer, lineterminator="\n")

    def header(self) -> str:
        if self.fmt == "jsonl":
            return ""
        return (BOM if self.bom else "") + self._row(COLUMNS)

    def __call__(self, rec: dict) -> str:
        if self.fmt == "jsonl":
            return json_text(rec) + "\n"  # controls and bidi escaped: nothing a terminal acts on
        cells = dict(rec)
        cells["candidates"] = " ".join(f"{c['intent']}:{c['score']}" for c in rec["candidates"])
        cells["offered"] = " ".join(rec["offered"])
        return self._row([self._cell(cells[c]) for c in COLUMNS])

    def _cell(self, value):
        if value is None:
            return ""
        if self.guard and isinstance(value, str) and value.startswith(FORMULA_STARTS):
            return "'" + value
        return value

    def _row(self, cells) -> str:
        if self.fmt == "tsv":
            return "\t".join(tsv_cell(str(c)) for c in cells) + "\n"
        self._buffer.seek(0)
        self._buffer.truncate()
        self._csv.writerow(cells)
        return self._buffer.getvalue()


class Writer:
    """Writes records as JSONL, CSV or TSV to a text stream (the header first)."""

    def __init__(self, out: TextIO, fmt: str = "jsonl", *, guard: bool = True, bom: bool = False):
        self.out, self.format = out, Formatter(fmt, guard=guard, bom=bom)
        out.write(self.format.header())

    def write(self, rec: dict) -> None:
        self.out.write(self.format(rec))


class Sink:
    """A text stream that records are written to, counting them; a failed write (a full
    disk, a closed pipe's neighbours) is an ``OutputError`` naming ``name``."""

    def __init__(self, out: TextIO, name: str):
        self.out, self.name, self.records = out, name, 0

    def write(self, text: str, records: int = 0) -> None:
        try:
            self.out.write(text)
        except BrokenPipeError:
            raise
        except OSError as e:
            raise self.failed(e) from None
        self.records += records

    def flush(self) -> None:
        try:
            self.out.flush()
        except BrokenPipeError:
            raise
        except OSError as e:
            raise self.failed(e) from None

    def failed(self, e: OSError) -> OutputError:
        return OutputError(f"{self.name}: cannot write ({e.strerror or e})")


def same_file(stream: BinaryIO, path: str) -> bool:
    """Whether ``path`` names the file ``stream`` reads (also through a link or another name)."""
    try:
        read, written = os.fstat(stream.fileno()), os.stat(path)
    except (AttributeError, OSError, ValueError):
        return False
    return stat.S_ISREG(read.st_mode) and (read.st_dev, read.st_ino) == (written.st_dev, written.st_ino)


@contextlib.contextmanager
def replacing(path: str) -> Iterator[Sink]:
    """A ``Sink`` for ``path``'s new content. It is written to a temporary file beside
    ``path`` (through a symlink: beside the file it points to) and renamed over it when the
    block ends without an error; otherwise the temporary file is removed and ``path`` is
    left as it was. A path that is not a regular file (a device, a FIFO) is written in place."""
    target = os.path.realpath(path)
    try:
        before = os.stat(target)
    except FileNotFoundError:
        before = None
    except OSError as e:
        raise OutputError(f"{path}: cannot write ({e.strerror})") from e
    if before is not None and not stat.S_ISREG(before.st_mode):
        with _closing_quietly(_open_text(path, target)) as out:
            sink = Sink(out, path)
            yield sink
            sink.flush()
        return
    directory, name = os.path.split(target)
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=directory)
    except OSError as e:
        raise OutputError(f"{path}: cannot write in {directory} ({e.strerror})") from e
    try:
        with _closing_quietly(open(fd, "w", encoding="utf-8", newline="")) as out:
            sink = Sink(out, path)
            yield sink
            sink.flush()
            try:
                os.fsync(out.fileno())
            except OSError as e:
                raise sink.failed(e) from None
        os.chmod(temporary, stat.S_IMODE(before.st_mode) if before else 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _open_text(path: str, target: str) -> TextIO:
    try:
        return open(target, "w", encoding="utf-8", newline="")
    except OSError as e:
        raise OutputError(f"{path}: cannot write ({e.strerror})") from e


@contextlib.contextmanager
def _closing_quietly(out: TextIO) -> Iterator[TextIO]:
    """Closes ``out``; after an error, without letting the flush on closing (a full disk
    again) hide that error."""
    try:
        yield out
    except BaseException:
        with contextlib.suppress(OSError):
            out.close()
        raise
    out.close()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_all(records: Iterable[dict], fmt: str = "jsonl", *, guard: bool = True, bom: bool = False) -> str:
    """All records as one string (for tests and small jobs)."""
    buffer = io.StringIO()
    writer = Writer(buffer, fmt, guard=guard, bom=bom)
    for rec in records:
        writer.write(rec)
    return buffer.getvalue()


class Answered(NamedTuple):
    """A chunk answered: its records as output text, each answer's status in order, and
    why each was declined unasked (None for a question that was asked)."""

    text: str
    statuses: tuple[str, ...]
    reasons: tuple[str | None, ...] = ()


class _Answerer:
    """Answers chunks with one Bot over ``kb`` (a path; None: the bundled knowledge base).
    The Bot is built on first use, in the process that uses it."""

    def __init__(
        self, kb: str | None, fmt: str, top_k: int, guard: bool = True, threshold: float | None = None,
        log_misses: str | None = None,
    ):
        self.kb, self.top_k, self.format = kb, top_k, Formatter(fmt, guard=guard)
        self.threshold, self.log_misses = threshold, log_misses
        self._bot = None

    def bot(self):
        if self._bot is None:
            from .bot import configured  # here, not above: the reading process never loads Sudachi

            self._bot = configured(self.kb, self.threshold, self.log_misses)  # each process appends whole lines
        return self._bot

    def __call__(self, items: Iterable[Item]) -> Answered:
        bot, text, statuses, reasons = self.bot(), [], [], []
        for item in items:
            answer = self._answer(bot, item)
            text.append(self.format(record(item, answer, self.top_k)))
            statuses.append(answer.status)
            reasons.append(answer.reason)
        return Answered("".join(text), tuple(statuses), tuple(reasons))

    def _answer(self, bot, item: Item) -> Answer:
        if item.problem:
            return bot.decline(item.question, item.problem)
        try:
            return bot.answer(item.question, top_k=self.top_k)
        except Exception as e:  # noqa: BLE001 - one question the bot cannot take must not cost the others
            return bot.decline(item.question, f"could not be answered ({type(e).__name__}: {e})")


def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def answer_chunks(
    chunks: Iterable[Chunk], *, kb: str | None = None, fmt: str = "jsonl", top_k: int = 3, jobs: int | None = None,
    guard: bool = True, threshold: float | None = None, log_misses: str | None = None,
) -> Iterator[tuple[Chunk, Answered]]:
    """Every chunk with its answers, in input order, read from ``chunks`` as answers are taken.

    ``jobs``: processes answering. None: one per CPU, or this process alone when the input
    has fewer than ``SMALL_INPUT`` lines (starting workers would cost more than they save).
    1: this process. More: that many workers, each building its own Bot from ``kb``.
    ``guard``: see ``Formatter``. ``threshold``: the answer (and clarify) threshold, None for the default.
    ``log_misses``: see ``Bot``.
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
        answerer = _Answerer(kb, fmt, top_k, guard, threshold, log_misses)
        answerer.bot()  # a broken knowledge base is reported even for an empty input
        for chunk in chunks:
            yield chunk, answerer(chunk.items)
    else:
        yield from _answer_in_workers(chunks, jobs, (kb, fmt, top_k, guard, threshold, log_misses))


def _answer_in_workers(chunks: Iterator[Chunk], jobs: int, answerer_args: tuple) -> Iterator[tuple[Chunk, Answered]]:
    # Submitted by hand, a few chunks ahead of the one being written: Executor.map submits
    # the whole input at once, and Pool.imap keeps every answer its workers finish while the
    # output is slow. A worker that dies shows as BrokenProcessPool here, not as a hang: the
    # chunks it left unanswered go to a new pool, once; a second death ends the run.
    for stream in (sys.stdout, sys.stderr):  # a forked worker flushes its copy of these when it ends
        if stream is not None:
            stream.flush()
    pending: deque = deque()  # (chunk, future), in input order
    restarts = 0
    while True:
        with ProcessPoolExecutor(jobs, initializer=_start_worker, initargs=(os.getpid(), *answerer_args)) as pool:
            try:
                for i, (chunk, future) in enumerate(pending):  # after a worker died: what it took with it
                    if not (future and future.done() and not future.cancelled() and future.exception() is None):
                        pending[i] = (chunk, pool.submit(_work, chunk.items))
                for chunk in chunks:
                    pending.append((chunk, None))  # pending before submitted: a broken pool refuses the submit
                    pending[-1] = (chunk, pool.submit(_work, chunk.items))
                    if len(pending) >= jobs * QUEUED_PER_JOB:
                        yield _taken(pending)
                while pending:
                    yield _taken(pending)
                return
            except BrokenProcessPool:
                restarts += 1
                if restarts > WORKER_RESTARTS:
                    raise WorkerError(
                        "a worker process died twice (killed, or out of memory?); "
                        "try fewer --jobs, or --jobs 1 to answer in one process"
                    ) from None
                print("chatbot: a worker process died; its questions are asked again in new workers", file=sys.stderr)
            finally:  # also when the reader stops early (an error, a closed pipe, Ctrl-C)
                pool.shutdown(cancel_futures=True)


def _taken(pending: deque) -> tuple[Chunk, Answered]:
    """The first pending chunk with its answers, once they are in; removed only then, so
    that a chunk lost with a worker is still pending."""
    chunk, future = pending[0]
    answered = future.result()
    pending.popleft()
    return chunk, answered


_worker: _Answerer | None = None
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _start_worker(
    parent: int, kb: str | None, fmt: str, top_k: int, guard: bool = True, threshold: float | None = None,
    log_misses: str | None = None,
) -> None:
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the reading process to handle
    _die_with(parent)
    _worker = _Answerer(kb, fmt, top_k, guard, threshold, log_misses)


def _die_with(parent: int) -> None:
    """End this worker when the process ``parent`` ends, however it ends (SIGKILL, the OOM
    killer): on Linux the kernel sends SIGTERM; everywhere a thread watches the parent id."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # it died before the line above took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="watch-parent", daemon=True).start()


def _watch_parent(parent: int, interval: float = 1.0) -> None:
    while os.getppid() == parent:
        time.sleep(interval)
    os._exit(1)


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

"""Files of questions in, one record per question out, in input order.

Reading yields every input line, good or bad: a line that is empty, not UTF-8, not
JSON or absurdly long still becomes an item with a ``problem``, so one bad line never
loses the ones around it. Memory stays flat: lines stream through, and a huge line is
skipped past, never held.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import BinaryIO, Iterable, Iterator, TextIO

from .models import Answer

FORMATS = ("txt", "csv", "tsv", "jsonl")
OUTPUT_FORMATS = ("jsonl", "csv", "tsv")
MAX_LINE_BYTES = 16 * 1024
COLUMNS = ("line", "question", "intent", "status", "score", "answer", "candidates", "reason")


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
        problem = next((bad[n] for n in range(start, reader.line_num + 1) if n in bad), None)
        question = row[column].strip() if len(row) > column else ""
        if not problem and not question:
            problem = "no question in this row" if any(c.strip() for c in row) else "empty line"
        yield Item(start, question if not problem else "", problem)
        start = reader.line_num + 1


def record(item: Item, answer: Answer, top_k: int) -> dict:
    """The output record for one input line."""
    return {"line": item.line, **answer.to_dict(top_k)}


class Writer:
    """Writes records as JSONL, CSV or TSV to a text stream."""

    def __init__(self, out: TextIO, fmt: str = "jsonl"):
        self.out, self.fmt = out, fmt
        if fmt != "jsonl":
            self._csv = csv.writer(out, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
            self._csv.writerow(COLUMNS)

    def write(self, rec: dict) -> None:
        if self.fmt == "jsonl":
            self.out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            return
        cells = dict(rec)
        cells["candidates"] = " ".join(f"{c['intent']}:{c['score']}" for c in rec["candidates"])
        self._csv.writerow(["" if cells[c] is None else cells[c] for c in COLUMNS])


def write_all(records: Iterable[dict], fmt: str = "jsonl") -> str:
    """All records as one string (for tests and small jobs)."""
    buffer = io.StringIO()
    writer = Writer(buffer, fmt)
    for rec in records:
        writer.write(rec)
    return buffer.getvalue()

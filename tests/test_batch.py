import csv
import io
import json
from concurrent.futures import ProcessPoolExecutor

import pytest

from chatbot import batch
from chatbot.batch import (
    MAX_LINE_BYTES, Chunk, Item, Progress, answer_chunks, format_of, progress_line, read_chunks,
    read_questions, write_all,
)
from chatbot.errors import ChatbotError


def items(data: bytes, fmt="txt"):
    return [(i.line, i.question, i.problem) for i in read_questions(io.BytesIO(data), fmt)]


def test_text_lines_good_and_bad_keep_their_places():
    data = "裏ももがつる\n\n".encode() + b"\xff\xfe bad\n" + b"x" * (MAX_LINE_BYTES + 10) + "\n前にストレッチは必要?\n".encode()
    got = items(data)
    assert got == [
        (1, "裏ももがつる", None),
        (2, "", "empty line"),
        (3, "", "not valid UTF-8 (byte 1)"),
        (4, "", f"line longer than {MAX_LINE_BYTES} bytes"),
        (5, "前にストレッチは必要?", None),
    ]


def test_bom_and_crlf_are_ignored():
    assert items("\ufeff裏ももがつる\r\nRDLとは\r\n".encode()) == [(1, "裏ももがつる", None), (2, "RDLとは", None)]


def test_last_line_without_newline():
    assert items("a\nb".encode()) == [(1, "a", None), (2, "b", None)]


def test_csv_question_column_and_bad_rows():
    data = 'id,question\n1,裏ももがつる\n2,"改行を\n含む質問"\n3,\n'.encode() + b"4,\xff\n" + "5,RDLとは\n".encode()
    assert items(data, "csv") == [
        (2, "裏ももがつる", None),
        (3, "改行を\n含む質問", None),
        (5, "", "no question in this row"),
        (6, "", "not valid UTF-8 (byte 3)"),
        (7, "RDLとは", None),
    ]


def test_tsv_reads_question_column():
    assert items("question\tnote\n裏ももがつる\tx\n".encode(), "tsv") == [(2, "裏ももがつる", None)]


def test_jsonl_question_field_and_bad_lines():
    data = '{"question": "裏ももがつる"}\n{oops\n{"q": 1}\n"RDLとは"\n\n'.encode()
    assert items(data, "jsonl") == [
        (1, "裏ももがつる", None),
        (2, "", "not valid JSON (Expecting property name enclosed in double quotes)"),
        (3, "", "no 'question' text in this JSON line"),
        (4, "RDLとは", None),
        (5, "", "empty line"),
    ]


@pytest.mark.parametrize("name, fmt", [("q.csv", "csv"), ("Q.TSV", "tsv"), ("q.jsonl", "jsonl"), ("q.txt", "txt"), ("-", "txt"), ("q", "txt")])
def test_format_of(name, fmt):
    assert format_of(name) == fmt


RECORD = {
    "line": 1, "question": "q,\t\"x\"", "intent": None, "status": "declined", "score": 0.1,
    "answer": "a\nb", "candidates": [{"intent": "cramp", "score": 0.1}], "reason": None,
}


def test_writer_jsonl():
    assert json.loads(write_all([RECORD], "jsonl")) == RECORD


@pytest.mark.parametrize("fmt, delimiter", [("csv", ","), ("tsv", "\t")])
def test_writer_csv_and_tsv_round_trip(fmt, delimiter):
    rows = list(csv.reader(io.StringIO(write_all([RECORD], fmt)), delimiter=delimiter))
    assert rows[0] == ["line", "question", "intent", "status", "score", "answer", "candidates", "reason"]
    assert rows[1] == ["1", "q,\t\"x\"", "", "declined", "0.1", "a\nb", "cramp:0.1", ""]


# --- chunks, workers, progress ---------------------------------------------------------

QUESTIONS = ["裏ももがつる", "", "前にストレッチは必要?", "RDLってなに?", "明日の天気を教えてください", "ハムストリングスとは"]


@pytest.fixture
def pools(monkeypatch):
    """The worker counts of the process pools started, in order."""
    started = []

    class Recorded(ProcessPoolExecutor):
        def __init__(self, jobs, **options):
            started.append(jobs)
            super().__init__(jobs, **options)

    monkeypatch.setattr(batch, "ProcessPoolExecutor", Recorded)
    return started


def chunks_of(questions, size=2):
    items = [Item(n, q, None if q else "empty line") for n, q in enumerate(questions, start=1)]
    return [Chunk(tuple(items[i : i + size])) for i in range(0, len(items), size)]


def test_read_chunks_groups_items_and_says_how_far_it_read():
    data = "a\nb\n\nc\nd\n".encode()
    chunks = list(read_chunks(io.BytesIO(data), size=2))
    assert [[(i.line, i.question, i.problem) for i in c.items] for c in chunks] == [
        [(1, "a", None), (2, "b", None)], [(3, "", "empty line"), (4, "c", None)], [(5, "d", None)],
    ]
    assert [c.end for c in chunks] == [4, 7, 9]


def test_read_chunks_from_a_pipe_cannot_tell_how_far():
    class Pipe(io.BytesIO):
        def seekable(self):
            return False

    assert [c.end for c in read_chunks(Pipe(b"a\nb\n"), size=1)] == [None, None]


def test_jobs_2_answers_like_jobs_1_in_input_order(pools):
    one = list(answer_chunks(chunks_of(QUESTIONS), jobs=1))
    two = list(answer_chunks(chunks_of(QUESTIONS), jobs=2))
    assert pools == [2]
    assert [c for c, _ in two] == [c for c, _ in one]
    assert [a for _, a in two] == [a for _, a in one]
    records = [json.loads(line) for _, a in two for line in a.text.splitlines()]
    assert [r["line"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert [r["intent"] for r in records][:4] == ["cramp", None, "stretch_before_training", "romanian_deadlift"]
    assert records[1]["reason"] == "empty line"
    assert [s for _, a in two for s in a.statuses] == [r["status"] for r in records]


def test_small_input_is_answered_in_this_process_unless_jobs_are_asked_for(pools, monkeypatch):
    list(answer_chunks(chunks_of(QUESTIONS)))
    assert pools == []
    monkeypatch.setattr(batch, "SMALL_INPUT", 4)
    monkeypatch.setattr(batch, "default_jobs", lambda: 2)
    list(answer_chunks(chunks_of(QUESTIONS)))
    assert pools == [2]


def test_no_more_workers_than_chunks(pools):
    list(answer_chunks(chunks_of(QUESTIONS[:3], size=2), jobs=8))
    assert pools == [2]


def test_workers_read_the_input_only_a_few_chunks_ahead(monkeypatch):
    monkeypatch.setattr(batch, "SMALL_INPUT", 1)
    monkeypatch.setattr(batch, "QUEUED_PER_JOB", 1)
    read = []

    def chunks():
        for chunk in chunks_of(QUESTIONS * 5, size=1):
            read.append(chunk)
            yield chunk

    answers = answer_chunks(chunks(), jobs=2)
    next(answers)
    assert len(read) <= 3
    assert len(list(answers)) == 29


def test_a_broken_knowledge_base_in_a_worker_is_a_clean_error(tmp_path):
    (tmp_path / "faq.csv").write_text("question,answer\n", encoding="utf-8")
    with pytest.raises(ChatbotError, match="faq.csv"):
        list(answer_chunks(chunks_of(QUESTIONS), kb=str(tmp_path / "faq.csv"), jobs=2))


@pytest.mark.parametrize(
    "done, elapsed, position, total, expected",
    [
        (512, 2.0, None, None, "512 questions  256/s"),
        (1000, 2.0, 50, 200, "[#####---------------]  25%  1,000 questions  500/s  ETA 0:06"),
        (60000, 100.0, 600, 600, "[####################] 100%  60,000 questions  600/s  ETA 0:00"),
        (0, 0.0, 0, 100, "[--------------------]   0%  0 questions  -/s  ETA -:--"),
    ],
)
def test_progress_line(done, elapsed, position, total, expected):
    assert progress_line(done, elapsed, position, total) == expected


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_progress_redraws_at_most_every_interval_and_rubs_itself_out():
    out, clock = io.StringIO(), Clock()
    progress = Progress(out, total=100, clock=clock)
    clock.now = 1.0
    progress.update(10, 10)
    progress.update(10, 20)  # too soon: not drawn
    clock.now = 2.0
    progress.update(10, 30)
    progress.clear()
    drawn = out.getvalue().split("\r")
    assert drawn[1].startswith("[##") and "10 questions  10/s" in drawn[1]
    assert "30 questions  15/s" in drawn[2]
    assert drawn[3].strip() == "" and drawn[4] == ""


def test_progress_without_a_stream_is_silent():
    progress = Progress(None, total=100)
    progress.update(10, 10)
    progress.clear()
    assert progress.done == 10

import csv
import io
import json
import os
import re
from concurrent.futures import ProcessPoolExecutor

import pytest

from chatbot import batch
from chatbot.batch import (
    MAX_LINE_BYTES, Chunk, Item, Progress, answer_chunks, format_of, progress_line, read_chunks,
    read_questions, write_all,
)
from chatbot.errors import ChatbotError, InputError


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
    "line": 1, "id": "q7", "question": "q,\t\"x\"", "intent": None, "status": "declined", "score": 0.1,
    "confidence": 0.05, "answer": "a\nb\\n", "title": None, "section": None, "reference": None,
    "candidates": [{"intent": "cramp", "score": 0.1}], "reason": None, "offered": ["cramp", "stretch"],
}
CELLS = ["1", "q7", "q,\t\"x\"", "", "declined", "0.1", "0.05", "a\nb\\n", "", "", "", "cramp:0.1", "", "cramp stretch"]


def test_writer_jsonl():
    assert json.loads(write_all([RECORD], "jsonl")) == RECORD


def test_writer_csv_round_trip():
    rows = list(csv.reader(io.StringIO(write_all([RECORD], "csv"))))
    assert rows == [list(batch.COLUMNS), CELLS]


def test_tsv_writes_each_record_on_one_line_with_escapes():
    text = write_all([RECORD, RECORD], "tsv")
    lines = text.split("\n")[:-1]
    assert len(lines) == 3 and all(len(line.split("\t")) == len(batch.COLUMNS) for line in lines)
    escaped = [c.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t") for c in CELLS]
    assert lines[1].split("\t") == escaped  # 'a\nb\\n' -> 'a\\nb\\\\n': a backslash stays tellable from a newline


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl"])
def test_every_format_carries_the_same_fields(bot, fmt):
    rec = batch.record(Item(2, "裏ももがつる", id="x1"), bot.answer("裏ももがつる"), 3)
    assert list(rec) == list(batch.COLUMNS)
    assert {"title", "section", "reference", "id", "line"} <= set(rec)
    if fmt == "jsonl":
        assert list(json.loads(write_all([rec], fmt))) == list(batch.COLUMNS)
    else:
        header, row = list(csv.reader(io.StringIO(write_all([rec], fmt)), delimiter="," if fmt == "csv" else "\t"))
        assert header == list(batch.COLUMNS)
        cells = dict(zip(header, row))
        assert (cells["id"], cells["title"], cells["section"]) == ("x1", rec["title"], rec["section"])
        assert cells["reference"].startswith("https://")


@pytest.mark.parametrize("fmt, bom, starts", [("csv", True, "\ufeffline,"), ("csv", False, "line,"),
                                              ("tsv", True, "line\t"), ("jsonl", True, "{")])
def test_a_bom_only_before_a_csv_header(fmt, bom, starts):
    assert write_all([RECORD], fmt, bom=bom).startswith(starts)


SJIS_QUESTIONS = "裏ももがつる\n前にストレッチは必要?\n"


@pytest.mark.parametrize("fmt, data", [
    ("txt", SJIS_QUESTIONS.encode("cp932")),
    ("csv", ("id,question\n1," + SJIS_QUESTIONS.split("\n")[0] + "\n").encode("cp932")),
    ("txt", b"RDL\n" + SJIS_QUESTIONS.encode("cp932")),  # ASCII before it says nothing about the encoding
])
def test_shift_jis_is_refused_whole_saying_to_use_encoding_cp932(fmt, data):
    with pytest.raises(InputError, match=r"q\.txt:\d: this looks like Shift_JIS \(cp932\).*use --encoding cp932"):
        list(read_questions(io.BytesIO(data), fmt, name="q.txt"))


def test_encoding_cp932_reads_shift_jis():
    got = [(i.line, i.question, i.problem) for i in read_questions(io.BytesIO(SJIS_QUESTIONS.encode("cp932")),
                                                                     encoding="cp932")]
    assert got == [(1, "裏ももがつる", None), (2, "前にストレッチは必要?", None)]


def test_a_shift_jis_line_in_a_utf8_file_is_declined_alone():
    data = "裏ももがつる\n".encode() + "前にストレッチは必要?\n".encode("cp932") + "RDLとは\n".encode()
    got = [(i.line, i.problem is None) for i in read_questions(io.BytesIO(data))]
    assert got == [(1, True), (2, False), (3, True)]


@pytest.mark.parametrize("encoding, words", [("nope", "no such encoding"), ("utf-16", "cannot be read one by one")])
def test_an_unusable_encoding_is_refused(encoding, words):
    with pytest.raises(InputError, match=words):
        batch.check_encoding(encoding)


@pytest.mark.parametrize("fmt, data", [
    ("csv", "ID,Question\nq1,裏ももがつる\nq2,RDLとは\n"),
    ("csv", "番号,質問\nq1,裏ももがつる\nq2,RDLとは\n"),
    ("tsv", "問い\tid\n裏ももがつる\tq1\nRDLとは\tq2\n"),
    ("jsonl", '{"id": "q1", "question": "裏ももがつる"}\n{"ID": "q2", "質問": "RDLとは"}\n'),
])
def test_question_files_headers_in_any_case_and_ids_carried(fmt, data):
    got = [(i.line, i.id, i.question) for i in read_questions(io.BytesIO(data.encode()), fmt)]
    first = 1 if fmt == "jsonl" else 2  # a table's header is its line 1
    assert got == [(first, "q1", "裏ももがつる"), (first + 1, "q2", "RDLとは")]


def test_no_question_column_names_the_accepted_names():
    with pytest.raises(InputError, match="no question column.*question, 質問, 問い"):
        list(read_questions(io.BytesIO("a,b\nx,y\n".encode()), "csv", name="q.csv"))


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


def test_progress_without_a_stream_is_silent(capsys):
    clock = Clock()
    progress = Progress(None, total=100, clock=clock)
    for step in range(1, 4):
        clock.now = float(step)  # well past the redraw interval each time
        progress.update(10, 10 * step)
    progress.clear()
    assert capsys.readouterr() == ("", "")
    assert progress.done == 30


# --- question files that used to be misread quietly -------------------------------------


def test_a_line_of_exactly_16_kib_is_read_and_one_byte_more_is_not():
    exact, over = b"a" * MAX_LINE_BYTES, b"b" * (MAX_LINE_BYTES + 1)
    got = [(i.line, len(i.question), i.problem) for i in read_questions(io.BytesIO(exact + b"\n" + over + b"\n" + exact))]
    assert got == [(1, MAX_LINE_BYTES, None), (2, 0, f"line longer than {MAX_LINE_BYTES} bytes"), (3, MAX_LINE_BYTES, None)]


@pytest.mark.parametrize("data", ["a\rb\r\rc", "a\rb\r\rc\r"])
def test_a_file_with_cr_line_ends_is_read_as_lines(data):
    assert items(data.encode()) == [(1, "a", None), (2, "b", None), (3, "", "empty line"), (4, "c", None)]


def test_a_long_cr_file_keeps_one_record_per_line():
    data = "".join(f"質問{n}\r" for n in range(5000)).encode() + b"x" * (MAX_LINE_BYTES + 1) + b"\rlast"
    got = items(data)
    assert len(got) == 5002
    assert got[4999] == (5000, "質問4999", None)
    assert got[5000][2] == f"line longer than {MAX_LINE_BYTES} bytes" and got[5001] == (5002, "last", None)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("fmt", ["txt", "csv", "jsonl"])
def test_a_utf16_file_is_an_error_that_says_so(encoding, fmt):
    data = "question\n裏ももがつる hamstring\nRDL とは\n".encode(encoding)
    with pytest.raises(InputError, match=r"q\.txt:[12]: this looks like UTF-16, not UTF-8; convert it"):
        list(read_questions(io.BytesIO(data), fmt, name="q.txt"))


def test_nul_bytes_inside_utf8_lines_are_not_taken_for_utf16():
    assert items(b"a\x00b\n\x00\n" + "裏もも\x00".encode() + b"\n") == [(1, "a\x00b", None), (2, "\x00", None), (3, "裏もも\x00", None)]


@pytest.mark.parametrize(
    "header, message",
    [
        ("id,text", r"q.csv:1: no question column \(the columns are 'id', 'text'\)"),
        ("質問,id,Question", r"q.csv:1: 2 'question' columns \(columns 1, 3\); keep one"),
        ("question,id,Question", r"q.csv:1: 2 'question' columns \(columns 1, 3\); keep one"),
    ],
)
def test_a_table_without_one_question_column_is_an_error(header, message):
    data = f"{header}\n1,裏ももがつる,x\n".encode()
    with pytest.raises(InputError, match=message):
        list(read_questions(io.BytesIO(data), "csv", name="q.csv"))


def test_a_table_of_one_column_is_read_whatever_its_header():
    assert items("質問\n裏ももがつる\nRDLとは\n".encode(), "csv") == [(2, "裏ももがつる", None), (3, "RDLとは", None)]


def test_an_unclosed_quote_is_an_error_at_the_line_it_opens():
    rows = [f"{n},質問{n}" for n in range(1, 51)]
    rows[2] = '3,"質問3'
    data = ("id,question\n" + "\n".join(rows) + "\n").encode()
    with pytest.raises(InputError, match=r"q.csv:4: .*a quote \" opened on line 4 is not closed"):
        list(read_questions(io.BytesIO(data), "csv", name="q.csv"))


def test_a_quoted_field_over_the_csv_field_limit_is_an_error_not_a_crash():
    data = b'id,question\n1,"' + (b"x" * 10_000 + b"\n") * 15 + b'"\n2,ok\n'
    with pytest.raises(InputError, match=r"q.csv:2: field larger than field limit"):
        list(read_questions(io.BytesIO(data), "csv", name="q.csv"))


def test_a_bare_cr_inside_an_unquoted_cell_declines_that_row_only():
    got = items("question\n裏もも\rがつる\nRDLとは\n".encode(), "csv")
    assert got[0][0] == 2 and got[0][2].startswith("unreadable row")
    assert got[1] == (3, "RDLとは", None)


@pytest.mark.parametrize(
    "line, reason",
    [
        ('{"question": "\\udcff"}', "not text: a lone surrogate \\udcff at character 1"),
        ('{"question": "裏もも\\ud800"}', "not text: a lone surrogate \\ud800 at character 4"),
        ("[" * 5000 + "]" * 5000, "JSON nested too deeply"),
        ('{"question": "q", "n": ' + "9" * 5000 + "}", "unusable JSON (Exceeds the limit (4300 digits) for integer string conversion"),
    ],
)
def test_hostile_jsonl_lines_are_declined_and_the_next_is_read(line, reason):
    got = items((line + '\n{"question": "RDLとは"}\n').encode(), "jsonl")
    assert got[0][:2] == (1, "") and got[0][2].startswith(reason)
    assert got[1] == (2, "RDLとは", None)


@pytest.mark.parametrize("separator", ["\u2028", "\u0085", "\u2029"])
def test_jsonl_is_split_at_newlines_only(separator):
    data = f'{{"question": "裏もも{separator}がつる"}}\n{{"question": "RDLとは"}}\n'.encode()
    assert items(data, "jsonl") == [(1, f"裏もも{separator}がつる", None), (2, "RDLとは", None)]


# --- writing ----------------------------------------------------------------------------


def read_back(text: str, fmt: str) -> list[dict]:
    """CSV or TSV output as its records (TSV's escapes undone)."""
    if fmt == "csv":
        header, *rows = csv.reader(io.StringIO(text, newline=""))
    else:
        unescape = lambda cell: re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m[1], m[1]), cell)  # noqa: E731
        header, *rows = [[unescape(c) for c in line.split("\t")] for line in text.split("\n")[:-1]]
    return [dict(zip(header, row)) for row in rows]


@pytest.mark.parametrize(
    "text, guarded",
    [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+1", "'+1"), ("-5kg", "'-5kg"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
        ("裏もも=1", "裏もも=1"), ("", ""),
    ],
)
@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_csv_cells_that_a_spreadsheet_would_run_get_a_quote_unless_asked_not_to(text, guarded, fmt):
    rec = dict(RECORD, question=text, answer=text, candidates=[])
    for guard, expected in ((True, guarded), (False, text)):
        row = read_back(write_all([rec], fmt, guard=guard), fmt)[0]
        assert (row["question"], row["answer"]) == (expected, expected)


@pytest.mark.parametrize("fmt, cell, bare", [("csv", "'\r=1+2", "\r=1+2"), ("tsv", "'\\r=1+2", "\\r=1+2")])
def test_a_cell_starting_with_cr_is_guarded_too(fmt, cell, bare):
    rec = dict(RECORD, question="\r=1+2", candidates=[])
    delimiter = "," if fmt == "csv" else "\t"
    assert f"\n1{delimiter}q7{delimiter}{cell}{delimiter}" in write_all([rec], fmt)
    assert f"\n1{delimiter}q7{delimiter}{bare}{delimiter}" in write_all([rec], fmt, guard=False)


def test_jsonl_records_are_never_guarded():
    assert json.loads(write_all([dict(RECORD, question="=1+2")], "jsonl"))["question"] == "=1+2"


# --- answering: one bad question, one dead worker ------------------------------------------


def test_a_question_that_makes_the_bot_fail_is_declined_alone(monkeypatch):
    from chatbot.bot import Bot

    real = Bot.answer

    def fragile(self, question, **options):
        if question == "壊れる":
            raise RuntimeError("tokenizer refused it")
        return real(self, question, **options)

    monkeypatch.setattr(Bot, "answer", fragile)
    (chunk, done), = answer_chunks(chunks_of(["裏ももがつる", "壊れる", "RDLってなに?"], size=3), jobs=1)
    records = [json.loads(line) for line in done.text.splitlines()]
    assert [r["status"] for r in records] == ["answered", "declined", "answered"]
    assert done.reasons == (None, "could not be answered (RuntimeError: tokenizer refused it)", None)


def dying_worker(monkeypatch, marker):
    """Workers (forked, so they see this patch) die on the question 死ぬ: always, or when
    ``marker`` is a path, only the first time."""
    real = batch._Answerer.__call__

    def call(self, items):
        if any(i.question == "死ぬ" for i in items):
            if marker is None or not marker.exists():
                if marker is not None:
                    marker.touch()
                os._exit(9)
        return real(self, items)

    monkeypatch.setattr(batch._Answerer, "__call__", call)


def test_a_worker_that_dies_once_loses_no_answer(monkeypatch, tmp_path, capsys):
    dying_worker(monkeypatch, tmp_path / "died")
    questions = ["裏ももがつる", "RDLってなに?", "死ぬ", "前にストレッチは必要?"] * 3
    got = list(answer_chunks(chunks_of(questions, size=1), jobs=2))
    records = [json.loads(line) for _, a in got for line in a.text.splitlines()]
    assert [r["line"] for r in records] == list(range(1, 13))
    assert [r["question"] for r in records] == questions
    assert (tmp_path / "died").exists()
    assert "a worker process died" in capsys.readouterr().err


def test_a_worker_that_keeps_dying_is_a_clean_error(monkeypatch):
    dying_worker(monkeypatch, None)
    with pytest.raises(batch.WorkerError, match="died twice"):
        list(answer_chunks(chunks_of(["裏ももがつる", "死ぬ", "RDLとは"], size=1), jobs=2))

import csv
import io
import json

import pytest

from chatbot.batch import MAX_LINE_BYTES, Writer, format_of, read_questions, write_all


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

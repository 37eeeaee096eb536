"""Hostile input through the real command (``python -m chatbot`` as a subprocess): ``ask`` (argv),
piped chat (stdin) and ``batch`` (a file). Never a traceback, the right exit status, nothing
in stdout or stderr that a terminal would act on, and for batch one record per line, in order."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD = "裏ももがつる"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

# name, the bytes of one line, exit status of ``ask`` with it (3: declined; None: argv cannot carry it)
HOSTILE = [
    ("invalid UTF-8", b"\xff\xfe\x80 abc", 2),
    ("Shift_JIS", GOOD.encode("shift_jis"), 2),
    ("lone surrogate", b"\xed\xa0\x80", 2),  # U+D800 as UTF-8 would spell it
    ("NUL", b"a\x00b", None),
    ("OSC title", b"\x1b]0;PWNED\x07", 3),
    ("clear screen", b"\x1b[2J", 3),
    ("C1 CSI", "\x9b2J".encode(), 3),
    ("bidi override", "\u202eevil\u202c".encode(), 3),
    ("100 KB", ("裏もも" + "あ" * 33_000).encode(), 2),
    ("empty", b"", 2),
    ("whitespace", " \u3000\t".encode(), 2),
    ("emoji only", "😀🙏🏻".encode(), 3),
]


def chatbot(*args: bytes | str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chatbot", *args], input=stdin, capture_output=True,
                          timeout=120, cwd=ROOT)


def assert_clean(done: subprocess.CompletedProcess) -> tuple[str, str]:
    out, err = done.stdout.decode("utf-8"), done.stderr.decode("utf-8")  # valid UTF-8, both
    assert "Traceback" not in err, err
    assert not RAW.search(out.replace("\n", "")), out
    assert not RAW.search(err.replace("\n", "")), err
    return out, err


@pytest.mark.parametrize("line, status", [(line, status) for _, line, status in HOSTILE if status is not None],
                         ids=[name for name, _, status in HOSTILE if status is not None])
def test_ask(line, status):
    done = chatbot("ask", "--json", line)
    out, err = assert_clean(done)
    assert done.returncode == status, err
    if status == 2:
        assert err.startswith("chatbot: error: ")
    if out:
        record = json.loads(out)
        assert record["status"] == "declined" and (record["reason"] is not None) == (status == 2)


def test_piped_chat_answers_every_good_line_after_a_hostile_one():
    done = chatbot(stdin=b"".join(line + b"\n" + GOOD.encode() + b"\n" for _, line, _ in HOSTILE))
    out, err = assert_clean(done)
    source = "(出典: 5. よくある質問/注意点・失敗しないためのコツ / 参考: https://www.mediaid-online.jp/clinic_notes/information/201/)"
    assert done.returncode == 0 and err == ""
    assert out.count(source) == len(HOSTILE) and out.rstrip("\n").endswith(source)
    unreadable = sum(status == 2 and name not in ("empty", "whitespace") for name, _, status in HOSTILE)
    assert out.count("(理由: ") == unreadable  # blank lines are skipped; the rest declined with a reason


@pytest.fixture(scope="module")
def batch_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "questions.txt"
    # each hostile line after a good one: a file that starts with FF FE is refused as UTF-16
    path.write_bytes(b"".join(GOOD.encode() + b"\n" + line + b"\n" for _, line, _ in HOSTILE))
    return chatbot("batch", str(path))


def test_batch_keeps_one_record_per_line_and_answers_the_good_ones(batch_run):
    err = batch_run.stderr.decode("utf-8")
    records = [json.loads(line) for line in batch_run.stdout.decode("utf-8").splitlines()]
    assert batch_run.returncode == 0 and "Traceback" not in err
    assert [r["line"] for r in records] == list(range(1, 2 * len(HOSTILE) + 1))
    assert all((r["intent"], r["status"]) == ("cramp", "answered") for r in records[0::2])
    assert all(r["status"] == "declined" for r in records[1::2])
    assert f"{2 * len(HOSTILE)} questions:" in err


def test_batch_output_has_nothing_a_terminal_acts_on(batch_run):
    assert_clean(batch_run)

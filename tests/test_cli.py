import argparse
import io
import json
import re
import subprocess
import sys

import pytest

from chatbot import __version__, batch, cli

from .conftest import SHARED, needs_shared
from .test_batch import pools  # noqa: F401 (a fixture: the worker counts of the pools started)


def run(argv, stdin: bytes | None = None, monkeypatch=None):
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    code = cli.main(argv, out=out)
    return code, out.getvalue()


def test_ask_prints_the_answer_and_its_source(bot):
    code, out = run(["ask", "裏ももがつる"])
    assert code == 0
    assert out.startswith(bot.kb.intent("cramp").answer)
    assert "出典: 5." in out and "参考: https://" in out


@pytest.mark.parametrize("question, intent", [("裏ももがつる", "cramp"), ("前にストレッチは必要?", "stretch_before_training")])
def test_ask_json(question, intent):
    code, out = run(["ask", "--json", question])
    result = json.loads(out)
    assert code == 0
    assert (result["intent"], result["status"]) == (intent, "answered")
    assert 0 <= result["score"] <= 1
    assert result["candidates"][0]["intent"] == intent and len(result["candidates"]) <= 3
    assert result["reference"].startswith("https://")


@pytest.mark.parametrize("argv", [["ask"], ["ask", "--json"]])
def test_ask_declined_exits_3_so_that_a_script_can_tell(argv):
    assert run([*argv, "明日の天気を教えてください"])[0] == cli.DECLINED_STATUS == 3
    assert run([*argv, "裏ももがつる"])[0] == 0


@pytest.mark.parametrize("top_k", [[], ["--top-k", "1"]])
def test_ask_lists_the_offered_topics_with_their_ids_not_numbers(bot, top_k):
    # the closest topics whatever --top-k, also where help ranks first (help is never offered)
    assert bot.rank("明日の天気を教えてください")[0].intent == bot.kb.intents.index(bot.kb.intent("help"))
    code, out = run(["ask", *top_k, "明日の天気を教えてください"])
    offered = bot.answer("明日の天気を教えてください").offered
    assert code == 3 and not re.search(r"^\d+\. ", out, re.M)
    assert out.rstrip("\n").split("\n")[-len(offered):] == [f"・{bot.kb.intent(i).title} [{i}]" for i in offered]


@pytest.mark.parametrize("text, offered, listed", [
    ("「A」と「B」のどちらについてのご質問ですか?\n1. A\n2. B", ("a", "b"),
     "「A」と「B」のどちらについてのご質問ですか?\n・A [a]\n・B [b]"),
    ("すみません。\n次のような話題ならお答えできます:\n1. 3. 種目\n2. B", ("x", "y"),
     "すみません。\n次のような話題ならお答えできます:\n・3. 種目 [x]\n・B [y]"),
    ("1. 答えの一部です", (), "1. 答えの一部です"),  # an answer's own numbered line stays as it is
])
def test_listed_turns_numbered_choices_into_titles_with_ids(text, offered, listed):
    from chatbot import Answer, replies

    assert replies.listed(Answer("q", text, "clarify", None, 0.5, offered=offered)) == listed


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out == f"chatbot {__version__}\n"


def test_ask_joins_words():
    code, out = run(["ask", "--json", "RDL", "とは"])
    assert json.loads(out)["question"] == "RDL とは"


def test_ask_out_of_scope_declines_and_offers_topics(bot):
    code, out = run(["ask", "--json", "明日の天気を教えてください"])
    result = json.loads(out)
    offered = [bot.kb.intent(i).title for i in bot.answer("明日の天気を教えてください").offered]
    assert (code, result["status"], result["intent"]) == (3, "declined", None)
    assert result["answer"].startswith("すみません、そのご質問にお答えできる情報がありません。")
    assert result["answer"].splitlines()[-3:] == [f"{n}. {title}" for n, title in enumerate(offered, start=1)]


@pytest.mark.parametrize("question", ["", "   ", "\u3000"])
def test_ask_an_empty_question_is_bad_usage(question, capsys):
    code, out = run(["ask", question])
    assert (code, out) == (2, "")
    assert "the question is empty" in capsys.readouterr().err


@pytest.mark.parametrize("question, reason", [
    ("裏ももがつる".encode("shift_jis").decode("utf-8", "surrogateescape"), "not valid text"),  # argv of a Shift_JIS shell
    ("\ud800", "not valid text"),
    ("あ" * 5000, "longer than 1000 characters"),
])
def test_ask_a_question_that_cannot_be_asked_is_declined_with_its_reason(question, reason, capsys):
    code, out = run(["ask", "--json", question])
    result = json.loads(out)
    assert code == 2 and result["status"] == "declined" and reason in result["reason"]
    assert f"chatbot: error: cannot answer: {result['reason']}" in capsys.readouterr().err


HOSTILE = "\x1b]0;PWNED\x07\x1b[2J\x9b\u202e\u2066x"


def test_ask_json_escapes_controls_and_bidi_but_keeps_the_value():
    code, out = run(["ask", "--json", HOSTILE + "裏ももがつる"])
    assert code == (3 if json.loads(out)["status"] == "declined" else 0)
    assert json.loads(out)["question"] == HOSTILE + "裏ももがつる"
    assert not any(ch in out for ch in "\x1b\x07\x9b\u202e\u2066")
    assert "裏ももがつる" in out  # Japanese stays readable (ensure_ascii is off)


def test_ask_shows_knowledge_text_inert(tmp_path):
    faq = tmp_path / "faq.csv"
    faq.write_text("id,question,answer\nx,燃えるゴミの日,月曜\x1b[2Jです\u202e\n", encoding="utf-8")
    code, out = run(["ask", "--kb", str(faq), "燃えるゴミの日"])
    assert (code, out) == (0, "月曜\\x1b[2Jです\\u202e\n")


def test_eval_sets_apart_labels_the_knowledge_base_does_not_have(tmp_path, capsys):
    labels = tmp_path / "labels.tsv"
    labels.write_text("cramp\t裏ももがつる\ncrmp\t脚がつる\nnone\t明日の天気\nfoo\t何か\ncrmp\t夜中に脚がつる\n", encoding="utf-8")
    code, out = run(["eval", "--json", str(labels)])
    result = json.loads(out)
    assert code == 0
    assert result["unknown_labels"] == [{"label": "crmp", "lines": [2, 5]}, {"label": "foo", "lines": [4]}]
    figures = result["figures"]
    assert (figures["questions"], figures["in_scope"], figures["wrong"], figures["unknown_label"]) == (2, 1, 0, 3)
    err = capsys.readouterr().err
    assert "label 'crmp' is not in the knowledge base (lines 2, 5)" in err and "label 'foo'" in err
    code, out = run(["eval", str(labels)])
    assert "not counted:             3 with a label the knowledge base does not have: crmp, foo" in out


def test_batch_jsonl_from_stdin_keeps_order_and_bad_lines(monkeypatch, capsys):
    data = "裏ももがつる\n\n".encode() + b"\xff\n" + "前にストレッチは必要?\n".encode()
    code, out = run(["batch", "-"], stdin=data, monkeypatch=monkeypatch)
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r["line"] for r in records] == [1, 2, 3, 4]
    assert [r["intent"] for r in records] == ["cramp", None, None, "stretch_before_training"]
    assert [r["status"] for r in records] == ["answered", "declined", "declined", "answered"]
    assert records[1]["reason"] == "empty line" and "UTF-8" in records[2]["reason"]
    err = capsys.readouterr().err
    assert "-:3: not valid UTF-8" in err and "4 questions: 2 answered, 0 clarify, 2 declined (2 unreadable)" in err


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl"])
def test_batch_output_formats_to_file(tmp_path, fmt):
    src = tmp_path / "q.txt"
    src.write_text("裏ももがつる\nRDLってなに?\n", encoding="utf-8")
    out = tmp_path / f"out.{fmt}"
    code, stdout = run(["batch", str(src), "-o", str(out), "--top-k", "2"])
    text = out.read_text(encoding="utf-8")
    assert code == 0 and stdout == ""
    if fmt == "jsonl":
        records = [json.loads(line) for line in text.splitlines()]
        assert [r["intent"] for r in records] == ["cramp", "romanian_deadlift"]
        assert all(len(r["candidates"]) <= 2 for r in records)
    else:
        assert text.startswith("\ufeff") == (fmt == "csv")  # a BOM for Excel, in a .csv file only
        header, first, second = text.lstrip("\ufeff").splitlines()[:1] + [l for l in text.splitlines()[1:] if l[:1].isdigit()][:2]
        assert header.split("," if fmt == "csv" else "\t") == list(batch.COLUMNS)
        assert "cramp" in first and "romanian_deadlift" in second


@pytest.mark.parametrize("argv, bom", [([], False), (["--bom"], True)])
def test_batch_csv_to_stdout_has_a_bom_only_when_asked(tmp_path, argv, bom):
    src = tmp_path / "q.txt"
    src.write_text("裏ももがつる\n", encoding="utf-8")
    code, out = run(["batch", str(src), "--format", "csv", *argv])
    assert code == 0 and out.startswith("\ufeff") == bom and out.lstrip("\ufeff").startswith("line,id,question,")


@pytest.mark.parametrize("fmt, header", [("csv", "line,id,question,"), ("tsv", "line\tid\tquestion\t"), ("jsonl", "")])
def test_batch_an_empty_input_gets_its_header(tmp_path, fmt, header):
    src = tmp_path / "q.txt"
    src.write_bytes(b"")
    code, out = run(["batch", str(src), "--format", fmt])
    assert code == 0 and out.startswith(header) and out.count("\n") == (1 if header else 0)


def test_batch_no_bom_writes_a_csv_file_without_one(tmp_path):
    src, out = tmp_path / "q.txt", tmp_path / "a.csv"
    src.write_text("裏ももがつる\n", encoding="utf-8")
    assert run(["batch", str(src), "-o", str(out), "--no-bom"])[0] == 0
    assert out.read_bytes().startswith(b"line,id,question,")


SJIS_CSV = "番号,質問\nq1,裏ももがつる\nq2,前にストレッチは必要?\n".encode("cp932")


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "tsv"])
def test_batch_shift_jis_file_is_refused_saying_use_encoding(tmp_path, capsys, fmt):
    src = tmp_path / "q.csv"
    src.write_bytes(SJIS_CSV)
    assert run(["batch", str(src), "--format", fmt]) == (2, "")  # not even a header
    err = capsys.readouterr().err
    assert f"chatbot: error: {src}:1: this looks like Shift_JIS (cp932)" in err and "use --encoding cp932" in err


def test_batch_encoding_cp932_reads_it_and_carries_ids_and_header_line(tmp_path):
    src = tmp_path / "q.csv"
    src.write_bytes(SJIS_CSV)
    code, out = run(["batch", str(src), "--encoding", "cp932"])
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [(r["line"], r["id"], r["intent"]) for r in records] == [(2, "q1", "cramp"), (3, "q2", "stretch_before_training")]


def test_batch_unknown_encoding_is_bad_usage(tmp_path, capsys):
    src = tmp_path / "q.txt"
    src.write_text("x\n", encoding="utf-8")
    assert run(["batch", str(src), "--encoding", "klingon"]) == (2, "")
    assert "--encoding klingon: no such encoding" in capsys.readouterr().err


def test_batch_csv_input_with_question_column(tmp_path):
    src = tmp_path / "q.csv"
    src.write_text("id,question\n7,裏ももがつる\n", encoding="utf-8")
    code, out = run(["batch", str(src)])
    assert json.loads(out)["intent"] == "cramp"


def test_batch_missing_file_is_a_clean_error(tmp_path, capsys):
    code, out = run(["batch", str(tmp_path / "nope.txt")])
    assert code == 2 and out == ""
    assert "nope.txt: cannot read" in capsys.readouterr().err


BATCH_LINES = (
    "裏ももがつる\n\n".encode() + b"\xff\n" + "前にストレッチは必要?\nRDLってなに?\n".encode()
    + b"x" * 20000 + "\n明日の天気を教えてください\nハムストリングスとは\n".encode()
)


def test_batch_jobs_2_writes_what_jobs_1_writes_in_order(tmp_path, monkeypatch, capsys, pools):
    monkeypatch.setattr(batch, "CHUNK_LINES", 2)  # four chunks for two workers
    src = tmp_path / "q.txt"
    src.write_bytes(BATCH_LINES)
    outputs, errors = [], []
    for jobs in ("1", "2"):
        code, out = run(["batch", str(src), "--jobs", jobs])
        assert code == 0
        outputs.append(out)
        errors.append(capsys.readouterr().err)
    assert pools == [2]
    assert outputs[0] == outputs[1]
    records = [json.loads(line) for line in outputs[1].splitlines()]
    assert [r["line"] for r in records] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert [r["intent"] for r in records[:5]] == ["cramp", None, None, "stretch_before_training", "romanian_deadlift"]
    assert [r["reason"] for r in records[1:3]] == ["empty line", "not valid UTF-8 (byte 1)"]
    assert records[5]["status"] == "declined" and "longer than" in records[5]["reason"]
    for err in errors:
        assert "q.txt:6: line longer than" in err
        assert "8 questions: " in err and "(3 unreadable)" in err


def test_batch_shows_no_progress_when_stderr_is_not_a_terminal(tmp_path, capsys):
    src = tmp_path / "q.txt"
    src.write_bytes(BATCH_LINES)
    code, out = run(["batch", str(src)])
    err = capsys.readouterr().err
    assert code == 0 and "\r" not in err and "/s" not in err
    assert err.splitlines()[-1].startswith("chatbot: 8 questions: ")


def test_batch_shows_progress_on_a_terminal(tmp_path, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    src = tmp_path / "q.txt"
    src.write_text("裏ももがつる\nRDLってなに?\n", encoding="utf-8")
    code, out = run(["batch", str(src)])
    shown = terminal.getvalue()
    assert code == 0
    assert "\r[####################] 100%  2 questions  " in shown and "/s  ETA 0:00" in shown
    assert shown.split("\r")[-1].startswith("chatbot: 2 questions: 2 answered")  # the bar rubbed out first


@pytest.mark.parametrize("argv", [["ask", "裏ももがつる", "--top-k"], ["batch", "-", "--top-k"]])
@pytest.mark.parametrize("top_k", ["0", "-1", "three"])
def test_top_k_must_be_a_positive_number(argv, top_k, capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main([*argv, top_k])
    assert exit.value.code == 2 and "expected a whole number of 1 or more" in capsys.readouterr().err


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_batch_jobs_must_be_a_positive_number(jobs, capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(["batch", "-", "--jobs", jobs])
    assert exit.value.code == 2 and "expected a whole number of 1 or more" in capsys.readouterr().err


def test_broken_knowledge_base_exits_2_naming_file_and_line(tmp_path, capsys):
    (tmp_path / "intents.yaml").write_text("intents:\n  - id: a\n    examples: [x\n", encoding="utf-8")
    code, out = run(["ask", "--kb", str(tmp_path), "裏もも"])
    err = capsys.readouterr().err
    assert code == 2 and out == ""
    assert err.startswith("chatbot: error: ") and "intents.yaml:4: not valid YAML" in err
    assert "Traceback" not in err


def test_kb_faq_table(tmp_path):
    faq = tmp_path / "faq.csv"
    faq.write_text("id,question,answer\ngarbage,燃えるゴミは何曜日に出せますか,月曜と木曜です\n"
                   "pension,年金の手続きはどこでしますか,市役所の窓口です\n", encoding="utf-8")
    code, out = run(["ask", "--json", "--kb", str(faq), "燃えるゴミの日"])
    assert json.loads(out)["intent"] == "garbage"


def test_chat_reads_lines_when_piped(monkeypatch):
    code, out = run([], stdin="裏ももがつる\n\n/quit\n天気\n".encode(), monkeypatch=monkeypatch)
    assert code == 0
    assert out.count("\n(出典") == 1 and "天気" not in out


def test_eval_prints_the_three_figures(tmp_path):
    labels = tmp_path / "labels.tsv"
    labels.write_text("intent\tquestion\ncramp\t裏ももがつった\nnone\t今日の天気は?\n", encoding="utf-8")
    code, out = run(["eval", str(labels)])
    assert code == 0
    assert "in-scope answered right: 1/1 = 100.0%" in out
    assert "out-of-scope declined:   1/1 = 100.0%" in out
    assert "wrong answers:           0/2 = 0.0%" in out


MISSED = ["明日の天気は?", "株価を教えて", "今日の夕飯", "電車の時刻", "映画のおすすめ"]


def test_eval_json_lists_every_missed_question_with_its_line(tmp_path):
    labels = tmp_path / "labels.tsv"
    labels.write_text("intent\tquestion\ncramp\t裏ももがつった\n" + "".join(f"cramp\t{q}\n" for q in MISSED), encoding="utf-8")
    code, out = run(["eval", "--json", str(labels)])
    misses = json.loads(out)["misses"]
    assert code == 0 and [(m["line"], m["label"], m["question"]) for m in misses] == [
        (n, "cramp", q) for n, q in enumerate(MISSED, start=3)]
    assert all(m["got"] in ("declined", "clarify") or m["got"] != "cramp" for m in misses)


def test_eval_misses_prints_every_one(tmp_path):
    labels = tmp_path / "labels.tsv"
    labels.write_text("".join(f"cramp\t{q}\n" for q in MISSED) + "none\t裏ももがつる\n", encoding="utf-8")
    code, out = run(["eval", "--misses", str(labels)])
    listed = out[out.index("missed questions (6;"):].splitlines()[1:]
    assert [line.split(": ", 1)[0].strip() for line in listed] == ["1", "2", "3", "4", "5", "6"]
    assert listed[-1] == "  6: none -> cramp  裏ももがつる"
    assert "missed questions (" not in run(["eval", str(labels)])[1]


@pytest.mark.parametrize("rows, shown", [
    ("cramp\t裏ももがつった\n", "out-of-scope declined:   0/0 = n/a"),
    ("none\t明日の天気は?\n", "in-scope answered right: 0/0 = n/a"),
])
def test_eval_a_figure_of_no_questions_reads_n_a(tmp_path, rows, shown):
    labels = tmp_path / "labels.tsv"
    labels.write_text(rows, encoding="utf-8")
    code, out = run(["eval", str(labels)])
    assert code == 0 and shown in out and "0/0 = 0.0%" not in out


def test_eval_reads_labels_saved_as_shift_jis(tmp_path):
    labels = tmp_path / "labels.tsv"
    labels.write_bytes("intent\tquestion\ncramp\t裏ももがつった\n".encode("cp932"))
    code, out = run(["eval", str(labels)])
    assert code == 0 and "in-scope answered right: 1/1 = 100.0%" in out


def test_eval_min_accuracy_fails_with_exit_1(tmp_path):
    labels = tmp_path / "labels.tsv"
    labels.write_text("cramp\t明日の天気は?\n", encoding="utf-8")
    code, out = run(["eval", "--json", "--min-accuracy", "0.5", str(labels)])
    assert code == 1 and json.loads(out)["figures"]["in_scope_accuracy"] == 0.0


def test_eval_bad_labels_file(tmp_path, capsys):
    labels = tmp_path / "labels.tsv"
    labels.write_text("just one column\n", encoding="utf-8")
    assert run(["eval", str(labels)])[0] == 2
    assert "labels.tsv:1: expected 'intent<TAB>question'" in capsys.readouterr().err


@pytest.mark.parametrize("argv, status", [(["ask", "裏ももがつる"], 0), (["ask", "--kb", "no/such/dir", "x"], 2)])
def test_the_command_flushes_its_output_and_keeps_the_exit_status(argv, status):
    # python -m chatbot leaves through cli.run, which skips the interpreter's teardown
    done = subprocess.run([sys.executable, "-m", "chatbot", *argv], capture_output=True, timeout=120)
    assert done.returncode == status
    if status == 0:
        assert "出典" in done.stdout.decode() and done.stdout.endswith(b"\n")
    else:
        assert done.stderr.decode().startswith("chatbot: error: ") and done.stdout == b""


@pytest.mark.parametrize("command", cli.COMMANDS)
def test_every_command_has_help(command, capsys):
    parser = cli._parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    with pytest.raises(SystemExit) as info:
        cli.main([command, "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert info.value.code == 0
    assert sub.description and " ".join(sub.description.split()) in shown
    own = [a for a in sub._actions if not isinstance(a, argparse._HelpAction)]
    assert own and all(a.help for a in own), [a.dest for a in own if not a.help]
    for action in own:  # each argument's own help, after argparse's defaults are filled in
        assert " ".join((action.help % {"default": action.default}).split())[:40] in shown, action.dest


@pytest.mark.parametrize("columns", [44, 120])
def test_help_is_wrapped_to_the_terminal_width(columns, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", str(columns))  # as a terminal of that width tells argparse
    with pytest.raises(SystemExit):
        cli.main(["ask", "--help"])
    widths = [len(line) for line in capsys.readouterr().out.splitlines()]
    assert columns - 12 < max(widths) <= columns


@needs_shared(SHARED / "eval" / "dev.tsv", "shared/eval/dev.tsv")
def test_dev_set_meets_the_bar():
    assert (SHARED / "eval" / "dev.tsv").exists(), f"{SHARED / 'eval' / 'dev.tsv'} is missing: CI needs ../shared"
    code, out = run(["eval", "--json", str(SHARED / "eval" / "dev.tsv")])
    figures = json.loads(out)["figures"]
    assert figures["in_scope_accuracy"] >= 0.95
    assert figures["out_of_scope_accuracy"] >= 0.90
    assert figures["wrong_rate"] <= 0.03


UNSURE = "ストレッチっていつやる"  # the bundled knowledge is about 57% sure of its best topic


@pytest.mark.parametrize("threshold, status", [("0.3", "answered"), ("0.99", "declined")])
def test_threshold_changes_how_readily_ask_answers(threshold, status, bot):
    assert bot.answer(UNSURE).status == "declined" and 0.3 < bot.answer(UNSURE).confidence < 0.99
    code, out = run(["ask", "--json", "--threshold", threshold, UNSURE])
    assert json.loads(out)["status"] == status and code == (0 if status == "answered" else 3)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_threshold_reaches_batch_workers(tmp_path, monkeypatch, jobs, pools):
    monkeypatch.setattr(batch, "CHUNK_LINES", 1)
    src = tmp_path / "q.txt"
    src.write_text(f"{UNSURE}\n裏ももがつる\n", encoding="utf-8")
    code, out = run(["batch", str(src), "--jobs", jobs, "--threshold", "0.3"])
    assert code == 0 and [json.loads(line)["status"] for line in out.splitlines()] == ["answered", "answered"]
    assert pools == ([2] if jobs == "2" else [])  # with two jobs, the workers got the threshold


def test_threshold_in_eval_is_the_current_one(tmp_path):
    labels = tmp_path / "labels.tsv"
    labels.write_text("cramp\t裏ももがつった\n", encoding="utf-8")
    assert json.loads(run(["eval", "--json", "--threshold", "0.8", str(labels)])[1])["threshold"] == 0.8


@pytest.mark.parametrize("value", ["1.5", "-0.1", "often"])
def test_threshold_must_be_a_probability(value, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["ask", "--threshold", value, "x"])
    assert info.value.code == 2 and "expected a probability from 0 to 1" in capsys.readouterr().err

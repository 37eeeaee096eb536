"""``chatbot batch`` end to end: what it refuses, what it leaves behind when it fails or
is stopped, and that its workers do not outlive it."""

import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from chatbot import batch, cli

QUESTIONS = "裏ももがつる\nRDLってなに?\n"


def run(argv):
    out = io.StringIO()
    return cli.main(argv, out=out), out.getvalue()


def chatbot(*args, stdin=None, shell_suffix=""):
    """The command in a subprocess, as a user runs it."""
    command = [sys.executable, "-m", "chatbot", *args]
    if shell_suffix:
        command = ["sh", "-c", " ".join(f"'{a}'" for a in command) + " " + shell_suffix]
    return subprocess.run(command, input=stdin, capture_output=True, timeout=120)


@pytest.fixture
def questions(tmp_path):
    path = tmp_path / "s.txt"
    path.write_text(QUESTIONS, encoding="utf-8")
    return path


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


# --- refused ------------------------------------------------------------------------------


@pytest.mark.parametrize("other_name", ["same", "dot", "symlink", "hardlink"])
def test_output_onto_the_input_is_refused_and_the_input_kept(questions, monkeypatch, capsys, other_name):
    monkeypatch.chdir(questions.parent)
    target = {"same": "s.txt", "dot": "./s.txt", "symlink": "link.txt", "hardlink": "hard.txt"}[other_name]
    if other_name == "symlink":
        os.symlink("s.txt", "link.txt")
    elif other_name == "hardlink":
        os.link("s.txt", "hard.txt")
    code, out = run(["batch", "s.txt", "-o", target])
    assert code == 2
    assert f"chatbot: error: {target} is the input file s.txt" in capsys.readouterr().err
    assert questions.read_text(encoding="utf-8") == QUESTIONS


def test_output_onto_the_file_on_stdin_is_refused(questions):
    with questions.open("rb") as stdin:
        result = subprocess.run([sys.executable, "-m", "chatbot", "batch", "-", "-o", str(questions)],
                                stdin=stdin, capture_output=True, timeout=60)
    assert result.returncode == 2 and b"is the input file -" in result.stderr
    assert questions.read_text(encoding="utf-8") == QUESTIONS


@pytest.mark.parametrize("top_k", ["-1", "0", "x"])
def test_top_k_must_be_a_positive_number(top_k, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["batch", "-", "--top-k", top_k])
    assert stop.value.code == 2
    assert "--top-k: expected a whole number of 1 or more" in capsys.readouterr().err


# --- the output file: replaced on success only ------------------------------------------------


def test_output_is_replaced_whole_and_keeps_its_mode(questions, tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o640)
    code, _ = run(["batch", str(questions), "-o", str(target)])
    assert code == 0
    assert [json.loads(line)["intent"] for line in target.read_text(encoding="utf-8").splitlines()] == ["cramp", "romanian_deadlift"]
    assert target.stat().st_mode & 0o777 == 0o640
    assert leftovers(tmp_path) == []


def test_output_through_a_symlink_replaces_the_file_it_points_to(questions, tmp_path):
    real = tmp_path / "real.jsonl"
    real.write_text("old\n", encoding="utf-8")
    (tmp_path / "link.jsonl").symlink_to(real)
    assert run(["batch", str(questions), "-o", str(tmp_path / "link.jsonl")])[0] == 0
    assert (tmp_path / "link.jsonl").is_symlink()
    assert "cramp" in real.read_text(encoding="utf-8")


def test_a_broken_kb_leaves_the_existing_output_alone(questions, tmp_path, capsys):
    target = tmp_path / "out.jsonl"
    target.write_text("yesterday's answers\n", encoding="utf-8")
    (tmp_path / "faq.csv").write_text("question,answer\n", encoding="utf-8")
    code, _ = run(["batch", str(questions), "-o", str(target), "--kb", str(tmp_path / "faq.csv")])
    assert code == 2 and "faq.csv" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "yesterday's answers\n"
    assert leftovers(tmp_path) == []


@pytest.fixture
def full_disk(monkeypatch):
    """Temporary files that fail as on a full disk: their descriptor is /dev/full's."""
    real = tempfile.mkstemp

    def mkstemp(**options):
        fd, path = real(**options)
        full = os.open("/dev/full", os.O_WRONLY)
        os.dup2(full, fd)
        os.close(full)
        return fd, path

    monkeypatch.setattr(batch.tempfile, "mkstemp", mkstemp)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_is_a_clear_error_and_the_output_is_kept(questions, tmp_path, capsys, full_disk):
    target = tmp_path / "out.jsonl"
    target.write_text("kept\n", encoding="utf-8")
    code, _ = run(["batch", str(questions), "-o", str(target)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"chatbot: error: {target}: cannot write (No space left on device)" in err and "Traceback" not in err
    assert target.read_text(encoding="utf-8") == "kept\n"
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("how", [("-o", "/dev/full"), (">/dev/full",), (">&-",)])
def test_output_that_cannot_be_written_is_a_clear_error(questions, how):
    options = list(how) if how[0] == "-o" else []
    result = chatbot("batch", str(questions), *options, shell_suffix="" if options else how[0])
    err = result.stderr.decode()
    expected = {"-o": "/dev/full: cannot write (No space left on device)",
                ">/dev/full": "stdout: cannot write (No space left on device)",
                ">&-": "stdout is closed; give -o FILE"}[how[0]]
    assert result.returncode == 2
    assert err.startswith(f"chatbot: error: {expected}") and "Traceback" not in err and "Exception" not in err


# --- warnings and the summary -----------------------------------------------------------------


def test_lines_too_long_to_ask_are_warned_about_and_counted(tmp_path, capsys):
    src = tmp_path / "q.txt"
    src.write_text("裏ももがつる\n" + "あ" * 1500 + "\n" + "a" * 16384 + "\n", encoding="utf-8")
    code, out = run(["batch", str(src)])
    records = [json.loads(line) for line in out.splitlines()]
    err = capsys.readouterr().err
    assert code == 0 and [r["status"] for r in records] == ["answered", "declined", "declined"]
    assert f"{src}:2: question longer than 1000 characters (1500) (declined)" in err
    assert f"{src}:3: question longer than 1000 characters (16384) (declined)" in err
    assert "3 questions: 1 answered, 0 clarify, 2 declined (2 unreadable)" in err


def test_a_lone_surrogate_in_jsonl_is_declined_and_the_batch_goes_on(tmp_path, capsys):
    src = tmp_path / "q.jsonl"
    src.write_text('{"question": "\\udcff"}\n{"question": "裏ももがつる"}\n', encoding="utf-8")
    code, out = run(["batch", str(src)])
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [(r["line"], r["status"]) for r in records] == [(1, "declined"), (2, "answered")]
    assert "lone surrogate" in records[0]["reason"] and f"{src}:1: not text" in capsys.readouterr().err


@pytest.mark.parametrize("flag, cell", [([], "'=1+2"), (["--no-csv-guard"], "=1+2")])
def test_csv_output_is_guarded_against_formulas_unless_turned_off(tmp_path, flag, cell):
    import csv

    src = tmp_path / "q.txt"
    src.write_text("=1+2\n", encoding="utf-8")
    assert run(["batch", str(src), "-o", str(tmp_path / "a.csv"), *flag])[0] == 0
    with open(tmp_path / "a.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["question"] == cell


def test_a_table_without_a_question_column_is_refused(tmp_path, capsys):
    src = tmp_path / "q.csv"
    src.write_text("id,text\n1,裏ももがつる\n", encoding="utf-8")
    assert run(["batch", str(src)]) == (2, "")
    assert f"chatbot: error: {src}:1: no question column (the columns are 'id', 'text')" in capsys.readouterr().err


def test_a_worker_that_keeps_dying_is_reported_not_a_traceback(questions, monkeypatch, capsys):
    from .test_batch import dying_worker

    dying_worker(monkeypatch, None)
    monkeypatch.setattr(batch, "CHUNK_LINES", 1)  # three chunks: two workers, not this process
    questions.write_text("死ぬ\n" * 3, encoding="utf-8")
    assert run(["batch", str(questions), "--jobs", "2"])[0] == 2
    assert "chatbot: error: a worker process died twice" in capsys.readouterr().err


# --- stopped from outside ---------------------------------------------------------------------


def children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            pass
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def output_begun(directory: Path) -> bool:
    """Whether answers have been written (to the output or its temporary file)."""
    return any(p.stat().st_size > 0 for p in directory.iterdir() if p.name not in ("big.txt", "out.jsonl"))


@pytest.fixture
def big_input(tmp_path):
    src = tmp_path / "big.txt"
    src.write_text("裏ももがつる\nRDLってなに?\n前にストレッチは必要?\n" * 20_000, encoding="utf-8")
    return src


linux_proc = pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")


@linux_proc
@pytest.mark.parametrize("sig, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_stopped_midway_it_says_so_and_leaves_the_output_as_it_was(big_input, tmp_path, sig, status):
    target = tmp_path / "out.jsonl"
    target.write_text("kept\n", encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "chatbot", "batch", str(big_input), "-o", str(target), "--jobs", "1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert wait_for(lambda: output_begun(tmp_path))
        process.send_signal(sig)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    err = err.decode()
    assert process.returncode == status
    assert f"records; {target} was left as it was" in err and "Traceback" not in err
    assert target.read_text(encoding="utf-8") == "kept\n"
    assert leftovers(tmp_path) == []


@linux_proc
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_die_with_the_batch_process(big_input, tmp_path, sig):
    process = subprocess.Popen([sys.executable, "-m", "chatbot", "batch", str(big_input), "-o", str(tmp_path / "o.jsonl"),
                                "--jobs", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    try:
        assert wait_for(lambda: len(children(process.pid)) >= 2)
        workers = children(process.pid)
        assert wait_for(lambda: output_begun(tmp_path))  # the workers are answering
        process.send_signal(sig)
        process.wait(timeout=60)
        assert wait_for(lambda: not any(alive(w) for w in workers), timeout=5.0), "workers outlived the batch"
    finally:
        process.kill()
        for worker in workers:
            if alive(worker):
                os.kill(worker, signal.SIGKILL)

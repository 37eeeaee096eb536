"""Benchmarks: every figure printed beside its floor, both measured in the same run, in the
order of issue 15's table and against its targets.

    python bench/run.py                  # 60,000 questions, medians of 3 runs; a 100,000-row FAQ
    python bench/run.py --quick          # 6,000 questions, smaller samples; a 10,000-row FAQ
    python bench/run.py --large-rows 0   # without the generated large FAQ (the slowest figure)

The floor is what any Sudachi-based matcher pays: a Python process that imports SudachiPy
and rapidfuzz and loads the core dictionary, and one tokenization per question. Figures:

- cold start: ``chatbot ask 裏ももがつる``, the whole process (knowledge base cache warm;
  also shown without the cache), against ``python -c`` importing sudachipy and rapidfuzz,
  loading the dictionary and tokenizing one sentence.
- per question: p50/p99 of ``Bot.answer`` in this process, against tokenizing the same
  questions with a bare Sudachi tokenizer.
- batch: questions a second through ``chatbot batch`` (whole process) with its default
  workers (one a CPU), against as many bare Python processes started at once, each reading
  the same file and tokenizing its share of the lines; and with --jobs 1, against one.
- large knowledge base: per-question p50/p99 with a generated 2,000-entry FAQ table (and the
  city FAQ in bench/data/cityfaq/faq.csv when it is there), against the bundled knowledge base.
- large FAQ table (bench/large_faq.py): a generated table of 100,000 entries (--large-rows)
  built with an empty knowledge cache in one process, then loaded from that cache in another
  and asked a few hundred questions once each (its own entries dressed with lead-ins, and a
  quarter it cannot answer). Its build time and peak RSS stand against a bare process that
  tokenizes every question of the table; the loaded RSS against that process's RSS with the
  dictionary loaded; p50/p99 against tokenizing the same questions. The targets are for
  100,000 entries: a smaller table shows none.
- memory: the peak of ``chatbot batch``'s summed PSS (shared pages, like the mapped dictionary,
  divided among the processes that share them) over the reading process and its workers,
  against the same for the bare processes of the batch floor; beside it, each process's own
  peak RSS (VmHWM from /proc, sampled every 50 ms) summed. (Not ru_maxrss: a child forked
  from this large process starts with its RSS, so its ru_maxrss says more about us than about
  it; each large-FAQ step reads its own VmHWM.)

Processes run from bytecode, as an installed package does (this lifts PYTHONDONTWRITEBYTECODE
for them). Inputs are generated at run time (bench/synthetic.py) into a temporary directory, with a
knowledge-base cache of its own there (CHATBOT_CACHE_DIR), warmed before timing.
"""

from __future__ import annotations

import argparse
import compileall
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import synthetic
from processes import status_kb, tree

ROOT = Path(__file__).resolve().parent.parent
CITY_FAQ = ROOT / "bench" / "data" / "cityfaq" / "faq.csv"
COLD_QUESTION = "裏ももがつる"

TOKENIZER = """
from sudachipy import Dictionary, SplitMode
_dictionary = Dictionary(dict="core")
tokenizer = (_dictionary.tokenizer if hasattr(_dictionary, "tokenizer") else _dictionary.create)(mode=SplitMode.C)
"""
COLD_FLOOR = "import sudachipy, rapidfuzz\n" + TOKENIZER + f"tokenizer.tokenize({COLD_QUESTION!r})\n"
# FILE [PART PARTS]: every PARTS-th line of FILE from line PART (by default every line), tokenized.
BATCH_FLOOR = "import sys\n" + TOKENIZER + """
part, parts = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (0, 1)
with open(sys.argv[1], encoding="utf-8") as lines:
    for number, line in enumerate(lines):
        if number % parts == part:
            tokenizer.tokenize(line.strip())
"""
# SCRIPT FILE PARTS: PARTS processes at once, each running SCRIPT on its part of FILE.
ALL_CPUS = """
import subprocess, sys
script, path, parts = sys.argv[1], sys.argv[2], int(sys.argv[3])
children = [subprocess.Popen([sys.executable, "-c", script, path, str(part), str(parts)]) for part in range(parts)]
sys.exit(max(child.wait() for child in children))
"""

# The targets of issue 15, each beside the figure it bounds.
COLD_START = 1.3  # chatbot ask's wall time, times the floor's
PER_QUESTION_P99 = 5.0  # Bot.answer's p99, times tokenizing's
BATCH_THROUGHPUT = 0.3  # chatbot batch's questions a second, as a share of bare tokenizing on as many CPUs
BATCH_PSS = 1.5  # chatbot batch's summed peak PSS, times the floor's on as many CPUs
FAQ_P99 = 2.0  # a 2,000-entry FAQ's p99, times the bundled knowledge base's
LARGE_ROWS = 100_000  # the large FAQ the next four are for (smaller runs show no verdict)
LARGE_BUILD_SECONDS = 20.0
LARGE_BUILD_PEAK = 2**30  # bytes: 1 GB
LARGE_LOADED_RSS = 400 * 2**20
LARGE_P99 = 0.005  # seconds a question

QUICK_LARGE_ROWS = 10_000  # builds in seconds where 100,000 rows take over a minute
LARGE_SAMPLE = 400  # questions asked of the large FAQ, once each: at today's ~60 ms, under half a minute
QUICK_LARGE_SAMPLE = 100


@dataclass
class Row:
    figure: str
    measured: str
    floor: str
    ratio: str = ""
    target: str = ""
    verdict: str = ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run: fewer questions and samples")
    parser.add_argument("--runs", type=int, help="runs per figure, the median reported (default 3)")
    parser.add_argument("--questions", type=int, help="lines for the batch figures (default 60,000; quick 6,000)")
    parser.add_argument(
        "--large-rows", type=int, metavar="N",
        help=f"entries of the generated large FAQ (default {LARGE_ROWS:,}; quick {QUICK_LARGE_ROWS:,}); 0 leaves it out",
    )
    args = parser.parse_args(argv)
    runs = args.runs or 3
    lines = args.questions or (6_000 if args.quick else 60_000)
    cold_runs = 5 if args.quick else 15
    sample = 500 if args.quick else 3_000  # questions for the per-question figures
    large_sample = 150 if args.quick else 600
    large_rows = (QUICK_LARGE_ROWS if args.quick else LARGE_ROWS) if args.large_rows is None else args.large_rows

    from chatbot import Bot, knowledge

    with tempfile.TemporaryDirectory(prefix="chatbot-bench-") as tmp:
        tmp = Path(tmp)
        env = dict(os.environ, CHATBOT_CACHE_DIR=str(tmp / "cache"), PYTHONWARNINGS="ignore")
        # Run from bytecode, as an installed package does (pip compiles it at install time,
        # and the floor's SudachiPy and rapidfuzz have theirs): a machine that sets
        # PYTHONDONTWRITEBYTECODE would otherwise compile an editable checkout on every start.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["CHATBOT_CACHE_DIR"] = env["CHATBOT_CACHE_DIR"]
        kb = knowledge.load(knowledge.bundled_path())
        questions = synthetic.questions(lines, [q for i in kb.intents for q in i.examples])
        questions_file = tmp / "questions.txt"
        questions_file.write_text("".join(q + "\n" for q in questions), encoding="utf-8")
        faq = tmp / "faq2000.csv"
        asked = synthetic.faq_table(faq, 2000)

        print(_heading(lines, runs, large_rows), flush=True)
        # Processes first, while this one has no dictionary mapped: PSS would split its pages with us.
        batch, memory = batch_rows(env, questions_file, lines, tmp, runs)
        _progress("batch")
        cold = cold_start(env, cold_runs)
        _progress("cold start")
        large: list[Row] = []
        if large_rows:
            table_sample = QUICK_LARGE_SAMPLE if args.quick else LARGE_SAMPLE
            large = large_faq_rows(large_rows, env, tmp, questions[: table_sample // 4], table_sample)
            _progress(f"{large_rows:,}-row FAQ")
        tokenizer = _tokenizer()
        bundled = Bot()
        bundled_figures = latency(bundled, tokenizer, questions[:sample], runs)
        per_question = per_question_rows(bundled_figures)
        _progress("per question")
        asked = asked[: large_sample * 3 // 4]  # and a quarter the FAQ cannot answer
        large_questions = [q for q, _ in asked] + questions[: large_sample // 4]
        faqs = large_kb_rows("2,000-entry FAQ", faq, large_questions, bundled_figures, tokenizer, runs, asked)
        if CITY_FAQ.exists():
            city = _table_questions(CITY_FAQ)[:large_sample]
            name = f"city FAQ ({CITY_FAQ.relative_to(ROOT)})"
            faqs += large_kb_rows(name, CITY_FAQ, city, bundled_figures, tokenizer, runs)
        _progress("large knowledge base")
        print(_table(cold + per_question + batch + faqs + large + memory))  # in the order
        if not CITY_FAQ.exists():
            print(f"\n(no {CITY_FAQ.relative_to(ROOT)} yet: the city FAQ figures are left out)")
    return 0


# --- cold start -------------------------------------------------------------------------


def _chatbot(*args: str) -> list[str]:
    """The installed ``chatbot`` command beside this Python, else ``python -m chatbot``."""
    script = Path(sys.executable).with_name("chatbot")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "chatbot", *args]


def cold_start(env: dict, runs: int) -> list[Row]:
    chatbot = _chatbot("ask", COLD_QUESTION)
    floor_cmd = [sys.executable, "-c", COLD_FLOOR]
    # The package's bytecode, as `pip install` compiles it: an editable install under
    # PYTHONDONTWRITEBYTECODE would otherwise compile its source in every run.
    import chatbot as package

    compileall.compile_dir(Path(package.__file__).parent, quiet=1)
    _wall(chatbot, env)  # fills the knowledge-base cache, and the page cache for both
    _wall(floor_cmd, env)
    floor, warm = [], []
    for _ in range(runs):  # interleaved, so that a noisy moment hits both
        floor.append(_wall(floor_cmd, env))
        warm.append(_wall(chatbot, env))
    no_cache = [_wall(chatbot, dict(env, CHATBOT_CACHE="0")) for _ in range(max(3, runs // 3))]
    f = statistics.median(floor)
    return [
        _ratio_row("cold start: chatbot ask", statistics.median(warm), f, _ms, COLD_START),
        _ratio_row("  same, knowledge cache off", statistics.median(no_cache), f, _ms),
    ]


def _wall(cmd: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


# --- per question -----------------------------------------------------------------------


def _tokenizer():
    scope: dict = {}
    exec(TOKENIZER, scope)
    return scope["tokenizer"]


def latency(bot, tokenizer, questions: list[str], runs: int) -> dict:
    """Median over runs of each run's p50 and p99, for bot.answer and for bare tokenizing."""
    clock = time.perf_counter_ns
    figures: dict[str, list[float]] = {"answer50": [], "answer99": [], "token50": [], "token99": []}
    for _ in range(runs):
        token, answer = [], []
        for q in questions:
            start = clock()
            tokenizer.tokenize(q)
            token.append(clock() - start)
        for q in questions:
            start = clock()
            bot.answer(q)
            answer.append(clock() - start)
        for name, values in (("answer", answer), ("token", token)):
            values.sort()
            figures[name + "50"].append(_percentile(values, 0.50) / 1e9)
            figures[name + "99"].append(_percentile(values, 0.99) / 1e9)
    return {name: statistics.median(values) for name, values in figures.items()}


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def per_question_rows(figures: dict) -> list[Row]:
    return [
        _ratio_row("per question p50: Bot.answer", figures["answer50"], figures["token50"], _us),
        _ratio_row("per question p99: Bot.answer", figures["answer99"], figures["token99"], _us, PER_QUESTION_P99),
    ]


def large_kb_rows(
    name: str, path: Path, questions: list[str], bundled: dict, tokenizer, runs: int, asked=None
) -> list[Row]:
    from chatbot import Bot

    started = time.perf_counter()
    Bot.from_path(path)  # compiled and cached: what the first use pays
    build = time.perf_counter() - started
    started = time.perf_counter()
    bot = Bot.from_path(path)
    load = time.perf_counter() - started
    figures = latency(bot, tokenizer, questions, runs)
    rows = [
        Row(f"{name}: {len(bot.kb.intents):,} entries", f"built {build:.2f} s", f"then loaded {load * 1000:.0f} ms"),
        _ratio_row("  p50 vs bundled KB p50", figures["answer50"], bundled["answer50"], _us),
        _ratio_row("  p99 vs bundled KB p99", figures["answer99"], bundled["answer99"], _us, FAQ_P99),
        _ratio_row("  p99 vs tokenizing", figures["answer99"], figures["token99"], _us),
    ]
    if asked:  # a check that the figures come from a working FAQ, not from declining everything
        right = sum(bot.answer(q).intent == entry for q, entry in asked)
        rows.append(Row("  its own entries found", f"{right / len(asked):.0%}", "(not a target)"))
    return rows


def _table_questions(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = csv.DictReader(f, delimiter="\t" if path.suffix == ".tsv" else ",")
        found = [row.get("question", "").strip() for row in rows]
    return [f"{synthetic.LEAD_INS[i % len(synthetic.LEAD_INS)]}{q}" for i, q in enumerate(found) if q]


# --- the large FAQ table ---------------------------------------------------------------


def large_faq_rows(entries: int, env: dict, tmp: Path, unanswerable: list[str], sample: int) -> list[Row]:
    """A generated FAQ of ``entries`` built, then loaded and asked ``sample`` questions (a
    quarter of them ``unanswerable``), each step in a process of its own (bench/large_faq.py)."""
    table = tmp / f"faq{entries}.csv"
    asked = synthetic.large_faq_table(table, entries)[: sample - len(unanswerable)]
    questions = tmp / "large-questions.json"
    questions.write_text(json.dumps(asked + [(q, None) for q in unanswerable], ensure_ascii=False), encoding="utf-8")
    env = dict(env, CHATBOT_CACHE_DIR=str(tmp / "large-cache"))  # empty: the build step really builds
    floor = _large_faq_step("floor", table, env=env)
    built = _large_faq_step("build", table, env=env)
    loaded = _large_faq_step("ask", table, questions, env=env)
    judged = entries >= LARGE_ROWS
    return [
        _limit_row(f"{entries:,}-row FAQ: build", built["seconds"], floor["seconds"], _s, judged and LARGE_BUILD_SECONDS),
        _limit_row("  build peak RSS", built["peak"], floor["peak"], _mb, judged and LARGE_BUILD_PEAK),
        _limit_row("  loaded: RSS", loaded["rss"], floor["rss"], _mb, judged and LARGE_LOADED_RSS),
        _ratio_row("  loaded: p50 per question", loaded["answer50"], loaded["token50"], _us),
        _limit_row("  loaded: p99 per question", loaded["answer99"], loaded["token99"], _us, judged and LARGE_P99),
        Row("  loaded from the cache in", _ms(loaded["load"]), "(not a target)"),
        Row("  its own entries found", f"{loaded['found']:.0%}", "(not a target)"),
    ]


def _large_faq_step(step: str, *paths: Path, env: dict) -> dict:
    cmd = [sys.executable, str(Path(__file__).with_name("large_faq.py")), step, *map(str, paths)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"large_faq.py {step} failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout)


# --- batch and memory -------------------------------------------------------------------


@dataclass
class Process:
    wall: float
    rss: int  # bytes: each process's own peak (VmHWM), summed over the tree
    pss: int  # bytes: the peak of the tree's summed PSS
    first: int  # bytes: the peak of the process started (the reading one, for chatbot batch)
    largest: int  # bytes: the peak of the largest other process (a worker), 0 if none
    processes: int


def batch_rows(env: dict, questions_file: Path, lines: int, tmp: Path, runs: int) -> tuple[list[Row], list[Row]]:
    """(Throughput rows, memory rows) of ``chatbot batch``, against bare tokenizing in one
    process and in as many processes as batch has workers by default (one a CPU)."""
    from chatbot.batch import default_jobs

    jobs = default_jobs()
    output = tmp / "answers.jsonl"
    commands = {
        "floor": [sys.executable, "-c", BATCH_FLOOR, str(questions_file)],
        "floor all": [sys.executable, "-c", ALL_CPUS, BATCH_FLOOR, str(questions_file), str(jobs)],
        "auto": _chatbot("batch", str(questions_file), "-o", str(output)),
    }
    commands["one"] = commands["auto"] + ["--jobs", "1"]
    measured: dict[str, list[Process]] = {name: [] for name in commands}
    for run in range(runs):
        for name, cmd in commands.items():
            measured[name].append(_measure(cmd, env, tmp / "stderr.txt"))
            if not name.startswith("floor") and run == 0:
                _check_output(output, lines)
    floor, floor_all = _medians(measured["floor"]), _medians(measured["floor all"])
    auto, one = _medians(measured["auto"]), _medians(measured["one"])
    speed = [
        _ratio_row(f"batch, {jobs} workers: questions/s", lines / auto.wall, lines / floor_all.wall, _rate,
                   BATCH_THROUGHPUT, higher=True),
        _ratio_row("batch --jobs 1: questions/s", lines / one.wall, lines / floor.wall, _rate, higher=True),
    ]
    memory = [
        _ratio_row(f"batch, {jobs} workers: peak PSS summed", auto.pss, floor_all.pss, _mb, BATCH_PSS),
        _ratio_row(f"  peak RSS, {auto.processes} processes summed", auto.rss, floor_all.rss, _mb),
        _ratio_row("  peak PSS vs one tokenizing process", auto.pss, floor.pss, _mb),
        _ratio_row("  the reading process's peak RSS", auto.first, floor.rss, _mb),
        _ratio_row("  the largest worker's peak RSS", auto.largest, floor.rss, _mb),
        _ratio_row("batch --jobs 1 peak RSS", one.rss, floor.rss, _mb),
    ]
    return speed, memory


def _medians(measured: list[Process]) -> Process:
    fields = ("wall", "rss", "pss", "first", "largest", "processes")
    return Process(*(statistics.median([getattr(p, f) for p in measured]) for f in fields))


def _check_output(path: Path, lines: int) -> None:
    numbers = [json.loads(line)["line"] for line in path.open(encoding="utf-8")]
    if numbers != list(range(1, lines + 1)):
        raise SystemExit(f"chatbot batch wrote {len(numbers)} records, not lines 1..{lines} in order")


def _measure(cmd: list[str], env: dict, stderr: Path) -> Process:
    """Run ``cmd`` to its end: wall time, and memory sampled from /proc every 50 ms."""
    peaks: dict[int, int] = {}
    pss = [0]
    with open(stderr, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                total = 0
                for pid in tree(proc.pid):
                    hwm, rss_pss = _memory(pid)
                    if hwm:
                        peaks[pid] = max(peaks.get(pid, 0), hwm)
                    total += rss_pss
                pss[0] = max(pss[0], total)
                stop.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status = os.waitpid(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        stop.set()
        sampler.join()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd[:3])}… failed ({proc.returncode}): {stderr.read_text()[-2000:]}")
    others = [peak for pid, peak in peaks.items() if pid != proc.pid]
    return Process(wall, sum(peaks.values()), pss[0], peaks.get(proc.pid, 0), max(others, default=0), len(peaks))


def _memory(pid: int) -> tuple[int, int]:
    """(VmHWM, Pss) of a process in bytes; zeros once it is gone."""
    hwm, pss = status_kb(pid, "VmHWM") * 1024, 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return hwm, pss


# --- printing ---------------------------------------------------------------------------


def _ratio_row(figure, value, floor, unit, target=None, *, higher=False) -> Row:
    ratio = value / floor if floor else float("inf")
    row = Row(figure, unit(value), unit(floor), f"{ratio:.2f}x" if not higher else f"{ratio:.2f}")
    if target is not None:
        if higher:
            row.target, met = f">= {target}", ratio >= target
        else:
            row.target, met = f"<= {target}x", ratio <= target
        row.verdict = "met" if met else "MISSED"
    return row


def _limit_row(figure, value, floor, unit, limit) -> Row:
    """A figure with a target of its own (``limit``, in its unit; falsy for none), its ratio to the floor shown."""
    row = _ratio_row(figure, value, floor, unit)
    if limit:
        row.target, row.verdict = f"<= {unit(limit)}", "met" if value <= limit else "MISSED"
    return row


def _s(seconds: float) -> str:
    return f"{seconds:.1f} s"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs" if seconds < 0.01 else f"{seconds * 1000:.1f} ms"


def _rate(per_second: float) -> str:
    return f"{per_second:,.0f}/s"


def _mb(size: float) -> str:
    return f"{size / 2**20:,.0f} MB"


def _table(rows: list[Row]) -> str:
    header = Row("figure", "measured", "floor", "ratio", "target", "")
    names = ("figure", "measured", "floor", "ratio", "target")
    widths = [max(len(getattr(r, f)) for r in [header, *rows]) for f in names]
    lines = []
    for r in [header, *rows]:
        cells = (r.figure.ljust(widths[0]), r.measured.rjust(widths[1]), r.floor.rjust(widths[2]),
                 r.ratio.rjust(widths[3]), r.target.ljust(widths[4]), r.verdict)
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _heading(lines: int, runs: int, large_rows: int) -> str:
    import importlib.metadata as metadata

    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("SudachiPy", "sudachidict-core", "rapidfuzz"))
    try:
        git = ["git", "-C", str(ROOT), "describe", "--always", "--dirty"]
        commit = subprocess.run(git, capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = "?"
    return (
        f"chatbot benchmarks — {os.cpu_count()} CPUs ({platform.machine()}), "
        f"Python {platform.python_version()}, {versions}\n"
        f"commit {commit}; {lines:,} distinct questions for batch; medians of {runs} runs"
        + (f" ({large_rows:,}-row FAQ: one run)" if large_rows else "") + "\n"
    )


def _progress(step: str) -> None:
    print(f"  measured: {step}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())

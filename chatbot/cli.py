"""The ``chatbot`` command: parse arguments, call the library, turn its errors into messages.

Exit status: 0 done, 1 an ``eval --min-accuracy`` not met, 2 bad usage or unusable input
(a broken knowledge file, a missing input file) or output that cannot be written, 3 ``ask`` declined
(the bot has no answer), 130/143 stopped by Ctrl-C/SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

from .errors import ChatbotError, InputError
from .safe import inert, json_text

COMMANDS = ("chat", "ask", "batch", "eval", "check", "misses", "serve")
DECLINED_STATUS = 3  # ``ask``: the bot has no answer to the question (a script can tell without --json)
SERVER_EXTRA = "chatbot serve needs the server extra: pip install 'chatbot[server]' (from a checkout: pip install '.[server]')"


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's, told the terminal's width: left to find it, argparse imports shutil (and with
    it bz2, lzma and zlib, 2-3 ms) in every run, as each ``add_argument`` makes a formatter."""

    def __init__(self, prog: str, **options):
        options.setdefault("width", _columns() - 2)  # as argparse does
        super().__init__(prog, **options)


def _columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size`` finds it: $COLUMNS, else stdout's, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", 0))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **options):
        options.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **options)


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(
        prog="chatbot",
        description="Answer Japanese questions about training and stretching the back of the thigh "
        "(or any FAQ given with --kb). With no command, starts the chat.",
    )
    parser.add_argument("--version", action="version", version=f"chatbot {__version__}")
    common = _Parser(add_help=False)
    common.add_argument(
        "--kb", metavar="PATH",
        help="another knowledge base: a directory with intents.yaml and knowledge/, "
        "an intents.yaml file, or a .csv/.tsv/.jsonl FAQ table with question and answer",
    )
    common.add_argument(
        "--threshold", type=_probability, metavar="P",
        help="answer only when at least this sure that the best topic is right (0-1; default 2/3), and ask "
        "back which of two topics was meant only when as sure that it is one of them; higher declines more",
    )
    misses_log = _Parser(add_help=False)
    misses_log.add_argument(
        "--log-misses", metavar="PATH",
        help="append each declined and clarify answer (time, question, top candidates, scores) to PATH as JSONL; "
        "see 'chatbot misses'",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    chat = sub.add_parser("chat", parents=[common, misses_log], help="talk to the bot (the default command)",
                          description="Talk to the bot: one question a line. /quit or Ctrl-D leaves.")
    chat.add_argument("--no-history", action="store_true",
                      help="keep no input history (default: $XDG_DATA_HOME/chatbot/history, "
                      "else ~/.local/share/chatbot/history)")

    ask = sub.add_parser("ask", parents=[common, misses_log], help="answer one question",
                         description="Answer one question and print the reply. Exit status 0 answered "
                         "(or asked back which of two topics), 3 declined, 2 a question that cannot be asked.")
    ask.add_argument("question", nargs="+", help="the question (several words are joined with spaces)")
    ask.add_argument("--json", action="store_true", help="print the whole result as JSON")
    ask.add_argument("--top-k", type=_positive, default=3, metavar="N", help="candidates in the JSON (default 3)")

    batch = sub.add_parser("batch", parents=[common, misses_log], help="answer every line of a file",
                           description="Answer every question of a file, one output record per input line, "
                           "in order. Bad lines (empty, not UTF-8, too long) get a declined record with a reason.")
    batch.add_argument("file", help="UTF-8 text file, one question a line (- for stdin); "
                       ".csv/.tsv with a 'question' column and .jsonl with a 'question' field are read as such")
    batch.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    batch.add_argument("--format", choices=("jsonl", "csv", "tsv"),
                       help="output format (default: from OUT's ending, else jsonl)")
    batch.add_argument("--input-format", choices=("txt", "csv", "tsv", "jsonl"),
                       help="input format (default: from FILE's ending, else txt)")
    batch.add_argument("--encoding", default="utf-8", metavar="ENC",
                       help="the input file's encoding (default utf-8; cp932 for Shift_JIS from Excel on Japanese Windows)")
    batch.add_argument("--bom", action=argparse.BooleanOptionalAction, default=None,
                       help="start CSV output with a UTF-8 byte-order mark, so that Excel shows Japanese "
                       "(default: yes for a .csv file given with -o, no for stdout)")
    batch.add_argument("--top-k", type=_positive, default=3, metavar="N", help="candidates per record (default 3)")
    batch.add_argument("--no-csv-guard", action="store_true",
                       help="write CSV/TSV cells exactly as they are (by default a cell starting with = + - @, "
                       "tab or CR gets a ' in front, so that a spreadsheet shows it instead of running it as a formula)")
    batch.add_argument("-j", "--jobs", type=_positive, metavar="N",
                       help="processes answering (default: one per CPU; just one for inputs under 2,000 lines)")

    ev = sub.add_parser("eval", parents=[common], help="measure the bot on labelled questions",
                        description="Measure the bot on a TSV of labelled questions (intent<TAB>question; "
                        "'none' = out of scope): in-scope right, out-of-scope declined, wrong answers.")
    ev.add_argument("labels", help="the TSV file")
    ev.add_argument("--json", action="store_true", help="print the report as JSON (every missed question in 'misses')")
    ev.add_argument("--misses", action="store_true", help="list every missed question, with its line")
    ev.add_argument("--min-accuracy", type=float, metavar="F",
                    help="exit 1 unless in-scope accuracy is at least F (0-1)")
    _check_parsers(sub, common)

    serve = sub.add_parser("serve", parents=[common, misses_log], help="serve the JSON API and the web chat over HTTP",
                           description="Serve the JSON API (/v1/answer, /v1/batch, /v1/topics, /healthz) and the "
                           "web chat (/) with uvicorn. Needs the server extra: pip install 'chatbot[server]'. "
                           "SIGINT/SIGTERM stop it after the requests in flight are answered.")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for every interface)")
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    serve.add_argument("--workers", type=_positive, default=1, metavar="N",
                       help="worker processes, each with its own bot of about 200 MB (default 1)")
    serve.add_argument("--cors", action="append", default=[], metavar="ORIGIN",
                       help="let pages from ORIGIN (https://example.com) call the API; repeat for more (default: none)")
    serve.add_argument("--log-questions", action="store_true",
                       help="put the question text in the access log (default: method, path, status and time only)")
    serve.add_argument("--max-body", type=_positive, default=256 * 1024, metavar="BYTES",
                       help="largest request body (default 262144); larger is refused with 413")
    serve.add_argument("--max-batch", type=_positive, default=100, metavar="N",
                       help="most questions per /v1/batch request (default 100); more is refused with 413")
    serve.add_argument("--session-ttl", type=_positive, default=1800, metavar="SECONDS",
                       help="forget a session unused this long (default 1800)")
    serve.add_argument("--max-sessions", type=_positive, default=10_000, metavar="N",
                       help="sessions kept per worker; the least recently used makes way (default 10000)")
    return parser


def _check_parsers(sub, common) -> None:
    check = sub.add_parser("check", parents=[common], help="check a knowledge base: errors and warnings",
                           description="Check a knowledge base (the bundled one, or --kb): errors with file and line "
                           "(exit 1) and warnings (exit 0), and which files are in use.")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.add_argument("--contract", metavar="FILE",
                       help="intent ids the knowledge base must have: one a line, or a Markdown table such as "
                       "faq-topics.md (default for the bundled knowledge: the package's own copy)")
    misses = sub.add_parser("misses", help="group the questions a --log-misses file holds",
                            description="Group the logged missed questions into clusters of similar questions, "
                            "most frequent first, each with its nearest existing intent.")
    misses.add_argument("log", help="the JSONL file written with --log-misses")
    shown = misses.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="print the clusters as JSON")
    shown.add_argument("--to-yaml", action="store_true",
                       help="print each cluster as draft examples to paste into intents.yaml")


def _bot(args):
    """The bot the command works with (``configured``: its objects frozen out of the collector)."""
    from .bot import configured

    return configured(args.kb, args.threshold, getattr(args, "log_misses", None))


def cmd_chat(args, out) -> int:
    from . import chat

    options = {"history_path": None} if args.no_history else {}
    return chat.run(_bot(args), sys.stdin, out, kb_path=args.kb, **options)


def cmd_ask(args, out) -> int:
    """Print the reply (inert: nothing in it can drive the terminal). A question that cannot be
    asked (empty, too long, undecodable bytes) is declined as usual, with its reason on stderr: exit 2.
    A question the bot has no answer for is declined: exit 3. Choices are listed with their ids."""
    from . import replies

    question = " ".join(args.question)
    if not question.strip():
        raise InputError("ask: the question is empty; give it as an argument, e.g. chatbot ask 裏ももがつる")
    answer = _bot(args).answer(question, top_k=args.top_k)
    if args.json:
        out.write(json_text(answer.to_dict(args.top_k), indent=2) + "\n")
    else:
        out.write(inert(replies.plain(replace(answer, text=replies.listed(answer)))) + "\n")
    if answer.reason:
        out.flush()
        print(f"chatbot: error: cannot answer: {inert(answer.reason)}", file=sys.stderr)
        return 2
    return DECLINED_STATUS if answer.status == "declined" else 0


class _Terminated(BaseException):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt so that what was begun is undone."""


@contextlib.contextmanager
def _sigterm_raises():
    def terminated(signum, frame):
        raise _Terminated

    try:
        previous = signal.signal(signal.SIGTERM, terminated)
    except ValueError:  # not the main thread: leave SIGTERM alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def cmd_batch(args, out) -> int:
    from . import batch

    in_format = args.input_format or batch.format_of(args.file)
    out_format = args.format or (batch.format_of(args.output, "jsonl") if args.output else "jsonl")
    if out_format not in batch.OUTPUT_FORMATS:
        out_format = "jsonl"
    encoding = batch.check_encoding(args.encoding)
    bom = bool(args.output) if args.bom is None else args.bom
    started = time.perf_counter()
    counts = Counter()
    sink = None
    try:
        with _sigterm_raises(), contextlib.ExitStack() as stack:
            source = sys.stdin.buffer if args.file == "-" else stack.enter_context(_open(args.file, "rb"))
            if args.output and batch.same_file(source, args.output):
                raise InputError(
                    f"{args.output} is the input file {args.file}: writing there would destroy the questions; "
                    "give -o another file"
                )
            if args.output:
                sink = stack.enter_context(batch.replacing(args.output))  # put in place only when all went well
            elif out is None:
                raise batch.OutputError("stdout is closed; give -o FILE")
            else:
                sink = batch.Sink(out, "stdout")
            progress = batch.Progress(sys.stderr if sys.stderr.isatty() else None, batch.input_size(source))
            header = batch.Formatter(out_format, bom=bom).header()  # written with the first records: a file
            answered = batch.answer_chunks(
                batch.read_chunks(source, in_format, name=args.file, encoding=encoding),
                kb=args.kb, fmt=out_format, top_k=args.top_k, jobs=args.jobs, guard=not args.no_csv_guard,
                threshold=args.threshold, log_misses=args.log_misses,
            )
            for chunk, done in stack.enter_context(contextlib.closing(answered)):
                for item, reason in zip(chunk.items, done.reasons):
                    if reason:
                        progress.clear()
                        counts["unreadable"] += 1
                        print(inert(f"chatbot: {args.file}:{item.line}: {reason} (declined)"), file=sys.stderr)
                counts.update(done.statuses)
                sink.write(header + done.text, len(chunk.items))  # refused whole (Shift_JIS, UTF-16) prints nothing
                header = ""
                progress.update(len(chunk.items), chunk.end)
            progress.clear()
            sink.write(header)  # an empty input still gets its header
            sink.flush()
    except (KeyboardInterrupt, _Terminated) as e:
        written = sink.records if sink else 0
        kept = f"{args.output} was left as it was" if args.output else "the output above is incomplete"
        print(inert(f"\nchatbot: interrupted after {written:,} records; {kept}"), file=sys.stderr)
        return 130 if isinstance(e, KeyboardInterrupt) else 143
    except batch.OutputError:
        if not args.output:
            _discard_stdout(out)
        raise
    total = sum(counts[s] for s in ("answered", "clarify", "declined"))
    summary = ", ".join(f"{counts[s]} {s}" for s in ("answered", "clarify", "declined"))
    unreadable = f" ({counts['unreadable']} unreadable)" if counts["unreadable"] else ""
    print(f"chatbot: {total} questions: {summary}{unreadable} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 0


def cmd_serve(args, out) -> int:
    try:
        from . import web
    except ImportError as e:
        raise ChatbotError(f"{SERVER_EXTRA} ({e})") from None
    from . import knowledge

    if args.kb:  # a broken knowledge base is reported here, once, not by every worker
        knowledge.load(Path(args.kb))
    options = web.Options(
        kb=args.kb, max_body=args.max_body, max_batch=args.max_batch, session_ttl=float(args.session_ttl),
        max_sessions=args.max_sessions, log_questions=args.log_questions, cors=tuple(args.cors),
        threshold=args.threshold, log_misses=args.log_misses,
    )
    web.check_listen(args.host, args.port)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(inert(f"chatbot: serving on {args.host}: reachable from other machines"), file=sys.stderr)
    web.serve(options, host=args.host, port=args.port, workers=args.workers)
    return 0


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, not {text!r}")
    return int(text)


def _discard_stdout(out) -> None:
    """After stdout failed (a full disk): point it at /dev/null, so that flushing it again
    at exit neither fails nor prints a second error."""
    if out is None or out is not sys.stdout:
        return
    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, out.fileno())
        os.close(null)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, not {text!r}")
    return value


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a probability from 0 to 1 (e.g. 0.8), not {text!r}")
    return value


def _open(path: str, mode: str):
    try:
        return open(path, mode) if "b" in mode else open(path, mode, encoding="utf-8", newline="")
    except OSError as e:
        raise InputError(f"{path}: cannot {'read' if 'r' in mode else 'write'} ({e.strerror})") from e


def cmd_eval(args, out) -> int:
    from . import evaluate
    from .knowledge import read_text

    path = Path(args.labels)
    try:
        text = read_text(path)
    except ChatbotError as e:
        raise InputError(str(e)) from e
    labelled = evaluate.parse_labelled(text, str(path))
    result = evaluate.report(_bot(args), [(label, q) for _, label, q in labelled], [n for n, _, _ in labelled])
    for unknown in result["unknown_labels"]:
        print(inert(f"chatbot: warning: {path}: label {unknown['label']!r} is not in the knowledge base "
                    f"({'lines' if len(unknown['lines']) > 1 else 'line'} {', '.join(map(str, unknown['lines']))}); "
                    "counted apart, not as a wrong answer"),
              file=sys.stderr)
    shown = json_text(result, indent=2) if args.json else inert(evaluate.format_report(result, show_misses=args.misses))
    out.write(shown + "\n")
    accuracy = result["figures"]["in_scope_accuracy"]
    if args.min_accuracy is not None and (accuracy is None or accuracy < args.min_accuracy):
        return 1
    return 0


def cmd_check(args, out) -> int:
    """Errors exit 1, warnings alone 0; a knowledge base that cannot be read at all exits 2."""
    from . import check

    contract = None
    if args.contract:
        contract = check.parse_contract(_read_input(args.contract), args.contract)
    report = check.check(args.kb, contract)
    out.write((json_text(report.to_dict(), indent=2) if args.json else inert(check.format_report(report))) + "\n")
    return 1 if report.errors else 0


def cmd_misses(args, out) -> int:
    from . import misses
    from .text import Analyzer

    found, skipped = misses.read(_read_input(args.log), args.log)
    if skipped:
        print(inert(f"chatbot: warning: {args.log}: {len(skipped)} lines are not miss records "
                    f"(first at line {skipped[0]}); skipped"), file=sys.stderr)
    analyzer = Analyzer()  # questions are compared by their reading too: 腹筋 = ふっきん
    clusters = misses.clusters(found, reading=lambda q: analyzer.analyze(q).reading)
    if args.json:
        text = json_text({"questions": len(found), "clusters": [c.to_dict() for c in clusters]}, indent=2)
    elif args.to_yaml:
        text = inert(misses.to_yaml(clusters)).rstrip("\n")
    else:
        text = inert(misses.format_clusters(clusters))
    out.write(text + "\n")
    return 0


def _read_input(path: str) -> str:
    from .knowledge import read_text

    try:
        return read_text(Path(path))
    except ChatbotError as e:
        raise InputError(str(e)) from e


def main(argv: list[str] | None = None, out=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    out = out or sys.stdout
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "chat")
    args = _parser().parse_args(argv)
    handler = {"chat": cmd_chat, "ask": cmd_ask, "batch": cmd_batch, "eval": cmd_eval,
               "check": cmd_check, "misses": cmd_misses, "serve": cmd_serve}[args.command]
    try:
        return handler(args, out)
    except ChatbotError as e:
        print(f"chatbot: error: {inert(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def run() -> NoReturn:
    """The ``chatbot`` command: ``main()``, then leave at once with its exit status.

    Everything written is flushed first. What is skipped is the interpreter's teardown:
    freeing, object by object, the knowledge index and the dictionary just before the
    process ends anyway, which costs a one-question ``ask`` a good part of its run time.
    Only for the command line; a caller of ``main()`` keeps its process.
    """
    status = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # a closed pipe, say: the ordinary exit reports it as ever
        raise SystemExit(status) from None
    os._exit(status)

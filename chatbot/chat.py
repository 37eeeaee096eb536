"""The terminal chat: two loops around a :class:`~chatbot.conversation.Conversation`.

- In a terminal, :func:`run_tty` reads lines with one prompt_toolkit ``PromptSession``
  (history file, auto-suggest from history, fuzzy completion of the knowledge base's
  example questions) and prints each turn wrapped to the terminal (``chatview``).
- Piped, :func:`run_lines` reads one question a line and prints plain replies, so
  ``echo 裏ももがつる | chatbot`` works in scripts.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path
from typing import Mapping, TextIO

from . import chatview
from .conversation import Conversation, fold, greeting
from .safe import BIDI_CONTROLS, inert


# ---- the terminal ------------------------------------------------------------------------

COMMAND_HELP = dict(chatview.COMMANDS)


def default_history_path(environ: Mapping[str, str] = os.environ) -> Path:
    """``$XDG_DATA_HOME/chatbot/history``, by default ``~/.local/share/chatbot/history``."""
    base = environ.get("XDG_DATA_HOME", "")
    if not base or not os.path.isabs(base):  # the XDG spec: a relative path is ignored
        home = environ.get("HOME") or str(Path.home())
        base = os.path.join(home, ".local", "share")
    return Path(base) / "chatbot" / "history"


def fuzzy_span(pattern: str, text: str) -> tuple[int, int] | None:
    """The shortest stretch of ``text`` holding ``pattern``'s characters in order: (length, start)."""
    best = None
    start = text.find(pattern[0]) if pattern else -1
    while start != -1:
        end = start
        for ch in pattern[1:]:
            end = text.find(ch, end + 1)
            if end == -1:
                return best  # no later start can match either
        if best is None or end - start + 1 < best[0]:
            best = (end - start + 1, start)
        start = text.find(pattern[0], start + 1)
    return best


class ExampleCompleter:
    """Completes the knowledge base's example questions, fuzzily and kana-insensitively
    (「すとれ」 offers the stretching questions, 「うらもも」 those about 裏もも), and /commands.

    The examples are read from ``conversation.bot`` so that /reload updates them.
    """

    def __init__(self, conversation: Conversation, limit: int = 40):
        self.conversation = conversation
        self.limit = limit
        self._kb = None
        self._entries: list[tuple[str, str, tuple[str, ...]]] = []

    def entries(self):
        bot = self.conversation.bot
        if self._kb is not bot.kb:
            entries, seen = [], set()
            for intent in bot.kb.intents:
                for example in intent.examples:
                    if example in seen:
                        continue
                    seen.add(example)
                    try:
                        reading = bot.analyzer.analyze(example).reading
                    except Exception:  # a reading is a bonus, never a reason to fail
                        reading = ""
                    entries.append((example, intent.title, tuple(k for k in (fold(example), fold(reading)) if k)))
            self._kb, self._entries = bot.kb, entries
        return self._entries

    def matches(self, text: str) -> list[tuple[str, str]]:
        """(example, title) pairs for the typed text, best first."""
        pattern = fold(text)
        if not pattern or pattern.isdigit():
            return []
        found = []
        for order, (example, title, keys) in enumerate(self.entries()):
            spans = [s for s in (fuzzy_span(pattern, k) for k in keys) if s]
            if spans:
                length, start = min(spans)
                if length <= 3 * len(pattern) + 2:  # characters strewn all over the sentence: noise
                    found.append((length, start, order, example, title))
        found.sort()
        return [(example, title) for *_, example, title in found[: self.limit]]


def _completer(conversation: Conversation):
    from prompt_toolkit.completion import Completer, Completion

    examples = ExampleCompleter(conversation)

    class _Completer(Completer):
        def get_completions(self, document, complete_event):
            text = document.text_before_cursor.lstrip()
            if unicodedata.normalize("NFKC", text[:1]) == "/":
                typed = "/" + text[1:]
                for name, what in COMMAND_HELP.items():
                    if name.startswith(typed):
                        yield Completion(name, -len(text), display_meta=what)
                return
            for example, title in examples.matches(text):
                yield Completion(example, -len(document.text_before_cursor), display_meta=title)

    completer = _Completer()
    completer.examples = examples
    return completer


PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600
DATA_DIR_NAME = "chatbot"  # the history's own directory (``default_history_path``)


def _private_history(path: Path) -> None:
    """Make the history file 0600 in a 0700 directory, whatever the umask; tighten them when we
    own them and they are looser. Only a directory of ours (named ``chatbot``) is tightened, never
    a directory someone chose to keep other files in."""
    directory = path.parent
    if not directory.exists():
        directory.parent.mkdir(parents=True, exist_ok=True)
        directory.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        os.chmod(directory, PRIVATE_DIR)
    elif directory.name == DATA_DIR_NAME:
        _tighten(directory, PRIVATE_DIR)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE))
    _tighten(path, PRIVATE_FILE)


def _tighten(path: Path, mode: int) -> None:
    info = os.stat(path)
    if info.st_uid == os.getuid() and info.st_mode & 0o777 & ~mode:
        os.chmod(path, info.st_mode & 0o777 & mode)


def _private_file_history():
    from prompt_toolkit.history import FileHistory

    class PrivateFileHistory(FileHistory):
        """prompt_toolkit's FileHistory, but a file it has to create again is made 0600."""

        def store_string(self, string: str) -> None:
            os.close(os.open(self.filename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE))
            super().store_string(string)

    return PrivateFileHistory


def open_history(path: str | Path | None):
    """A FileHistory at ``path``, in-memory for None. Returns (history, problem).
    The file holds every line typed: it is made 0600, in a directory made 0700."""
    from prompt_toolkit.history import InMemoryHistory

    if path is None:
        return InMemoryHistory(), None
    path = Path(path)
    try:
        _private_history(path)
    except OSError as e:
        return InMemoryHistory(), f"履歴を保存できません({path}: {e.strerror})。この回だけ覚えておきます。"
    return _private_file_history()(str(path)), None


def _show_bidi_controls() -> None:
    """Have prompt_toolkit draw bidi controls in the line being typed as ``<202e>``, as it draws
    C0 and C1 controls (``^[``, ``<9b>``), instead of sending them raw to the terminal."""
    from prompt_toolkit.layout.screen import Char

    Char.display_mappings.update({ch: f"<{ord(ch):04x}>" for ch in BIDI_CONTROLS})


def build_session(conversation: Conversation, *, history, input=None, output=None, color: bool = True):
    """The one PromptSession of a chat: history, auto-suggest and completion given at construction.
    ``color=False`` keeps the prompt and the completion menu monochrome (bold and reverse only)."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
    from prompt_toolkit.output import ColorDepth

    _show_bidi_controls()

    return PromptSession(
        message=lambda: chatview.prompt(bool(conversation.choices)),
        bottom_toolbar=lambda: chatview.toolbar(conversation.topic.title if conversation.topic else None),
        history=history,
        auto_suggest=AutoSuggestFromHistory(),
        completer=_completer(conversation),
        complete_while_typing=True,
        style=chatview.style(),
        include_default_pygments_style=False,
        input=input,
        output=output,
        color_depth=None if color else ColorDepth.DEPTH_1_BIT,
    )


_DEFAULT = object()


def run_tty(bot, stdout: TextIO, *, history_path=_DEFAULT, kb_path=None, input=None, output=None,
            color: bool | None = None, environ: Mapping[str, str] | None = None) -> int:
    """The interactive chat. ``history_path=None`` keeps no history file; ``input``/``output``
    are prompt_toolkit's (tests pass a pipe input and a DummyOutput); replies go to ``stdout``."""
    from prompt_toolkit import print_formatted_text
    from prompt_toolkit.formatted_text import FormattedText
    from prompt_toolkit.output import create_output

    environ = os.environ if environ is None else environ
    if history_path is _DEFAULT:
        history_path = default_history_path(environ)
    conversation = Conversation(bot, kb_path)
    history, problem = open_history(history_path)
    output = output or create_output(stdout)
    color = chatview.use_color(stdout, environ) if color is None else color
    session = build_session(conversation, history=history, input=input, output=output, color=color)
    style = chatview.style()

    def show(fragments):
        fragments = [(style_, inert(text)) for style_, text in fragments]  # nothing the terminal acts on
        if color:
            print_formatted_text(FormattedText(fragments), end="", style=style, output=output,
                                 include_default_pygments_style=False)
        else:
            stdout.write(chatview.plain(fragments))
            stdout.flush()

    show(chatview.greeting(greeting(conversation)))
    if problem:
        show([("class:error", problem + "\n")])
    while True:
        try:
            line = session.prompt()
        except KeyboardInterrupt:  # Ctrl-C: the line is dropped, the chat goes on
            continue
        except EOFError:  # Ctrl-D on an empty line
            break
        for part in line.splitlines() or [""]:  # a paste of several lines: each line is a question
            turn = conversation.reply(part)
            if turn is None:
                continue
            if turn.kind == "quit":
                return 0
            show(chatview.render(turn, chatview.text_width(output.get_size().columns)) + [("", "\n")])
    return 0


def input_lines(stdin: TextIO):
    """The lines of piped input, each decoded on its own: a line that is not UTF-8 keeps its bytes
    as lone surrogates (``surrogateescape``), which the bot declines, and the next line is read as usual."""
    raw = getattr(stdin, "buffer", None)
    if raw is None:  # a text stream without bytes under it (io.StringIO)
        yield from iter(stdin.readline, "")
        return
    for line in iter(raw.readline, b""):
        yield line.decode("utf-8", "surrogateescape")


def run_lines(bot, stdin: TextIO, stdout: TextIO, *, kb_path=None) -> int:
    """Piped input: one question a line, plain replies, no prompt. ``/quit`` or end of input leaves.
    Replies are made inert (``safe.inert``): nothing echoed can drive the terminal."""
    conversation = Conversation(bot, kb_path)
    first = True
    for line in input_lines(stdin):
        turn = conversation.reply(line)
        if turn is None:
            continue
        if turn.kind == "quit":
            return 0
        stdout.write(("" if first else "\n") + inert(chatview.plain_reply(turn)) + "\n")  # a blank line between replies
        stdout.flush()
        first = False
    return 0


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def run(bot, stdin: TextIO, stdout: TextIO, *, history_path=_DEFAULT, kb_path=None, **tty_options) -> int:
    """The ``chat`` command: interactive in a terminal (or with a prompt_toolkit ``input``), plain when piped."""
    if tty_options.get("input") is None and not _isatty(stdin):
        return run_lines(bot, stdin, stdout, kb_path=kb_path)
    if tty_options.get("input") is None:
        from prompt_toolkit.input import create_input

        tty_options["input"] = create_input(stdin)
    return run_tty(bot, stdout, history_path=history_path, kb_path=kb_path, **tty_options)

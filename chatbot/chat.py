"""The conversation: a small state machine (:class:`Conversation`) and two loops around it.

``Conversation.reply(line)`` turns one input line into a :class:`Turn` and remembers what
a conversation needs: the numbered choices on offer (after a clarifying question, a
decline or ``/topics``), the current topic (for short follow-up questions) and how the
last answer was chosen (for ``/why``). It does no I/O.

- In a terminal, :func:`run_tty` reads lines with one prompt_toolkit ``PromptSession``
  (history file, auto-suggest from history, fuzzy completion of the knowledge base's
  example questions) and prints each turn wrapped to the terminal (``chatview``).
- Piped, :func:`run_lines` reads one question a line and prints plain replies, so
  ``echo 裏ももがつる | chatbot`` works in scripts.

Follow-up rule: a question the bot answers on its own is answered as asked. Otherwise,
if there is a current topic and the question brings no word the knowledge base does not
know (「なぜ?」「初心者は?」, not 「肩こりは?」), it is asked again with the topic's title in
front (「ヒップリフトのやり方 初心者は?」); when that is answered, that answer is used and
the reply says it was read as a follow-up. A declined question ends the topic, and so
does ``/reset``.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, TextIO

from . import chatview
from .errors import ChatbotError
from .safe import BIDI_CONTROLS, inert
from .models import ANSWERED, CLARIFY, DECLINED, Answer, Candidate, Intent
from .text import to_hiragana

GREETING = "裏ももの筋トレとストレッチについてお答えします"
WHY_CANDIDATES = 5
QUIT_COMMANDS = ("/quit", "/exit", "/q")


@dataclass(frozen=True)
class Choice:
    """One numbered choice on offer: typing its number (or its title) answers that intent."""

    number: int
    title: str
    intent: str


@dataclass(frozen=True)
class Why:
    """How an answer was chosen, for ``/why``."""

    question: str  # what the user typed
    asked: str | None  # the text that was judged (with the topic in front for a follow-up)
    pick: str | None  # "1. タイトル [id]" when the answer was picked from choices
    context: str | None  # the topic title put in front of a follow-up
    alone_status: str | None
    alone_score: float  # how sure the bot was of the question read alone (a probability)
    followup_note: str | None
    normalized: str
    words: tuple[tuple[str, str], ...]
    candidates: tuple[tuple[str, str, float, str], ...]  # title, id, score, best example
    status: str
    rule: str


@dataclass(frozen=True)
class Turn:
    """What the bot says to one line. ``kind``: answer, help, topics, why, notice, error, quit."""

    kind: str
    answer: Answer | None = None
    title: str | None = None  # heading of a content answer
    choices: tuple[Choice, ...] = ()  # numbered choices this turn offers
    context: str | None = None  # topic title a follow-up was read with
    text: str = ""  # the message of notice/error turns
    sections: tuple[tuple[str, tuple[Choice, ...]], ...] = ()  # /topics
    why: Why | None = None


@dataclass(frozen=True)
class _Judged:
    """The last answer and what is needed to explain it."""

    bot: object
    question: str
    answer: Answer | None  # the answer the bot judged (None for a pick from /topics)
    pick: str | None = None
    context: str | None = None
    alone: Answer | None = None
    note: str | None = None


def fold(text: str) -> str:
    """Width, case and kana folded (ｽﾄﾚｯﾁ = ストレッチ = すとれっち), spaces dropped: for matching typed text."""
    return re.sub(r"\s+", "", to_hiragana(unicodedata.normalize("NFKC", text).casefold()))


def content_intents(kb) -> list[Intent]:
    """The intents with an article section, or every intent when none has one (a FAQ table)."""
    return [i for i in kb.intents if i.source] or list(kb.intents)


def offered_intents(kb, answer: Answer) -> list[Intent]:
    """The intents a clarify or decline reply lists, in its numbering."""
    return [kb.intent(intent_id) for intent_id in answer.offered]


def _choices(intents) -> tuple[Choice, ...]:
    return tuple(Choice(n, i.title, i.id) for n, i in enumerate(intents, start=1))


class Conversation:
    """One user's conversation with a bot. ``reply(line)`` -> :class:`Turn` (None for a blank line)."""

    def __init__(self, bot, kb_path: str | Path | None = None):
        self.bot = bot
        self.kb_path = kb_path
        self.choices: tuple[Choice, ...] = ()
        self.topic: Intent | None = None
        self._offered_by: Answer | None = None  # the answer whose choices are on offer
        self._last: _Judged | None = None

    # ---- the one entry point -------------------------------------------------------
    def reply(self, line: str) -> Turn | None:
        text = line.strip()
        if not text:
            return None
        key = unicodedata.normalize("NFKC", text)
        if key.startswith("/"):
            return self._command(key.split()[0].lower())
        return self._pick(key) or self._question(text)

    # ---- choosing from numbered choices --------------------------------------------
    def _pick(self, key: str) -> Turn | None:
        number = re.fullmatch(r"(\d+)\s*(?:番目?|\.)?", key)
        if number:
            if not self.choices:
                return Turn("notice", text="いま番号で選べる候補はありません。/topics で話題の一覧を表示します。")
            for choice in self.choices:
                if choice.number == int(number[1]):
                    return self._answer_choice(choice, text=key)
            return Turn("error", text=f"1〜{len(self.choices)} の番号で選んでください。")
        wanted = fold(key.strip("「」"))
        for choice in self.choices:
            if fold(choice.title) == wanted:
                return self._answer_choice(choice, text=key)
        return None

    def _answer_choice(self, choice: Choice, text: str) -> Turn:
        intent = self.bot.kb.intent(choice.intent)
        answer = Answer(question=text, text=intent.answer, status=ANSWERED, intent=intent.id, score=1.0,
                        candidates=(Candidate(intent.id, 1.0, intent.title),), source=intent.source,
                        title=intent.title)
        self._last = _Judged(self.bot, text, self._offered_by, pick=f"{choice.number}. {intent.title} [{intent.id}]")
        return self._answered(answer, intent)

    # ---- questions -------------------------------------------------------------------
    def _question(self, text: str) -> Turn:
        bot = self.bot
        alone = answer = bot.answer(text)
        context = note = None
        if alone.status != ANSWERED and self.topic is not None and not alone.reason:
            new = bot.new_words(text)
            if not bot.analyzer.analyze(text).words:
                note = "質問に言葉が見当たらないので、前の話題の続きとは見なしませんでした。"
            elif new:
                note = f"知識にない言葉({'、'.join(new)})があるので、前の話題の続きとは見なしませんでした。"
            else:
                framed = bot.answer(f"{self.topic.title} {text}")
                if framed.status == ANSWERED:
                    answer, context = framed, self.topic.title
                else:
                    note = f"前の話題「{self.topic.title}」を補っても答えが定まらないので、質問だけで判定しました。"
        self._last = _Judged(bot, text, answer, context=context, alone=alone, note=note)
        if answer.status == ANSWERED:
            return self._answered(answer, bot.kb.intent(answer.intent), context)
        intents = offered_intents(bot.kb, answer)
        self.choices, self._offered_by = _choices(intents), answer
        if answer.status == DECLINED:
            self.topic = None
        return Turn("answer", answer, choices=self.choices)

    def _answered(self, answer: Answer, intent: Intent, context: str | None = None) -> Turn:
        self.choices, self._offered_by = (), None
        content = intent in content_intents(self.bot.kb)
        if content:
            self.topic = intent
        return Turn("answer", answer, title=intent.title if content else None, context=context)

    # ---- commands --------------------------------------------------------------------
    def _command(self, name: str) -> Turn:
        if name in QUIT_COMMANDS:
            return Turn("quit")
        if name in ("/help", "/?", "/h"):
            return Turn("help")
        if name in ("/topics", "/t"):
            return self._topics()
        if name == "/why":
            return self._why()
        if name == "/reload":
            return self._reload()
        if name == "/reset":
            self.topic, self.choices, self._offered_by = None, (), None
            return Turn("notice", text="話題をリセットしました。次の質問はそれだけで判定します。")
        return Turn("error", text=f"{name} というコマンドはありません。/help で一覧を表示します。")

    def _topics(self) -> Turn:
        intents = content_intents(self.bot.kb)
        self.choices, self._offered_by = _choices(intents), None
        sections: list[tuple[str, list[Choice]]] = []
        for choice, intent in zip(self.choices, intents):
            section = intent.source.section if intent.source else ""
            if not sections or sections[-1][0] != section:
                sections.append((section, []))
            sections[-1][1].append(choice)
        return Turn("topics", choices=self.choices, sections=tuple((s, tuple(c)) for s, c in sections))

    def _why(self) -> Turn:
        last = self._last
        if last is None:
            return Turn("notice", text="まだ答えた質問がありません。質問のあとに /why と入力すると、その回答の選び方を表示します。")
        bot, judged = last.bot, last.answer
        if judged is None:  # picked from /topics: nothing was judged
            return Turn("why", why=Why(last.question, None, last.pick, None, None, 0.0, None, "", (), (), ANSWERED, ""))
        asked = judged.question
        ranked = bot.rank(asked, WHY_CANDIDATES)
        intents = bot.kb.intents
        readable = judged.reason is None  # an unusable question (undecodable, too long) is not analyzed
        why = Why(
            question=last.question,
            asked=asked,
            pick=last.pick,
            context=last.context,
            alone_status=last.alone.status if last.alone else None,
            alone_score=last.alone.confidence if last.alone else 0.0,
            followup_note=last.note,
            normalized=bot.analyzer.normalize(asked) if readable else "",
            words=tuple((w.form, w.reading) for w in bot.analyzer.analyze(asked).words) if readable else (),
            candidates=tuple((intents[s.intent].title, intents[s.intent].id, s.score, s.example) for s in ranked),
            status=judged.status,
            rule=_rule(judged, bot.thresholds),
        )
        return Turn("why", why=why)

    def _reload(self) -> Turn:
        from .bot import Bot
        from .knowledge import bundled_path

        path = self.kb_path or self.bot.kb.origin or bundled_path()
        try:
            bot = Bot.from_path(path, thresholds=self.bot.thresholds)
        except Exception as e:  # whatever went wrong, a running chat keeps what it knows
            return Turn("error", text=f"読み直せませんでした: {_one_line(e)}\n前の知識のまま続けます。")
        self.bot = bot
        self.choices, self._offered_by = (), None
        if self.topic is not None:
            self.topic = next((i for i in bot.kb.intents if i.id == self.topic.id), None)
        examples = sum(len(i.examples) for i in bot.kb.intents)
        return Turn("notice", text=f"知識ファイルを読み直しました: {path}(話題 {len(bot.kb.intents)} 件、例文 {examples} 件)")


def _one_line(error: Exception) -> str:
    """An exception as one line: its message (its type when that says more), first line only."""
    message = str(error).strip().split("\n")[0]
    if isinstance(error, ChatbotError):
        return message
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _rule(answer: Answer, thresholds) -> str:
    """The decision rule as it applied to this answer, in words."""
    if answer.reason:
        return f"入力をそのまま使えません({answer.reason})"
    sure = f"1位が正しい見込み {answer.confidence:.0%}"
    if answer.status == ANSWERED:
        return f"{sure} が回答の基準 {thresholds.answer:.0%} 以上"
    if answer.status == CLARIFY:
        return (f"{sure} は回答の基準 {thresholds.answer:.0%} 未満ですが、上位2つのどちらかである見込みが"
                f" {thresholds.clarify:.0%} 以上なので、どちらか聞き返しました")
    return f"{sure} も、上位2つのどちらかである見込みも基準 {thresholds.clarify:.0%} 未満"


def greeting(conversation: Conversation) -> str:
    """One line: what the bot can answer."""
    from .knowledge import bundled_path

    kb = conversation.bot.kb
    origin = Path(kb.origin) if kb.origin else None
    if origin is None or origin.resolve().parent == bundled_path().resolve():
        return GREETING
    return f"{origin.name} の{len(content_intents(kb))}件の話題についてお答えします"


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
        turn = conversation.reply(line)
        if turn is None:
            continue
        if turn.kind == "quit":
            break
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
    for line in input_lines(stdin):
        turn = conversation.reply(line)
        if turn is None:
            continue
        if turn.kind == "quit":
            return 0
        stdout.write(inert(chatview.plain_reply(turn)) + "\n")
        stdout.flush()
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

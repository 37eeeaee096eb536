"""The conversation: a small state machine with no I/O.

``Conversation.reply(line)`` turns one input line into a :class:`Turn` and remembers what
a conversation needs: the numbered choices on offer (after a clarifying question, a
decline or ``/topics``), the current topic (for short follow-up questions) and how the
last answer was chosen (for ``/why``). The terminal chat (``chat``) draws its turns.

Follow-up rule: when there is a current topic and the question brings no word the
knowledge base does not know (「なぜ?」「初心者は?」, not 「肩こりは?」), it is also asked with
the topic's title in front (「ヒップリフトのやり方 初心者は?」). That reading is used, and the
reply says it was read as a follow-up, when it is answered and the question alone is not,
or when it answers the topic itself more surely than the question alone answers another
(「コツは?」 after the hip lift). A question of another topic stays itself: 「裏ももがつる」
alone is surer of the cramp than any reading of it as the hip lift's. A declined question
ends the topic, and so does ``/reset``.

One :class:`Conversation` per user: its state is that user's. It is safe to call from
several threads (a web server's): each conversation has its own lock, so one user's lines
are answered one at a time (never two at once), while different conversations run side by side.
``reply`` also runs the commands (/why, /reload, /quit…); ``ask`` only answers questions and
picks, for callers whose users must not run commands (the web server).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .errors import ChatbotError
from .models import ANSWERED, CLARIFY, DECLINED, Answer, Candidate, Intent
from .text import to_hiragana

GREETING = "裏ももの筋トレとストレッチについてお答えします"
WHY_CANDIDATES = 5
QUIT_COMMANDS = ("/quit", "/exit", "/q")
# A whole line of one of these leaves too (after NFKC, case folding, and a closing 。 or !):
# what people type to leave a chat without reading /help first.
QUIT_WORDS = frozenset({"exit", "quit", "bye", "終了", "終わり", "おわり", "さようなら", "さよなら", "バイバイ"})
HELP_EXAMPLES = 2  # example questions /help shows, from the knowledge base loaded


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
    examples: tuple[str, ...] = ()  # /help: questions this knowledge base answers


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


def help_examples(kb) -> tuple[str, ...]:
    """A few questions the knowledge base answers: the first example of its first topics."""
    return tuple(intent.examples[0] for intent in content_intents(kb)[:HELP_EXAMPLES] if intent.examples)


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
        self._lock = threading.RLock()  # one line at a time per conversation

    # ---- the entry points --------------------------------------------------------------
    def reply(self, line: str) -> Turn | None:
        """A question, a pick (a number or a title on offer), a /command, or a word that leaves."""
        with self._lock:
            text = line.strip()
            if not text:
                return None
            key = unicodedata.normalize("NFKC", text)
            if key.startswith("/"):
                return self._command(key.split()[0].lower())
            if key.casefold().rstrip("。.!! ") in QUIT_WORDS:
                return Turn("quit")
            return self._pick(key) or self._question(text)

    def ask(self, line: str) -> Turn | None:
        """A question or a pick, never a command: a line starting with / is asked as a question."""
        with self._lock:
            text = line.strip()
            if not text:
                return None
            return self._pick(unicodedata.normalize("NFKC", text)) or self._question(text)

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
        if self.topic is not None and not alone.reason and (alone.status != ANSWERED or alone.intent != self.topic.id):
            answer, context, note = self._follow_up(text, alone, self.topic)
        self._last = _Judged(bot, text, answer, context=context, alone=alone, note=note)
        if answer.status == ANSWERED:
            return self._answered(answer, bot.kb.intent(answer.intent), context)
        intents = offered_intents(bot.kb, answer)
        self.choices, self._offered_by = _choices(intents), answer
        if answer.status == DECLINED:
            self.topic = None
        return Turn("answer", answer, choices=self.choices)

    def _follow_up(self, text: str, alone: Answer, topic: Intent) -> tuple[Answer, str | None, str | None]:
        """The question read as a follow-up of ``topic``: (answer, context, note for ``/why``).
        It is one when it brings no word the knowledge base does not know and, with the topic's
        title in front, is answered: where it is not answered on its own, or where that reading
        is of the topic itself and surer than the question alone (「コツは?」 after the hip lift
        asks the hip lift's tips, not the tips for keeping at it). Else it is ``alone``."""
        bot, unsure = self.bot, alone.status != ANSWERED
        if not bot.analyzer.analyze(text).words:
            why = "質問に言葉が見当たらないので、前の話題の続きとは見なしませんでした。"
        elif new := bot.new_words(text):
            why = f"知識にない言葉({'、'.join(new)})があるので、前の話題の続きとは見なしませんでした。"
        else:
            framed = bot.answer(f"{topic.title} {text}")
            if framed.status == ANSWERED and (unsure or (framed.intent == topic.id and framed.confidence > alone.confidence)):
                return framed, topic.title, None
            why = f"前の話題「{topic.title}」を補っても答えが定まらないので、質問だけで判定しました。"
        return alone, None, why if unsure else None

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
            return Turn("help", examples=help_examples(self.bot.kb))
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
        from .knowledge import bundled_path

        path = self.kb_path or getattr(self.bot, "path", None) or self.bot.kb.origin or bundled_path()
        try:
            kb = self.bot.reload(path)  # built aside and swapped in whole; a failure changes nothing
        except Exception as e:  # whatever went wrong, a running chat keeps what it knows
            return Turn("error", text=f"読み直せませんでした: {_one_line(e)}\n前の知識のまま続けます。")
        self.choices, self._offered_by = (), None
        if self.topic is not None:
            self.topic = next((i for i in kb.intents if i.id == self.topic.id), None)
        examples = sum(len(i.examples) for i in kb.intents)
        return Turn("notice", text=f"知識ファイルを読み直しました: {path}(話題 {len(kb.intents)} 件、例文 {examples} 件)")


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

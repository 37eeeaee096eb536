"""How the chat looks: pure functions from conversation turns to styled text.

Every function here returns either plain strings or *fragments*: a list of
``(style, text)`` pairs, the form prompt_toolkit prints (``FormattedText``). Styles
are class names (``class:title``) resolved by :func:`style` (:data:`STYLE_RULES`); with colour off the
fragments are simply joined (:func:`plain`). Nothing here reads the terminal or the
environment: widths, colour and the turn to show are all passed in.

A *turn* is duck-typed (see ``conversation.Turn``): ``kind``, ``answer``, ``title``,
``choices``, ``context``, ``text``, ``sections``, ``why``.

The fragments carry text as it is; the chat makes them inert (``safe.inert``) as it
writes them to the terminal.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping, Sequence

from prompt_toolkit.utils import get_cwidth

from . import replies

Fragments = list[tuple[str, str]]

INDENT = "  "
MAX_WIDTH = 100  # wider lines are hard to read even on a wide terminal

STYLE_RULES = {
    "prompt": "bold ansicyan",
    "title": "bold ansicyan",
    "context": "dim",
    "source": "dim",
    "choice": "ansiyellow",
    "hint": "dim",
    "heading": "bold",
    "error": "ansired",
    "label": "bold",
    "score": "ansigreen",
    "toolbar": "reverse",
}

STATUS_WORDS = {"answered": "回答", "clarify": "確認(どちらか聞き返す)", "declined": "お答えできない"}

COMMANDS = (
    ("/help", "この説明"),
    ("/topics", "答えられる話題の一覧(番号で選べます)"),
    ("/why", "直前の回答をどう選んだか"),
    ("/reload", "知識ファイルを読み直す"),
    ("/reset", "いまの話題を忘れる(次の質問をそれだけで判定)"),
    ("/quit", "終了(Ctrl-D でも)"),
)


def style():
    """The prompt_toolkit Style for the class names used in fragments."""
    from prompt_toolkit.styles import Style

    return Style.from_dict(STYLE_RULES)


def use_color(stream, environ: Mapping[str, str]) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (non-empty) or TERM is dumb."""
    if environ.get("NO_COLOR", "") != "" or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def width(text: str) -> int:
    """Columns the text takes in a terminal: East Asian wide characters count 2."""
    return get_cwidth(text)


# Characters a line must not start with (closing brackets, punctuation, small kana,
# the long-vowel mark) and must not end with (opening brackets): 禁則処理, simplified.
BULLET = "・"  # a line starting with it is a list item
NO_LINE_START = set(
    "\u3001\u3002,.!?)]}\uff0c\uff0e\uff01\uff1f\uff09\uff3d\uff5d\uff1a\uff1b:;"  # 、。 and closing marks, both widths
    "\u300d\u300f\u3011\u3015\u3009\u300b\u2019\u201d"  # 」』】〕〉》’”
    "\u30fc\u301c\uff5e\u2026\u2025\u30fb"  # ー 〜 ～ … ‥ ・
    "\u3041\u3043\u3045\u3047\u3049\u3063\u3083\u3085\u3087\u308e"  # small hiragana
    "\u30a1\u30a3\u30a5\u30a7\u30a9\u30c3\u30e3\u30e5\u30e7\u30ee\u30f5\u30f6"  # small katakana
)
NO_LINE_END = set("([{\uff08\uff3b\uff5b\u300c\u300e\u3010\u3014\u3008\u300a\u2018\u201c")  # opening marks
_UNIT = re.compile(r"[ \t\u3000]+|[!-~]+|.", re.S)  # spaces, a run of ASCII (a word, a URL), one character


def _units(paragraph: str) -> list[str]:
    """The paragraph cut where a line may break, with 禁則 characters glued to their neighbour."""
    units: list[str] = []
    glue_next = False
    for unit in _UNIT.findall(paragraph):
        if units and not unit.isspace() and (glue_next or unit[0] in NO_LINE_START):
            units[-1] += unit
        else:
            units.append(unit)
        glue_next = unit[-1] in NO_LINE_END
    return units


def wrap(text: str, columns: int) -> list[str]:
    """Wrap text to ``columns`` terminal columns, Japanese-aware.

    Lines break between any two Japanese characters but not inside an ASCII word, not
    before closing punctuation (、。」 …) and not after an opening bracket. Existing line
    breaks are kept. A single word wider than the line (a URL) stays whole on its own line.
    A list item (a line that starts with ・) hangs its continuation lines under its text.
    """
    columns = max(columns, 2)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        if paragraph.startswith(BULLET) and columns > 2 * width(BULLET):
            item = _wrap_paragraph(paragraph[len(BULLET):], columns - width(BULLET))
            hang = " " * width(BULLET)
            lines += [BULLET + item[0]] + [hang + more for more in item[1:]]
        else:
            lines += _wrap_paragraph(paragraph, columns)
    return lines


def _wrap_paragraph(paragraph: str, columns: int) -> list[str]:
    """One paragraph (no line breaks) wrapped to ``columns``."""
    lines: list[str] = []
    line = ""
    for unit in _units(paragraph):
        if width(line) + width(unit) <= columns:
            line += unit
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = "" if unit.isspace() else unit
        while width(line) > columns and not re.fullmatch(r"[!-~]+", line):
            # a glued run of wide characters longer than the line: cut it by columns
            cut = 1
            while width(line[: cut + 1]) <= columns:
                cut += 1
            lines.append(line[:cut])
            line = line[cut:]
    lines.append(line.rstrip())
    return lines


def text_width(columns: int) -> int:
    """The width to wrap replies to in a terminal of ``columns`` (indent and last column kept free)."""
    return max(min(columns, MAX_WIDTH) - len(INDENT) - 1, 10)


def _block(text: str, style_: str, columns: int | None) -> Fragments:
    lines = wrap(text, columns) if columns else text.split("\n")
    return [(style_, f"{INDENT}{line}\n") for line in lines]


def plain(fragments: Iterable[tuple[str, str]]) -> str:
    """Fragments as plain text: the styles dropped."""
    return "".join(text for _, text in fragments)


def prompt(choosing: bool) -> Fragments:
    """The input prompt; it says when a number picks one of the listed choices."""
    return [("class:prompt", "番号か質問> " if choosing else "質問> ")]


def toolbar(topic: str | None) -> list[tuple[str, str]]:
    """The bottom line of the chat: the current topic, which short follow-ups are read in."""
    if topic is None:
        return [("class:toolbar", " 話題: なし ")]
    return [("class:toolbar", f" 話題: {topic}  (/reset で解除) ")]


def greeting(what: str) -> Fragments:
    """The opening line: what the bot answers, how to get help and how to leave."""
    return [("", what), ("class:hint", "(/help で使い方、Ctrl-D で終了)\n")]


def choice_lines(choices: Sequence, columns: int | None) -> Fragments:
    out: Fragments = []
    for choice in choices:
        head = f"{INDENT}{INDENT}{choice.number}. "
        body = wrap(choice.title, columns - len(head) + len(INDENT)) if columns else [choice.title]
        out.append(("class:choice", head + body[0] + "\n"))
        out += [("class:choice", " " * len(head) + more + "\n") for more in body[1:]]
    return out


def _pick_hint(choices: Sequence) -> Fragments:
    n = len(choices)
    numbers = "1" if n == 1 else f"1〜{n}"
    return [("class:hint", f"{INDENT}番号({numbers})か題名を入力すると、その回答を表示します。\n")]


def answer_turn(turn, columns: int | None) -> Fragments:
    """A reply: title, the answer wrapped, a dim source line; or the question and numbered choices."""
    answer = turn.answer
    out: Fragments = []
    if turn.title:
        out.append(("class:title", f"{INDENT}{turn.title}"))
        if turn.context:
            out.append(("class:context", f"  (「{turn.context}」の続きとして)"))
        out.append(("", "\n"))
    if turn.choices:
        # the bot's own words without its numbered list; the list is drawn from the choices
        head = "\n".join(l for l in answer.text.split("\n") if not re.match(r"\d+\. ", l))
        out += _block(head, "", columns)
        out += choice_lines(turn.choices, columns)
        out += _pick_hint(turn.choices)
    else:
        out += _block(answer.text, "", columns)
    out += source_lines(answer.source, columns)
    if answer.reason:
        out += _block(reason_line(answer), "class:hint", columns)
    return out


def reason_line(answer) -> str:
    """Why a question could not be asked at all (empty, too long, undecodable bytes)."""
    return f"(理由: {answer.reason})"


def source_lines(source, columns: int | None) -> Fragments:
    """「出典: section / 参考: reference」 on one line when it fits, else one line each."""
    if source is None:
        return []
    if not source.reference:
        return _block(f"出典: {source.section}", "class:source", columns)
    section, reference = f"出典: {source.section}", f"参考: {source.reference}"
    one = f"{section} / {reference}"
    if not columns or width(one) <= columns:
        return [("class:source", f"{INDENT}{one}\n")]
    # the reference (a URL) is never cut: a terminal keeps a long URL clickable
    return _block(section, "class:source", columns) + [("class:source", f"{INDENT}{reference}\n")]


def help_turn(columns: int | None, examples: Sequence[str] = ()) -> Fragments:
    """How to use the chat; ``examples``: questions the loaded knowledge base answers."""
    out: Fragments = [("class:heading", f"{INDENT}使い方\n")]
    shown = f"(例: {''.join(f'「{e}」' for e in examples)})" if examples else ""
    out += _block(f"知りたいことを短い日本語の文で入力してください{shown}。"
                  "前の回答の続きなら「なぜ?」「もっと詳しく」のような短い質問でも、その話題として答えます。", "", columns)
    out += _block("聞き返しや一覧に番号が付いているときは、番号か題名を入力するとその回答を表示します。", "", columns)
    out += _block("Tab か入力中の候補で例文を補完、→ で履歴からの候補を確定。Ctrl-C で入力を消去、Ctrl-D で終了。",
                  "class:hint", columns)
    for name, what in COMMANDS:
        out += [("", INDENT), ("class:label", f"{name:<8}"), ("", f" {what}\n")]
    out += _block("exit、quit、終了、さようなら だけの行でも終了します。", "class:hint", columns)
    return out


def section_heading(section: str) -> str:
    """A section's heading in /topics: 「■ よくある質問」, its own number (「5. 」) dropped, so that the
    only numbers in the list are the ones that pick a topic."""
    return "■ " + re.sub(r"^\s*\d+\s*[.．、)]\s*", "", section)


def topics_turn(turn, columns: int | None) -> Fragments:
    """The topics, numbered continuously, under their section headings."""
    out: Fragments = []
    for section, choices in turn.sections:
        if section:
            out += _block(section_heading(section), "class:heading", columns)
        out += choice_lines(choices, columns)
    out += _pick_hint(turn.choices)
    return out


def _score(value: float) -> str:
    return f"{value:.3f}"


def _labelled(label: str, text: str, columns: int | None, style_: str = "") -> Fragments:
    """「label text」 with the text wrapped and its further lines indented under the text."""
    head = INDENT + label + " " * max(8 - width(label), 1)
    pad = " " * width(head)
    lines = wrap(text, columns - width(pad) + len(INDENT)) if columns else text.split("\n")
    out: Fragments = [("class:label", head), (style_, f"{lines[0]}\n")]
    return out + [(style_, f"{pad}{line}\n") for line in lines[1:]]


ALONE_WORDS = {"clarify": "候補が二つに絞れず", "declined": "答えられる話題が見つからず"}


def why_turn(turn, columns: int | None) -> Fragments:
    """How the last answer was chosen: the pick or follow-up rule, the text read, the ranking, the rule applied."""
    why = turn.why
    out: Fragments = _block(f"「{why.question}」をどう読んだか", "class:heading", columns)
    if why.pick is not None:
        out += _block(f"番号・題名での選択です: {why.pick}", "", columns)
        if why.asked is None:
            return out
        out += _block(f"その選択肢を出した質問「{why.asked}」の判定:", "class:hint", columns)
    if why.context:
        alone = ALONE_WORDS.get(why.alone_status, STATUS_WORDS.get(why.alone_status, ""))
        out += _block(
            f"質問だけでは{alone}(見込み {why.alone_score:.0%})、前の話題「{why.context}」を補って"
            f"「{why.asked}」として判定しました。", "", columns)
    elif why.followup_note:
        out += _block(why.followup_note, "class:hint", columns)
    out += _labelled("正規化", why.normalized, columns)
    words = " ".join(f"{form}({reading})" for form, reading in why.words) or "(内容語なし)"
    out += _labelled("単語", words, columns)
    out.append(("class:label", f"{INDENT}候補\n"))
    if not why.candidates:
        out.append(("class:hint", f"{INDENT}{INDENT}(どの話題とも共通点がありません)\n"))
    for n, (title, intent, score, example) in enumerate(why.candidates, start=1):
        out += _candidate(f"{INDENT}{INDENT}{n}. ", _score(score), f" {title} [{intent}]",
                          f"  例文「{example}」" if example else "", columns)
    out += _labelled("判定", f"{STATUS_WORDS[why.status]} — {why.rule}", columns)
    return out


def _candidate(head: str, score: str, name: str, example: str, columns: int | None) -> Fragments:
    """One /why candidate: 「1. 0.873 題名 [id]  例文「…」」, wrapped with its further lines under
    the score, so that a terminal never wraps it back to the first column."""
    if not columns:
        return [("", head), ("class:score", score), ("", name), ("class:hint", example + "\n")]
    pad = " " * width(head)
    lines = wrap(score + name + example, columns - width(head) + len(INDENT))
    out: Fragments = [("", head), ("class:score", score), ("", lines[0][len(score):] + "\n")]
    return out + [("", f"{pad}{line}\n") for line in lines[1:]]


def message_turn(turn, columns: int | None) -> Fragments:
    return _block(turn.text, "class:error" if turn.kind == "error" else "", columns)


def render(turn, columns: int | None = None) -> Fragments:
    """Fragments for any turn; ``columns`` None means no wrapping (piped output)."""
    kind = turn.kind
    if kind == "answer":
        return answer_turn(turn, columns)
    if kind == "help":
        return help_turn(columns, getattr(turn, "examples", ()))
    if kind == "topics":
        return topics_turn(turn, columns)
    if kind == "why":
        return why_turn(turn, columns)
    return message_turn(turn, columns)


def plain_reply(turn) -> str:
    """A turn as plain text for piped output: an answer exactly as ``replies.plain`` prints it."""
    if turn.kind == "answer":
        text = replies.plain(turn.answer)
        return f"{text}\n{reason_line(turn.answer)}" if turn.answer.reason else text
    return "\n".join(line[len(INDENT):] if line.startswith(INDENT) else line
                     for line in plain(render(turn)).rstrip("\n").split("\n"))

"""The bot's own words: the text of a clarifying question and of a decline. Pure functions."""

from __future__ import annotations

import re
from typing import Sequence

from .text import fold, to_hiragana


def clarify(titles: Sequence[str]) -> str:
    """Ask which of the close topics was meant, as a numbered list."""
    choices = "\n".join(f"{n}. {title}" for n, title in enumerate(titles, start=1))
    named = "と".join(f"「{t}」" for t in titles)
    return f"{named}のどちらについてのご質問ですか?\n{choices}"


def decline(titles: Sequence[str], unreadable: bool = False) -> str:
    """Say plainly that there is no answer, and offer topics that do have one."""
    if unreadable:
        head = "すみません、質問として読み取れませんでした(空、長すぎる、または文字化けしています)。"
    else:
        head = "すみません、そのご質問にお答えできる情報がありません。"
    if not titles:
        return head
    choices = "\n".join(f"{n}. {title}" for n, title in enumerate(titles, start=1))
    return f"{head}\n次のような話題ならお答えできます:\n{choices}"


def in_kind(intent, question: str) -> str:
    """The intent's answer, or its reply in kind when the (normalized) question holds one of that
    reply's words: おはよう is answered おはようございます, こんばんは with こんばんは."""
    asked = to_hiragana(question)
    for reply in intent.in_kind:
        if any(to_hiragana(fold(word)) in asked for word in reply.words):
            return reply.answer
    return intent.answer


def source_line(answer) -> str | None:
    """「出典: section / 参考: reference」 for a content answer (「出典: section」 when the article
    cites no reference for it), None otherwise."""
    if answer.source is None:
        return None
    if not answer.source.reference:
        return f"出典: {answer.source.section}"
    return f"出典: {answer.source.section} / 参考: {answer.source.reference}"


def listed(answer) -> str:
    """The reply with its numbered choices as a list of titles and ids (「・題名 [id]」), for output
    where a number cannot be typed back (``chatbot ask``): each id is what to look the topic up by."""
    if not answer.offered:
        return answer.text
    kept, titles = [], []
    for line in answer.text.split("\n"):
        numbered = re.match(r"(\d+)\. (.*)", line)
        if numbered and len(titles) < len(answer.offered):
            titles.append(numbered[2])
        else:
            kept.append(line)
    return "\n".join(kept + [f"・{title} [{intent}]" for title, intent in zip(titles, answer.offered)])


def plain(answer) -> str:
    """An answer as plain text: the reply, then its source line when it has one."""
    line = source_line(answer)
    return f"{answer.text}\n({line})" if line else answer.text

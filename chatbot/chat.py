"""The conversation loop: one question a line, one reply each."""

from __future__ import annotations

from typing import TextIO

from . import replies

GREETING = "裏もも(ハムストリングス)のトレーニングとストレッチについてお答えします。終わるときは /quit か Ctrl-D。"


def run_lines(bot, stdin: TextIO, stdout: TextIO, prompt: str = "") -> int:
    """Answer each non-empty line of ``stdin``; ``/quit`` or end of input leaves."""
    while True:
        if prompt:
            stdout.write(prompt)
            stdout.flush()
        line = stdin.readline()
        if not line:
            return 0
        question = line.strip()
        if not question:
            continue
        if question in ("/quit", "/exit"):
            return 0
        stdout.write(replies.plain(bot.answer(question)) + "\n")
        if prompt:
            stdout.write("\n")
        stdout.flush()


def run(bot, stdin: TextIO, stdout: TextIO) -> int:
    if stdin.isatty():
        stdout.write(GREETING + "\n")
        return run_lines(bot, stdin, stdout, prompt="質問> ")
    return run_lines(bot, stdin, stdout)

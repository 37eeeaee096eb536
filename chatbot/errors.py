"""The bot's own exceptions. Each one's message tells the user what is wrong and where."""

from __future__ import annotations


class ChatbotError(Exception):
    """Base class of every error the bot raises on purpose."""


class KnowledgeError(ChatbotError):
    """A knowledge file is missing or broken; the message names the file and the line."""

    def __init__(self, path: str, message: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


class InputError(ChatbotError):
    """An input file of questions cannot be read at all (one bad line is not this)."""

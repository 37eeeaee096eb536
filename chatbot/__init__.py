"""A Japanese FAQ chatbot: ``Bot().answer("裏ももがつる")``."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# Each public name and the module it comes from. They are imported on first use, so that
# importing one module (the ``chatbot`` command starts from chatbot.cli) loads no others.
_EXPORTS = {
    "Bot": "bot",
    "answer": "bot",
    "Conversation": "conversation",
    "Turn": "conversation",
    "Choice": "conversation",
    "Answer": "models",
    "Candidate": "models",
    "Intent": "models",
    "KnowledgeBase": "models",
    "Source": "models",
    "Thresholds": "decide",
    "ANSWERED": "models",
    "CLARIFY": "models",
    "DECLINED": "models",
    "ChatbotError": "errors",
    "InputError": "errors",
    "KnowledgeError": "errors",
}
__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:  # what the names are, for type checkers and editors
    from .bot import Bot, answer
    from .conversation import Choice, Conversation, Turn
    from .decide import Thresholds
    from .errors import ChatbotError, InputError, KnowledgeError
    from .models import ANSWERED, CLARIFY, DECLINED, Answer, Candidate, Intent, KnowledgeBase, Source


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value  # found at once from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})

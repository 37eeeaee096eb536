"""A Japanese FAQ chatbot: ``Bot().answer("裏ももがつる")``."""

__version__ = "0.1.0"

from .bot import Bot, answer
from .decide import Thresholds
from .errors import ChatbotError, InputError, KnowledgeError
from .models import ANSWERED, CLARIFY, DECLINED, Answer, Candidate, Intent, KnowledgeBase, Source

__all__ = [
    "__version__",
    "Bot",
    "answer",
    "Answer",
    "Candidate",
    "Intent",
    "KnowledgeBase",
    "Source",
    "Thresholds",
    "ANSWERED",
    "CLARIFY",
    "DECLINED",
    "ChatbotError",
    "InputError",
    "KnowledgeError",
]

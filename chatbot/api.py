"""The web API's requests and records, apart from any HTTP library. Pure functions.

``answer_request(body)`` and ``batch_request(body, …)`` read a JSON request body into checked
values or raise :class:`RequestError` with the HTTP status it deserves (422: wrong shape or type;
413: too long) and a message that says what to send instead. ``record(answer, top_k)`` is the
JSON record of ``chatbot ask --json``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .bot import KEPT_CANDIDATES, MAX_QUESTION_CHARS
from .errors import ChatbotError
from .models import Answer

DEFAULT_TOP_K = 3
MAX_SESSION_CHARS = 128
_SESSION = re.compile(r"[A-Za-z0-9._~-]+")


class RequestError(ChatbotError):
    """A request the API cannot use; ``status`` is its HTTP status (422 or 413)."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class AnswerRequest:
    question: str
    top_k: int = DEFAULT_TOP_K
    session: str | None = None


@dataclass(frozen=True)
class BatchRequest:
    questions: tuple[str, ...]
    top_k: int = DEFAULT_TOP_K


def _object(body: bytes, fields: set[str], example: str) -> dict:
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, ValueError) as e:
        raise RequestError(422, f"the body is not JSON ({e}); send an object such as {example}") from None
    if not isinstance(value, dict):
        raise RequestError(422, f"the body must be a JSON object, not {_kind(value)}; send {example}")
    unknown = sorted(set(value) - fields)
    if unknown:
        raise RequestError(422, f"unknown field {unknown[0]!r}; the fields are {', '.join(sorted(fields))}")
    return value


def _kind(value) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "true/false", type(None): "null",
            int: "a number", float: "a number"}[type(value)]


def _top_k(value: dict) -> int:
    top_k = value.get("top_k", DEFAULT_TOP_K)
    if type(top_k) is not int or not 1 <= top_k <= KEPT_CANDIDATES:
        raise RequestError(422, f"top_k must be a whole number from 1 to {KEPT_CANDIDATES}")
    return top_k


def _question(value, where: str) -> str:
    if not isinstance(value, str):
        raise RequestError(422, f"{where} must be a string, not {_kind(value)}")
    return value


def answer_request(body: bytes) -> AnswerRequest:
    """``{"question": str, "top_k"?: 1-10, "session"?: str}``. An empty question is 422, one
    longer than the bot reads (1,000 characters) 413."""
    value = _object(body, {"question", "top_k", "session"}, '{"question": "裏ももがつる"}')
    if "question" not in value:
        raise RequestError(422, 'the field "question" is missing; send {"question": "裏ももがつる"}')
    question = _question(value["question"], '"question"')
    if not question.strip():
        raise RequestError(422, '"question" is empty; ask something, e.g. {"question": "裏ももがつる"}')
    if len(question) > MAX_QUESTION_CHARS:
        raise RequestError(413, f'"question" is {len(question)} characters; the bot reads at most {MAX_QUESTION_CHARS}')
    session = value.get("session")
    if session is not None and (not isinstance(session, str) or len(session) > MAX_SESSION_CHARS
                                or not _SESSION.fullmatch(session)):
        raise RequestError(422, f'"session" must be 1-{MAX_SESSION_CHARS} characters of A-Z a-z 0-9 . _ ~ -'
                                " (an id the client makes up and keeps, such as a UUID)")
    return AnswerRequest(question, _top_k(value), session)


def batch_request(body: bytes, max_questions: int) -> BatchRequest:
    """``{"questions": [str, …], "top_k"?: 1-10}`` with at most ``max_questions`` (else 413).
    A question that cannot be asked (empty, too long) still gets its record, declined with a reason."""
    value = _object(body, {"questions", "top_k"}, '{"questions": ["裏ももがつる", "前にストレッチは必要?"]}')
    questions = value.get("questions")
    if not isinstance(questions, list):
        got = "missing" if "questions" not in value else _kind(questions)
        raise RequestError(422, f'"questions" must be an array of strings, not {got}')
    if len(questions) > max_questions:
        raise RequestError(413, f"{len(questions)} questions; send at most {max_questions} per request")
    return BatchRequest(tuple(_question(q, f'"questions"[{n}]') for n, q in enumerate(questions)), _top_k(value))


def record(answer: Answer, top_k: int = DEFAULT_TOP_K, **extra) -> dict:
    """The record of ``chatbot ask --json`` (``Answer.to_dict``), with ``extra`` fields after it."""
    return {**answer.to_dict(top_k), **extra}

"""``chatbot serve``: the JSON API and the web chat, as an ASGI app (Starlette), served by uvicorn.

- :func:`create_app` (``bot`` -> ASGI app) is all an embedding needs: mount it inside another
  Starlette or FastAPI app, or serve it with any ASGI server.
- :func:`serve` runs it with uvicorn, one or more worker processes, each with its own ``Bot``.

The requests and records themselves are read and made in ``chatbot.api`` (pure); the
conversations kept per session in ``chatbot.sessions``. This module is the HTTP edge.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import api
from .conversation import Conversation
from .errors import ChatbotError
from .models import DECLINED, Answer
from .safe import inert, json_text
from .sessions import DEFAULT_LIMIT, DEFAULT_TTL, Sessions

PAGE = Path(__file__).with_name("webpage")
ACCESS = logging.getLogger("chatbot.access")
ERRORS = logging.getLogger("chatbot.web")
ENVIRONMENT = "CHATBOT_SERVE"  # the options, as JSON, for uvicorn's worker processes

# The page loads nothing from elsewhere and runs no inline script.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class Options:
    """What ``chatbot serve`` can set, apart from where it listens."""

    kb: str | None = None
    max_body: int = 256 * 1024  # bytes of a request body
    max_batch: int = 100  # questions per /v1/batch
    session_ttl: float = DEFAULT_TTL  # seconds a session is kept unused
    max_sessions: int = DEFAULT_LIMIT  # sessions kept per worker process
    log_questions: bool = False  # put the question text in the access log
    cors: tuple[str, ...] = ()  # origins allowed to call the API from a browser
    threshold: float | None = None  # the bot's answer (and clarify) threshold; None: the default
    log_misses: str | None = None  # a file each worker's bot appends declined and clarify answers to


def _json(value, status: int = 200) -> Response:
    return Response(json_text(value), status, media_type="application/json")


def _error(status: int, message: str) -> Response:
    return _json({"error": message, "status": status}, status)


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise api.RequestError(413, f"the body is {int(declared):,} bytes; send at most {limit:,}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise api.RequestError(413, f"the body is over {limit:,} bytes; send at most {limit:,}")
        chunks.append(chunk)
    return b"".join(chunks)


def _turn_record(conversation: Conversation, question: str, top_k: int) -> dict:
    """A session's turn as the record of ``ask --json``, plus ``context``: the topic a
    follow-up was read with (null when the question was read alone)."""
    turn = conversation.ask(question)
    answer = turn.answer
    if answer is None:  # a number with nothing on offer, or out of range: say so, keep the choices
        offered = tuple(c.intent for c in conversation.choices)
        answer = Answer(question, turn.text, DECLINED, None, 0.0, offered=offered)
    return api.record(answer, top_k, context=turn.context)


def create_app(bot, options: Options | None = None, *, sessions: Sessions | None = None) -> Starlette:
    """The ASGI app over ``bot``: the JSON API under /v1, /healthz, and the web chat at /.

    Mount it in an existing app with ``Mount("/faq", app=create_app(bot))`` (Starlette) or
    ``app.mount("/faq", create_app(bot))`` (FastAPI); the page then lives at /faq/."""
    options = options or Options()
    if sessions is None:  # (not ``sessions or``: an empty Sessions is falsy)
        sessions = Sessions(lambda: Conversation(bot), ttl=options.session_ttl, limit=options.max_sessions)
    log_questions = options.log_questions

    async def page(request: Request) -> Response:
        return FileResponse(PAGE / "index.html", headers=PAGE_HEADERS)

    async def healthz(request: Request) -> Response:
        return _json({"status": "ok", "topics": len(bot.kb.intents), "sessions": len(sessions)})

    async def topics(request: Request) -> Response:
        return _json({"topics": [
            {"id": i.id, "title": i.title, "section": i.source.section if i.source else None,
             "reference": i.source.reference if i.source else None}
            for i in bot.kb.intents
        ]})

    async def answer(request: Request) -> Response:
        asked = api.answer_request(await _body(request, options.max_body))
        if log_questions:
            request.state.questions = [asked.question]
        if asked.session is None:
            result = await run_in_threadpool(bot.answer, asked.question, top_k=asked.top_k)
            if result.reason:  # not valid text (a lone surrogate): the request's fault
                raise api.RequestError(422, f'"question" cannot be asked: {result.reason}')
            return _json(api.record(result, asked.top_k))
        conversation = sessions.get(asked.session)
        return _json(await run_in_threadpool(_turn_record, conversation, asked.question, asked.top_k))

    async def batch(request: Request) -> Response:
        asked = api.batch_request(await _body(request, options.max_body), options.max_batch)
        if log_questions:
            request.state.questions = list(asked.questions)

        def answer_all() -> list[dict]:
            return [api.record(bot.answer(q, top_k=asked.top_k), asked.top_k) for q in asked.questions]

        return _json({"records": await run_in_threadpool(answer_all)})

    async def request_error(request: Request, error: api.RequestError) -> Response:
        return _error(error.status, str(error))

    async def http_error(request: Request, error: HTTPException) -> Response:
        return _error(error.status_code, error.detail)

    async def server_error(request: Request, error: Exception) -> Response:
        ERRORS.exception("%s %s failed", request.method, inert(request.url.path, newlines=False))
        return _error(500, "the server failed to answer; its log has the details")

    middleware = [Middleware(AccessLog, log_questions=log_questions)]
    if options.cors:
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(options.cors),
                                     allow_methods=["GET", "POST"], allow_headers=["Content-Type"]))
    return Starlette(
        routes=[
            Route("/", page, methods=["GET"]),
            Mount("/static", app=StaticFiles(directory=PAGE), name="static"),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/v1/topics", topics, methods=["GET"]),
            Route("/v1/answer", answer, methods=["POST"]),
            Route("/v1/batch", batch, methods=["POST"]),
        ],
        middleware=middleware,
        exception_handlers={api.RequestError: request_error, HTTPException: http_error, Exception: server_error},
    )


class AccessLog:
    """One line per request on the ``chatbot.access`` logger: client, method, path (without its
    query), status, time. The question text only with ``log_questions``."""

    def __init__(self, app, log_questions: bool = False):
        self.app, self.log_questions = app, log_questions

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), [500]

        async def sending(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            client = scope.get("client") or ("-", 0)
            line = (f"{client[0]} {scope['method']} {scope['path']} {status[0]} "
                    f"{(time.perf_counter() - started) * 1000:.1f}ms")
            questions = scope.get("state", {}).get("questions") if self.log_questions else None
            if questions:
                line += " " + json_text(questions)
            ACCESS.info("%s", inert(line, newlines=False))


# ---- serving ---------------------------------------------------------------------------------


def app_from_environment() -> Starlette:
    """The app for one uvicorn worker process, with the options ``serve`` put in the environment.
    Each worker loads its own ``Bot`` (about 200 MB resident), once."""
    from .bot import configured

    raw = json.loads(os.environ.get(ENVIRONMENT, "{}"))
    raw["cors"] = tuple(raw.get("cors", ()))
    options = Options(**raw)
    return create_app(configured(options.kb, options.threshold, options.log_misses), options)


def check_listen(host: str, port: int) -> None:
    """Raise ChatbotError, saying what to change, when ``host:port`` cannot be listened on
    (taken, or a host name that does not resolve here), before workers load their bots."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind(address)
    except OSError as e:
        raise ChatbotError(f"{host}:{port}: cannot listen ({e.strerror or e}); give another --host or --port") from None


def serve(options: Options, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          graceful_seconds: float = 30.0, factory: str = "chatbot.web:app_from_environment") -> None:
    """Serve with uvicorn until SIGINT/SIGTERM; then stop accepting, finish the requests in
    flight (up to ``graceful_seconds``) and return. ``factory``: the import path of a function
    that makes the app in each worker process (by default, from ``options``)."""
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    logging_config = {**LOGGING_CONFIG, "loggers": {
        **LOGGING_CONFIG["loggers"],
        "chatbot": {"handlers": ["default"], "level": "INFO", "propagate": False},
    }}
    os.environ[ENVIRONMENT] = json.dumps({**asdict(options), "cors": list(options.cors)})
    uvicorn.run(
        factory, factory=True, host=host, port=port, workers=workers,
        access_log=False,  # uvicorn's would show query strings; AccessLog writes ours
        log_config=logging_config, timeout_graceful_shutdown=graceful_seconds, server_header=False,
    )

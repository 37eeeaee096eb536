"""Conversations kept in memory for the web server, bounded in time and number. No I/O.

A client names its conversation with an opaque ``session`` id that it keeps (the web chat
keeps one per browser tab). :class:`Sessions` maps ids to :class:`~chatbot.conversation.Conversation`
objects: one unused for ``ttl`` seconds is forgotten, and when ``limit`` are held the least
recently used one makes way for a new one. A forgotten session simply starts afresh. Memory is
therefore bounded by ``limit`` conversations, each a few small objects.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable, Generic, TypeVar

T = TypeVar("T")

DEFAULT_TTL = 30 * 60.0
DEFAULT_LIMIT = 10_000


class Sessions(Generic[T]):
    """``get(id)`` -> that session's conversation, made with ``make()`` when new or expired."""

    def __init__(self, make: Callable[[], T], *, ttl: float = DEFAULT_TTL, limit: int = DEFAULT_LIMIT,
                 clock: Callable[[], float] = time.monotonic):
        if ttl <= 0 or limit < 1:
            raise ValueError("sessions need a ttl above 0 seconds and a limit of 1 or more")
        self.make, self.ttl, self.limit, self.clock = make, ttl, limit, clock
        self._held: OrderedDict[str, tuple[float, T]] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()

    def get(self, key: str) -> T:
        with self._lock:
            now = self.clock()
            self._expire(now)
            held = self._held.pop(key, None)
            value = held[1] if held else self.make()
            while len(self._held) >= self.limit:
                self._held.popitem(last=False)
            self._held[key] = (now, value)
            return value

    def __len__(self) -> int:
        with self._lock:
            self._expire(self.clock())
            return len(self._held)

    def _expire(self, now: float) -> None:
        while self._held:
            key, (used, _) = next(iter(self._held.items()))
            if now - used < self.ttl:
                break
            del self._held[key]

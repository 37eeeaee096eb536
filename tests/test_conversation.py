"""The conversation API shared by the terminal chat and the server: exported, one lock per
conversation, and ``ask`` for callers whose users must not run commands."""

import threading
import time

import pytest

import chatbot
from chatbot import Answer


@pytest.mark.parametrize("name", ["Conversation", "Turn", "Choice"])
def test_the_conversation_api_is_exported(name):
    assert name in chatbot.__all__
    assert getattr(chatbot, name) is getattr(chatbot.conversation, name)


class SlowBot:
    """A bot whose answer takes a while and counts how many calls run at once."""

    def __init__(self, real):
        self.kb, self.analyzer, self.thresholds = real.kb, real.analyzer, real.thresholds
        self._real = real
        self._guard = threading.Lock()
        self.running = self.most = 0

    def answer(self, question, **options) -> Answer:
        with self._guard:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.05)
        with self._guard:
            self.running -= 1
        return self._real.answer(question, **options)

    def new_words(self, question):
        return self._real.new_words(question)


@pytest.mark.parametrize("method", ["reply", "ask"])
def test_one_conversation_answers_one_line_at_a_time(bot, method):
    slow = SlowBot(bot)
    conversation = chatbot.Conversation(slow)
    threads = [threading.Thread(target=getattr(conversation, method), args=("裏ももがつる",)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert slow.most == 1


def test_two_conversations_do_not_wait_for_each_other(bot):
    slow = SlowBot(bot)
    threads = [threading.Thread(target=chatbot.Conversation(slow).ask, args=("裏ももがつる",)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert slow.most > 1


@pytest.mark.parametrize("line", ["/reload", "/quit", "/reset", "/topics", "/why", "/help"])
def test_ask_never_runs_a_command(bot, line):
    turn = chatbot.Conversation(bot).ask(line)
    assert turn.kind == "answer"
    assert turn.answer.question == line


def test_ask_picks_a_choice_by_number_like_reply(bot):
    from tests.clarifying_app import ASKED_BACK

    conversation = chatbot.Conversation(chatbot.Bot(bot.kb, thresholds=ASKED_BACK))
    first = conversation.ask("やり方")
    assert first.answer.status == "clarify"
    picked = conversation.ask("2")
    assert picked.answer.status == "answered"
    assert picked.answer.intent == first.answer.offered[1]


@pytest.mark.parametrize("line", ["", "   "])
def test_ask_a_blank_line_is_none(bot, line):
    assert chatbot.Conversation(bot).ask(line) is None

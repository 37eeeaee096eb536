"""The web app over the bundled knowledge, with a bot that answers only when 95% sure and
otherwise asks back which of two topics was meant: the browser tests need a question that
is asked back, whatever the knowledge's latest edit made of any one question."""

from chatbot import Bot, Thresholds

ASKED_BACK = Thresholds(answer=0.95, clarify=0.0)


def app():
    from chatbot import web  # the server extra: only the server process imports it

    return web.create_app(Bot(thresholds=ASKED_BACK))

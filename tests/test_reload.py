"""Bot.reload(): the new knowledge is built aside and swapped in whole."""

import threading

import pytest

from chatbot import Bot, ChatbotError, KnowledgeError
from chatbot.knowledge import parse_table

QUESTION = "燃えるゴミは何曜日に出せますか"
OLD = ("garbage", "月曜と木曜です", "ゴミの日(旧)")
NEW = ("burnable", "火曜と金曜です", "ゴミの日(新)")


def table(intent, answer, title):
    return (f"id,question,answer,title\n{intent},{QUESTION},{answer},{title}\n"
            "pension,年金の手続きはどこでしますか,市役所の窓口です,年金\n")


def seen(answer):
    return (answer.intent, answer.text, answer.title)


def test_reload_under_eight_threads_answers_each_question_from_exactly_one_knowledge_base(tmp_path):
    faq = tmp_path / "faq.csv"
    faq.write_text(table(*OLD), encoding="utf-8")
    bot = Bot.from_path(faq)
    results, failures, stop = [], [], threading.Event()

    def ask():
        try:
            while not stop.is_set():
                results.append(seen(bot.answer(QUESTION)))
        except Exception as e:  # noqa: BLE001 - any failure is what the test looks for
            failures.append(e)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    try:
        for n in range(12):
            faq.write_text(table(*(NEW if n % 2 == 0 else OLD)), encoding="utf-8")
            bot.reload()
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not failures
    assert set(results) == {OLD, NEW}  # both knowledge bases answered, and nothing mixed of the two
    assert seen(bot.answer(QUESTION)) == OLD  # the last reload's


def test_a_broken_file_keeps_the_old_knowledge_and_says_where(tmp_path):
    faq = tmp_path / "faq.csv"
    faq.write_text(table(*OLD), encoding="utf-8")
    bot = Bot.from_path(faq)
    faq.write_text(table(*NEW).replace("pension,", "pension,年金,"), encoding="utf-8")  # an unquoted comma
    with pytest.raises(KnowledgeError) as info:
        bot.reload()
    assert str(info.value).startswith(f"{faq}:3: 5 fields where the header has 4")
    assert seen(bot.answer(QUESTION)) == OLD


def test_reload_from_another_path_and_a_bot_built_in_memory(tmp_path):
    other = tmp_path / "other.csv"
    other.write_text(table(*NEW), encoding="utf-8")
    bot = Bot(parse_table(table(*OLD), "faq.csv"))
    with pytest.raises(ChatbotError, match="give reload\\(\\) the path"):
        bot.reload()
    assert seen(bot.answer(QUESTION)) == OLD
    assert [i.id for i in bot.reload(other).intents] == ["burnable", "pension"]
    assert seen(bot.answer(QUESTION)) == NEW and bot.path == other

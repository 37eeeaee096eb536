"""A large knowledge base's spaces kept as numpy arrays (the large extra) answer exactly as the
dict-based ones: the same scores, the same order, through the cache and ``chatbot check`` too."""

from pathlib import Path

import pytest

from chatbot import Bot, arrays, cache
from chatbot.check import leave_one_out
from chatbot.evaluate import parse_labels
from chatbot.space import Space

ROOT = Path(__file__).resolve().parent.parent
FAQ = ROOT / "examples" / "faq.csv"
QUESTIONS = [q for path in sorted((ROOT / "tests" / "data").glob("*.tsv"))
             for _, q in parse_labels(path.read_text(encoding="utf-8"), str(path))]

needs_numpy = pytest.mark.skipif(not arrays.available(), reason="numpy (the large extra) is not installed")


def ranked(bot, question):
    answer = bot.answer(question, top_k=5)
    return answer.status, answer.intent, [(c.intent, c.score) for c in answer.candidates], answer.confidence


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setenv("CHATBOT_CACHE", "0")


@needs_numpy
def test_arrays_answer_every_question_as_dicts_do(fresh, monkeypatch):
    dicts = Bot()
    monkeypatch.setattr(arrays, "ARRAYS_FROM", 0)  # every space as arrays, however small
    kept = Bot()
    assert isinstance(kept.index.words, arrays.ArraySpace) and type(dicts.index.words) is Space
    assert len(QUESTIONS) > 300
    for question in QUESTIONS:
        assert ranked(kept, question) == ranked(dicts, question), question


@needs_numpy
def test_a_table_with_as_many_examples_as_arrays_from_is_kept_as_arrays_and_cached_so(tmp_path, monkeypatch):
    monkeypatch.setenv("CHATBOT_CACHE_DIR", str(tmp_path))
    examples = len(Bot(FAQ).index.examples)  # (this first build is kept in dicts and cached)
    monkeypatch.setattr(arrays, "ARRAYS_FROM", examples)
    monkeypatch.setattr(cache, "_stamp", lambda path: f"{path.name}:arrays")  # a fresh entry
    built = Bot(FAQ)
    assert isinstance(built.index.readings, arrays.ArraySpace)
    loaded = Bot(FAQ)  # from the entry the build wrote: the arrays came back from plain bytes
    assert isinstance(loaded.index.readings, arrays.ArraySpace) and loaded.index is not built.index
    for question in ("燃えるゴミの日はいつ?", "図書館は何時まで", "粗大ごみの出し方", "パスポート"):
        assert ranked(loaded, question) == ranked(built, question)


def test_without_numpy_every_space_is_kept_in_dicts(fresh, monkeypatch):
    monkeypatch.setattr(arrays, "ARRAYS_FROM", 0)
    monkeypatch.setattr(arrays, "available", lambda: False)
    bot = Bot(FAQ)
    assert all(type(s) is Space for s in (bot.index.words, bot.index.readings, bot.index.topics))
    assert bot.answer("燃えるゴミの日はいつ?").status == "answered"


def test_installing_numpy_changes_the_cache_key(monkeypatch):
    files = [(FAQ, FAQ.read_bytes())]
    monkeypatch.setattr(arrays, "available", lambda: False)
    without = cache.key(files)
    monkeypatch.setattr(arrays, "available", lambda: True)
    assert cache.key(files) != without


def left_out(bot):
    return [(d, [(s.intent, s.score) for s in ranked]) for d, ranked in leave_one_out(bot)]


@needs_numpy
def test_check_leaves_an_example_out_of_arrays_as_out_of_dicts(fresh, monkeypatch):
    dicts = left_out(Bot(FAQ))
    monkeypatch.setattr(arrays, "ARRAYS_FROM", 0)
    assert left_out(Bot(FAQ)) == dicts and len(dicts) >= 10

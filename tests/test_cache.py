import pytest

from chatbot import Bot, cache

from .test_knowledge import make_kb as _make_kb


def make_kb(folder, **files):
    folder.mkdir()
    return _make_kb(folder, **files)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("CHATBOT_CACHE_DIR", str(folder))
    return folder


def test_second_load_comes_from_the_cache(tmp_path, cache_dir, monkeypatch):
    kb = make_kb(tmp_path / "kb")
    first = Bot.from_path(kb)
    assert len(list(cache_dir.glob("*.pickle"))) == 1
    monkeypatch.setattr("chatbot.knowledge.load", lambda path: pytest.fail("parsed again"))
    second = Bot.from_path(kb)
    assert second.answer("裏ももがつった").intent == first.answer("裏ももがつった").intent == "cramp"


def test_editing_a_file_invalidates_the_entry(tmp_path, cache_dir):
    kb = make_kb(tmp_path / "kb")
    assert Bot.from_path(kb).answer("こんにちは").intent == "greeting"
    answers = (kb / "knowledge" / "a.yaml").read_text(encoding="utf-8").replace("answer: こんにちは。", "answer: やあ。")
    (kb / "knowledge" / "a.yaml").write_text(answers, encoding="utf-8")
    assert Bot.from_path(kb).answer("こんにちは").text == "やあ。"
    assert len(list(cache_dir.glob("*.pickle"))) == 2


def test_weights_are_part_of_the_key(tmp_path, cache_dir):
    from chatbot.index import Weights

    kb = make_kb(tmp_path / "kb")
    Bot.from_path(kb)
    Bot.from_path(kb, weights=Weights(topic=0.0))
    assert len(list(cache_dir.glob("*.pickle"))) == 2


def test_cache_can_be_turned_off(tmp_path, cache_dir, monkeypatch):
    monkeypatch.setenv("CHATBOT_CACHE", "0")
    Bot.from_path(make_kb(tmp_path / "kb"))
    assert not cache_dir.exists()


def test_corrupt_entry_is_rebuilt(tmp_path, cache_dir):
    kb = make_kb(tmp_path / "kb")
    Bot.from_path(kb)
    (entry,) = cache_dir.glob("*.pickle")
    entry.write_bytes(b"not a pickle")
    assert Bot.from_path(kb).answer("裏ももがつる").intent == "cramp"
    assert entry.read_bytes() != b"not a pickle"


def test_cache_folder_that_cannot_be_made_is_passed_over(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("CHATBOT_CACHE_DIR", str(blocker / "cache"))  # a folder inside a file
    assert Bot.from_path(make_kb(tmp_path / "kb")).answer("裏ももがつる").intent == "cramp"


def test_broken_knowledge_is_still_reported(tmp_path, cache_dir):
    from chatbot import KnowledgeError

    kb = make_kb(tmp_path / "kb", intents="intents: [\n")
    with pytest.raises(KnowledgeError):
        Bot.from_path(kb)
    with pytest.raises(KnowledgeError):
        Bot.from_path(tmp_path / "missing")
    assert cache.directory() == cache_dir


def test_a_changed_module_changes_the_key(tmp_path, monkeypatch):
    kb = make_kb(tmp_path / "kb")
    files = [kb / "intents.yaml"]
    before = cache.key(files)
    monkeypatch.setattr(cache, "_stamp", lambda path: f"{path.name}:edited")
    assert cache.key(files) != before


def test_an_entry_is_only_used_for_its_own_files(tmp_path, cache_dir, monkeypatch):
    # entries are named by a checksum: two knowledge bases whose checksums collide must not mix
    monkeypatch.setattr(cache, "_checksum", lambda data: "same")
    first = make_kb(tmp_path / "first")
    second = make_kb(tmp_path / "second")
    answers = (second / "knowledge" / "a.yaml").read_text(encoding="utf-8").replace("answer: こんにちは。", "answer: やあ。")
    (second / "knowledge" / "a.yaml").write_text(answers, encoding="utf-8")
    assert Bot.from_path(first).answer("こんにちは").text == "こんにちは。"
    assert Bot.from_path(second).answer("こんにちは").text == "やあ。"
    assert Bot.from_path(first).answer("こんにちは").text == "こんにちは。"
    assert [p.name for p in cache_dir.glob("*.pickle")] == ["same.pickle"]

import os
import stat
import time

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
    assert len(list(cache_dir.glob("*.entry"))) == 1
    monkeypatch.setattr("chatbot.knowledge.load", lambda *args: pytest.fail("parsed again"))
    second = Bot.from_path(kb)
    assert second.answer("裏ももがつった").intent == first.answer("裏ももがつった").intent == "cramp"


def test_editing_a_file_invalidates_the_entry(tmp_path, cache_dir):
    kb = make_kb(tmp_path / "kb")
    assert Bot.from_path(kb).answer("こんにちは").intent == "greeting"
    answers = (kb / "knowledge" / "a.yaml").read_text(encoding="utf-8").replace("answer: こんにちは。", "answer: やあ。")
    (kb / "knowledge" / "a.yaml").write_text(answers, encoding="utf-8")
    assert Bot.from_path(kb).answer("こんにちは").text == "やあ。"
    assert len(list(cache_dir.glob("*.entry"))) == 2


def test_weights_are_part_of_the_key(tmp_path, cache_dir):
    from chatbot.index import Weights

    kb = make_kb(tmp_path / "kb")
    Bot.from_path(kb)
    Bot.from_path(kb, weights=Weights(topic=0.0))
    assert len(list(cache_dir.glob("*.entry"))) == 2


def test_cache_can_be_turned_off(tmp_path, cache_dir, monkeypatch):
    monkeypatch.setenv("CHATBOT_CACHE", "0")
    Bot.from_path(make_kb(tmp_path / "kb"))
    assert not cache_dir.exists()


def test_corrupt_entry_is_rebuilt(tmp_path, cache_dir):
    kb = make_kb(tmp_path / "kb")
    Bot.from_path(kb)
    (entry,) = cache_dir.glob("*.entry")
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
    with pytest.raises(KnowledgeError) as broken:
        Bot.from_path(kb)
    assert (broken.value.path, broken.value.line) == (str(kb / "intents.yaml"), 2)
    with pytest.raises(KnowledgeError) as missing:
        Bot.from_path(tmp_path / "missing")
    assert missing.value.path == str(tmp_path / "missing")
    assert not cache_dir.exists() or not list(cache_dir.iterdir())  # nothing kept for either


def test_a_changed_module_changes_the_key(tmp_path, monkeypatch):
    kb = make_kb(tmp_path / "kb")
    files = [(kb / "intents.yaml", b"same")]
    before = cache.key(files)
    monkeypatch.setattr(cache, "_stamp", lambda path: f"{path.name}:edited")
    assert cache.key(files) != before


def test_a_changed_code_module_alone_changes_the_key(tmp_path, monkeypatch):
    kb = make_kb(tmp_path / "kb")
    files = [(kb / "intents.yaml", b"same")]
    before = cache.key(files)
    stamp = cache._stamp
    monkeypatch.setattr(cache, "_stamp", lambda path: stamp(path) + ("edited" if path.name == "index.py" else ""))
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
    assert [p.name for p in cache_dir.glob("*.entry")] == ["same.entry"]


# --- what is read from the cache is data, never code (issue 9, item 1) ---

ORIGINAL, ALTERED = "ゆっくり".encode(), "すばやく".encode()  # same length: the payload stays well-formed


def entry_of(cache_dir):
    (entry,) = [p for p in cache_dir.iterdir() if not p.name.endswith(".tmp")]
    return entry


def forge(entry, digest=True):
    """Swap a word in the entry's answer, as another user could; ``digest``: and seal it again."""
    data = entry.read_bytes()
    head = len(cache.MAGIC) + 2 * cache.DIGEST
    assert ORIGINAL in data[head:]
    payload = data[head:].replace(ORIGINAL, ALTERED)
    seal = cache._digest(payload) if digest else data[head - cache.DIGEST : head]
    entry.write_bytes(data[: head - cache.DIGEST] + seal + payload)


def cramp_answer(kb):
    return Bot.from_path(kb).answer("裏ももがつる").text


def test_an_altered_entry_is_rebuilt(tmp_path, cache_dir):
    kb = make_kb(tmp_path / "kb")
    assert "ゆっくり" in cramp_answer(kb)
    forge(entry_of(cache_dir), digest=False)
    assert "ゆっくり" in cramp_answer(kb)
    assert ORIGINAL in entry_of(cache_dir).read_bytes()  # written anew


def test_a_sealed_altered_entry_is_served_only_when_it_is_ours(tmp_path, cache_dir):
    # the control for the tests below: a forged entry with a good digest, ours, 0600, is trusted
    kb = make_kb(tmp_path / "kb")
    cramp_answer(kb)
    forge(entry_of(cache_dir))
    assert "すばやく" in cramp_answer(kb)


def test_a_planted_pickle_never_runs(tmp_path, cache_dir):
    import pickle

    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    kb = make_kb(tmp_path / "kb")
    cramp_answer(kb)
    for entry in cache_dir.iterdir():
        entry.write_bytes(pickle.dumps(Payload()) + pickle.dumps(Payload()))
    assert "ゆっくり" in cramp_answer(kb)
    assert not marker.exists()


@pytest.mark.parametrize("mode", [0o666, 0o620, 0o602])
def test_an_entry_others_can_write_is_not_read(tmp_path, cache_dir, mode):
    kb = make_kb(tmp_path / "kb")
    cramp_answer(kb)
    entry = entry_of(cache_dir)
    forge(entry)
    entry.chmod(mode)
    assert "ゆっくり" in cramp_answer(kb)


def test_a_symlinked_entry_is_not_followed(tmp_path, cache_dir):
    kb = make_kb(tmp_path / "kb")
    cramp_answer(kb)
    entry = entry_of(cache_dir)
    forge(entry)
    planted = tmp_path / "planted"
    entry.rename(planted)
    entry.symlink_to(planted)
    assert "ゆっくり" in cramp_answer(kb)


needs_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
OTHER_UID = 65534  # nobody


@needs_root
def test_an_entry_of_another_user_is_not_read(tmp_path, cache_dir):
    kb = make_kb(tmp_path / "kb")
    cramp_answer(kb)
    entry = entry_of(cache_dir)
    forge(entry)
    os.chown(entry, OTHER_UID, OTHER_UID)
    entry.chmod(0o644)
    assert "ゆっくり" in cramp_answer(kb)


@needs_root
@pytest.mark.parametrize("mode", [0o777, 0o755])
def test_a_folder_of_another_user_is_neither_read_nor_written(tmp_path, cache_dir, mode):
    kb = make_kb(tmp_path / "kb")
    cramp_answer(kb)
    entry = entry_of(cache_dir)
    forge(entry)
    for path in (entry, cache_dir):
        os.chown(path, OTHER_UID, OTHER_UID)
    cache_dir.chmod(mode)
    before = sorted(p.name for p in cache_dir.iterdir())
    assert "ゆっくり" in cramp_answer(kb)
    assert sorted(p.name for p in cache_dir.iterdir()) == before


def test_the_folder_is_made_private(tmp_path, cache_dir):
    cramp_answer(make_kb(tmp_path / "kb"))
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(entry_of(cache_dir).stat().st_mode) == 0o600


def test_our_own_folder_open_to_others_is_closed_first(tmp_path, cache_dir):
    kb = make_kb(tmp_path / "kb")
    cramp_answer(kb)
    cache_dir.chmod(0o777)
    assert "ゆっくり" in cramp_answer(kb)
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700


def test_a_class_from_outside_the_package_is_refused():
    from chatbot import plaindata

    planted = plaindata.encode(("x",))[:1] + ((),)  # a well-formed start...
    assert plaindata.decode(planted) == ()
    for module, name in [("os", "system"), ("builtins", "eval"), ("chatbot", "os"), ("chatbot.cache", "os.system")]:
        node = (plaindata._OBJECT, module, name, 0, (plaindata._PLAIN, {}))
        with pytest.raises(plaindata.Unstorable):
            plaindata.decode(node)


def test_the_bundled_index_survives_the_round_trip(bot):
    from chatbot import plaindata
    from chatbot.bot import Bot as _Bot, _Compiled

    kb, analyzer, index = plaindata.loads(plaindata.dumps((bot.kb, bot.analyzer, bot.index)))
    assert index.kb is kb and index.analyzer is analyzer
    copy = object.__new__(_Bot)
    copy.thresholds, copy.miss_log, copy._now = bot.thresholds, None, _Compiled(kb, analyzer, index, bot.model)
    for question in ["裏ももがつる", "すとれっちはひつよう", "RDLってなに?", "腹筋を割りたい"]:
        assert copy.answer(question) == bot.answer(question)


# --- the key and the build come from the same bytes (item 8) ---


def test_an_edit_between_reading_and_parsing_is_not_cached_under_the_old_key(tmp_path, cache_dir, monkeypatch):
    from chatbot import knowledge

    kb = make_kb(tmp_path / "kb")
    answers = kb / "knowledge" / "a.yaml"
    original = answers.read_text(encoding="utf-8")
    load = knowledge.load

    def edited_meanwhile(*args, **kwargs):
        answers.write_text(original.replace("ゆっくり", "すばやく"), encoding="utf-8")
        return load(*args, **kwargs)

    monkeypatch.setattr(knowledge, "load", edited_meanwhile)
    first = cramp_answer(kb)
    monkeypatch.setattr(knowledge, "load", load)
    answers.write_text(original, encoding="utf-8")  # the edit undone
    assert "ゆっくり" in first
    assert "ゆっくり" in cramp_answer(kb)


# --- hygiene (item 13) ---


def test_a_failed_write_leaves_no_temporary_file(tmp_path, cache_dir, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    assert "ゆっくり" in cramp_answer(make_kb(tmp_path / "kb"))
    assert list(cache_dir.iterdir()) == []


def test_only_the_newest_entries_are_kept(tmp_path, cache_dir, monkeypatch):
    monkeypatch.setattr(cache, "KEEP", 2)
    kb = make_kb(tmp_path / "kb")
    answers = kb / "knowledge" / "a.yaml"
    original = answers.read_text(encoding="utf-8")
    names = []
    for n in range(4):
        answers.write_text(original.replace("こんにちは。", f"こんにちは{n}。"), encoding="utf-8")
        Bot.from_path(kb)
        names.append(cache.key(knowledge_sources(kb), repr(None)) + cache.SUFFIX)
    assert sorted(p.name for p in cache_dir.iterdir()) == sorted(names[-2:])


def test_a_temporary_file_left_by_a_dead_process_is_removed(tmp_path, cache_dir):
    cache_dir.mkdir(mode=0o700)
    stale, fresh = cache_dir / "x.entry.1.tmp", cache_dir / "y.entry.2.tmp"
    for path in (stale, fresh):
        path.write_bytes(b"partial")
    old = time.time() - 2 * cache.STALE_TEMP_SECONDS
    os.utime(stale, (old, old))
    cramp_answer(make_kb(tmp_path / "kb"))
    assert not stale.exists() and fresh.exists()


def knowledge_sources(kb):
    from chatbot import knowledge

    return knowledge.read_sources(kb)


# --- the entry does not pin the folder that built it (item 16) ---


def test_the_same_table_in_two_folders_keeps_its_own_origin(tmp_path, cache_dir):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "faq.csv").write_text("question,answer\n燃えるゴミの日は,月曜です\n", encoding="utf-8")
    assert Bot.from_path(tmp_path / "a" / "faq.csv").kb.origin == str(tmp_path / "a" / "faq.csv")
    b = Bot.from_path(tmp_path / "b" / "faq.csv")
    assert len(list(cache_dir.iterdir())) == 1  # one entry serves both
    assert b.kb.origin == str(tmp_path / "b" / "faq.csv")
    assert b.index.kb.origin == b.kb.origin


def test_naming_a_module_imports_nothing(monkeypatch):
    import sys

    from chatbot import plaindata

    monkeypatch.delitem(sys.modules, "chatbot.__main__", raising=False)
    node = (plaindata._OBJECT, "chatbot.__main__", "Anything", 0, (plaindata._PLAIN, {}))
    with pytest.raises(plaindata.Unstorable):
        plaindata.decode(node)
    assert "chatbot.__main__" not in sys.modules


def test_a_value_that_is_not_plain_data_is_used_but_not_kept(tmp_path, cache_dir):
    value = [object()]
    assert cache.cached([(tmp_path / "x.csv", b"x")], "", lambda: value) is value
    assert not cache_dir.exists() or list(cache_dir.iterdir()) == []

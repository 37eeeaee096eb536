"""Knowledge files that are broken on purpose or by accident: each is refused with
``file:line: what is wrong`` (exit status 2 from the CLI), never a traceback or a hang."""

import os
import time
from pathlib import Path

import pytest

from chatbot import ChatbotError, KnowledgeError, cli, knowledge

from .test_knowledge import ANSWERS, INTENTS

DATA = Path(__file__).resolve().parent / "data" / "hostile"
SUDACHI_LIMIT = 49_149  # bytes Sudachi tokenizes at once
LONG = "長" * (SUDACHI_LIMIT // 3 + 10)


def kb_with_answers(folder: Path, answers: str) -> Path:
    (folder / "intents.yaml").write_text(INTENTS, encoding="utf-8")
    (folder / "knowledge").mkdir()
    (folder / "knowledge" / "a.yaml").write_text(answers, encoding="utf-8")
    return folder


def table(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# (what, make(tmp_path) → the --kb path, the file the error names, its line, words in the message)
CASES = [
    (
        "a 5000-digit number in YAML",
        lambda tmp: kb_with_answers(tmp, ANSWERS + "- id: x\n  title: t\n  answer: " + "1" * 5000 + "\n"),
        "a.yaml", 11, "number",
    ),
    (
        "a 5000-digit number in JSONL",
        lambda tmp: table(tmp, "faq.jsonl", '{"question": "q", "answer": "a"}\n{"question": "q", "answer": "a", "id": ' + "1" * 5000 + "}\n"),
        "faq.jsonl", 2, "number",
    ),
    (
        "JSONL nested 5000 deep",
        lambda tmp: table(tmp, "faq.jsonl", '{"question": "q", "answer": "a", "x": ' + "[" * 5000 + "]" * 5000 + "}\n"),
        "faq.jsonl", 1, "nested",
    ),
    (
        "a CSV field over the csv module's limit",
        lambda tmp: table(tmp, "faq.csv", 'question,answer\nq,a\nq2,"' + "あ" * 200_000 + '"\n'),
        "faq.csv", 3, "field",
    ),
    (
        "an answer over Sudachi's input limit",
        lambda tmp: kb_with_answers(tmp, ANSWERS.replace("answer: こんにちは。", "answer: " + LONG)),
        "a.yaml", 8, "too long",
    ),
    (
        "an example over Sudachi's input limit",
        lambda tmp: kb_with_answers(tmp, ANSWERS) and table(tmp, "intents.yaml", INTENTS.replace("[こんにちは]", "[" + LONG + "]")),
        "intents.yaml", 10, "too long",
    ),
    (
        "a FAQ table's answer over Sudachi's input limit",
        lambda tmp: table(tmp, "faq.csv", "question,answer\nq,a\nq2," + LONG + "\n"),
        "faq.csv", 3, "too long",
    ),
    (
        "a FAQ entry with no answer in any row",
        lambda tmp: table(tmp, "faq.csv", "id,question,answer\n1,q,a\n2,q2,\n"),
        "faq.csv", 3, "entry '2' has no 'answer'",
    ),
    (
        "NUL in YAML",
        lambda tmp: kb_with_answers(tmp, ANSWERS.replace("title: あいさつ", "title: あい\x00さつ")),
        "a.yaml", 7, "character",
    ),
    (
        "a knowledge file that is a symlink to /dev/zero",
        lambda tmp: kb_with_answers(tmp, ANSWERS) and (tmp / "knowledge" / "z.yaml").symlink_to("/dev/zero") or tmp,
        "z.yaml", None, "not a regular file",
    ),
    (
        "a knowledge file that is a FIFO",
        lambda tmp: kb_with_answers(tmp, ANSWERS) and os.mkfifo(tmp / "knowledge" / "z.yaml") or tmp,
        "z.yaml", None, "not a regular file",
    ),
    (
        "a knowledge file that is a folder",
        lambda tmp: kb_with_answers(tmp, ANSWERS) and (tmp / "knowledge" / "z.yaml").mkdir() or tmp,
        "z.yaml", None, "not a regular file",
    ),
]


@pytest.mark.parametrize("what, make, file, line, words", CASES, ids=[case[0] for case in CASES])
def test_load_refuses_with_file_and_line(tmp_path, what, make, file, line, words):
    path = make(tmp_path)
    with pytest.raises(KnowledgeError) as info:
        knowledge.load(path)
    error = info.value
    assert Path(error.path).name == file and error.line == line, str(error)
    assert words in error.message


@pytest.mark.parametrize("what, make, file, line, words", CASES, ids=[case[0] for case in CASES])
def test_the_cli_exits_2_naming_the_file(tmp_path, capsys, what, make, file, line, words):
    path = make(tmp_path)
    code = cli.main(["ask", "--kb", str(path), "こんにちは"], out=open(os.devnull, "w"))
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert f"{file}:{line}: " in err if line else f"{file}: " in err


def test_a_file_over_the_size_cap_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(knowledge, "MAX_FILE_BYTES", 1000)
    path = table(tmp_path, "faq.csv", "question,answer\n" + "q,a\n" * 300)
    with pytest.raises(KnowledgeError) as info:
        knowledge.load(path)
    assert info.value.path == str(path) and "larger than" in info.value.message


def test_the_size_cap_leaves_room_for_a_large_faq():
    assert knowledge.MAX_FILE_BYTES >= 32 * 2**20


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085"])
def test_jsonl_is_split_on_newlines_only(separator):
    text = f'{{"question": "q{separator}1", "answer": "a{separator}b"}}\n{{"question": "q2", "answer": "c"}}\n'
    kb = knowledge.parse_table(text, "faq.jsonl")
    assert [i.answer for i in kb.intents] == [f"a{separator}b", "c"]


def test_an_answer_at_the_limit_still_loads(tmp_path):
    path = table(tmp_path, "faq.csv", "question,answer\nq," + "長" * (knowledge.MAX_TEXT_BYTES // 3) + "\n")
    assert len(knowledge.load(path).intents[0].answer) == knowledge.MAX_TEXT_BYTES // 3


def test_the_text_limit_leaves_room_for_normalization():
    # romaji turns one byte (a) into three (あ): what is accepted must stay under Sudachi's limit
    assert knowledge.MAX_TEXT_BYTES * 3 < SUDACHI_LIMIT


def test_knowledge_errors_are_chatbot_errors():
    assert issubclass(KnowledgeError, ChatbotError)


def test_the_merge_key_bomb_is_quick():
    from chatbot import yamlfile

    text = (DATA / "merge-bomb.yaml").read_text(encoding="utf-8")
    assert len(text.encode()) == 604
    started = time.perf_counter()
    try:
        doc = yamlfile.loads(text, "merge-bomb.yaml")
    except KnowledgeError:
        pass
    else:
        assert doc["a9"] == {"k": "v"}
    assert time.perf_counter() - started < 1.0


def test_pyyaml_is_pinned_to_a_version_that_resists_the_bomb():
    import re

    project = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    (low,) = re.findall(r'"PyYAML>=([\d.]+)', project)
    assert tuple(int(p) for p in low.split(".")) >= (6, 0, 4)


@pytest.fixture
def pure_python_yaml(monkeypatch):
    import yaml

    from chatbot import yamlfile

    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    yamlfile._loader_class.cache_clear()
    yield
    yamlfile._loader_class.cache_clear()


@pytest.mark.parametrize("c_loader", [True, False], ids=["libyaml", "pure Python"])
def test_a_bad_character_names_its_line_with_either_loader(request, c_loader):
    from chatbot import yamlfile

    if not c_loader:
        request.getfixturevalue("pure_python_yaml")
    text = ANSWERS.replace("title: あいさつ", "title: あい\x00さつ")
    with pytest.raises(KnowledgeError) as info:
        yamlfile.loads(text, "a.yaml")
    assert info.value.line == 7 and "U+0000" in info.value.message


import pytest

from chatbot import KnowledgeError
from chatbot.models import InKind, Source
from chatbot.knowledge import load, parse_answers, parse_intents, parse_table

INTENTS = """\
version: 1
synonyms:
  裏もも: [もも裏, うらもも]
intents:
  - id: cramp
    examples:
      - 裏ももがつる
      - 足がつった
  - id: greeting
    examples: [こんにちは]
"""

ANSWERS = """\
- id: cramp
  title: 裏ももがつる
  section: "5. よくある質問"
  reference: https://example.com/ref
  answer: 水分をとってゆっくり伸ばしましょう。
- id: greeting
  title: あいさつ
  answer: こんにちは。
"""


def make_kb(tmp_path, intents=INTENTS, answers=ANSWERS):
    (tmp_path / "intents.yaml").write_text(intents, encoding="utf-8")
    (tmp_path / "knowledge").mkdir(exist_ok=True)
    (tmp_path / "knowledge" / "a.yaml").write_text(answers, encoding="utf-8")
    return tmp_path


def test_load_directory(tmp_path):
    kb = load(make_kb(tmp_path))
    assert [i.id for i in kb.intents] == ["cramp", "greeting"]
    cramp = kb.intent("cramp")
    assert cramp.examples == ("裏ももがつる", "足がつった")
    assert cramp.source.section == "5. よくある質問"
    assert kb.intent("greeting").source is None
    assert kb.synonyms == {"裏もも": ("もも裏", "うらもも")}


def test_load_intents_file_finds_knowledge_beside_it(tmp_path):
    kb = load(make_kb(tmp_path) / "intents.yaml")
    assert len(kb.intents) == 2


def error_of(call):
    with pytest.raises(KnowledgeError) as info:
        call()
    return info.value


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("intents:\n  - id: a\n    examples: [x\n", 4, "not valid YAML"),
        ("intents:\n  - id: a\n    exmaples: [x]\n", 3, "unknown key 'exmaples'"),
        ("intents:\n  - id: a\n    examples: []\n", 2, "'examples' must be a non-empty list"),
        ("intents:\n  - id: a\n    examples: [x]\n  - id: a\n    examples: [y]\n", 4, "defined twice (first at line 2)"),
        ("intents:\n  - examples: [x]\n", 2, "'id' must be non-empty text"),
        ("intents:\n  - id: a\n    examples:\n      - x\n      - ''\n", 5, "each example must be non-empty text"),
        ("intents:\n  - id: a\n    id: b\n    examples: [x]\n", 3, "duplicate key 'id'"),
        ("- just a list\n", 1, "expected a mapping with an 'intents:' list"),
        ("synonyms: [a]\nintents: []\n", 1, "'synonyms' must map"),
        ("# v2\nversion: 2\nintents: []\n", 2, "unknown version 2 (this chatbot reads version 1)"),
        ("version: '1'\nintents: []\n", 1, "unknown version '1'"),
        ("version: true\nintents: []\n", 1, "unknown version True"),
    ],
)
def test_parse_intents_errors_name_the_line(text, line, words):
    error = error_of(lambda: parse_intents(text, "intents.yaml"))
    assert error.path == "intents.yaml"
    assert error.line == line
    assert words in error.message
    assert str(error).startswith(f"intents.yaml:{line}: ")


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("- id: a\n  title: t\n", 1, "'answer' must be non-empty text"),
        ("- id: a\n  title: t\n  answer: x\n  section: s\n  reference: ''\n", 5, "'reference' must be non-empty text"),
        ("- id: a\n  title: t\n  answer: x\n  reference: https://example.com/\n", 1, "'section' must be non-empty text"),
        ("- id: a\n  title: t\n  answer: x\n  colour: red\n", 4, "unknown key 'colour'"),
        ("id: a\n", 1, "expected a list of answers"),
        ("- id: a\n  title: t\n  answer: x\n  in_kind:\n    - words: [おはよう]\n", 5, "'answer' must be non-empty text"),
        ("- id: a\n  title: t\n  answer: x\n  in_kind:\n    - answer: y\n", 5, "'words' must be a list of non-empty text"),
        ("- id: a\n  title: t\n  answer: x\n  in_kind: おはよう\n", 4, "'in_kind' must be a list"),
    ],
)
def test_parse_answers_errors_name_the_line(text, line, words):
    error = error_of(lambda: parse_answers(text, "k.yaml"))
    assert (error.line, words in error.message) == (line, True)


def test_intent_without_answer(tmp_path):
    intents = INTENTS + "  - id: thanks\n    examples: [ありがとう]\n"
    error = error_of(lambda: load(make_kb(tmp_path, intents=intents)))
    assert error.path.endswith("intents.yaml") and error.line == 11
    assert "intent 'thanks' has no answer" in error.message


def test_answer_without_intent(tmp_path):
    answers = ANSWERS + "- id: orphan\n  title: t\n  answer: x\n"
    error = error_of(lambda: load(make_kb(tmp_path, answers=answers)))
    assert error.path.endswith("a.yaml") and error.line == 9
    assert "answer 'orphan' has no intent" in error.message


def test_answer_defined_twice_across_files(tmp_path):
    make_kb(tmp_path)
    (tmp_path / "knowledge" / "b.yaml").write_text("- id: cramp\n  title: t\n  answer: x\n", encoding="utf-8")
    error = error_of(lambda: load(tmp_path))
    assert error.path.endswith("b.yaml") and "defined twice" in error.message


def test_invalid_utf8_names_the_line(tmp_path):
    make_kb(tmp_path)
    (tmp_path / "intents.yaml").write_bytes(INTENTS.encode() + b"  - id: x\n    examples: [\xff\xfe]\n")
    error = error_of(lambda: load(tmp_path))
    assert error.line == 12 and "not valid UTF-8" in error.message


def test_missing_files(tmp_path):
    assert "no such file" in error_of(lambda: load(tmp_path)).message
    (tmp_path / "intents.yaml").write_text(INTENTS, encoding="utf-8")
    assert "knowledge" in error_of(lambda: load(tmp_path)).message


@pytest.mark.parametrize(
    "name, text",
    [
        ("faq.csv", "id,question,answer\nbin,ゴミの出し方は,月曜です\nbin,ゴミはいつ出す,\n,年金の手続き,窓口へ\n"),
        ("faq.tsv", "id\tquestion\tanswer\nbin\tゴミの出し方は\t月曜です\nbin\tゴミはいつ出す\t\n\t年金の手続き\t窓口へ\n"),
        (
            "faq.jsonl",
            '{"id": "bin", "question": "ゴミの出し方は", "answer": "月曜です"}\n'
            '{"id": "bin", "question": "ゴミはいつ出す"}\n'
            '{"question": "年金の手続き", "answer": "窓口へ"}\n',
        ),
    ],
)
def test_faq_tables(name, text):
    kb = parse_table(text, name)
    assert [i.id for i in kb.intents] == ["bin", "3"]
    assert kb.intent("bin").examples == ("ゴミの出し方は", "ゴミはいつ出す")
    assert kb.intent("bin").answer == "月曜です"


@pytest.mark.parametrize(
    "name, text, words",
    [
        ("faq.csv", "q,a\nx,y\n", "must name a question and an answer column (it has 'q', 'a')"),
        ("faq.csv", "q,a\nx,y\n", "question: question, 質問, 問い"),  # the accepted names, in the message
        ("faq.csv", "q,a\nx,y\n", "answer: answer, 回答, 答え"),
        ("faq.csv", "question,質問,answer\nx,y,z\n", "two columns name the question ('question', '質問')"),
        ("faq.jsonl", '{"question": "x", "answer": "y"}\nnot json\n', "not valid JSON"),
        ("faq.csv", "question,answer\nx,\n", "has no 'answer'"),
        ("faq.csv", "question,answer\n", "no rows"),
    ],
)
def test_faq_table_errors(name, text, words):
    assert words in error_of(lambda: parse_table(text, name)).message


@pytest.mark.parametrize(
    "name, text, line, words",
    [
        # an unquoted comma used to cut the answer silently at 月曜
        ("faq.csv", "id,question,answer\nbin,ゴミの日,月曜\nsize,粗大ごみ,予約制です,手数料は300円\n", 3,
         "4 fields where the header has 3: quote a field that holds a comma"),
        ("faq.csv", "id,question,answer\nbin,ゴミの日,月曜\nsize,粗大ごみ\n", 3, "2 fields where the header has 3"),
        ("faq.tsv", "question\tanswer\nゴミの日\t月曜\t木曜\n", 2, "3 fields where the header has 2: quote a field that holds a tab"),
        ("faq.csv", 'question,answer\n"ゴミ\nの日",月曜\nx,y,z\n', 4, "3 fields where the header has 2"),
    ],
)
def test_faq_table_row_whose_field_count_is_not_the_headers(name, text, line, words):
    error = error_of(lambda: parse_table(text, name))
    assert (error.path, error.line) == (name, line)
    assert words in error.message


@pytest.mark.parametrize(
    "name, text",
    [
        ("faq.csv", "ID,Question,Answer\nbin,ゴミの出し方は,月曜です\n"),  # as Excel users write it
        ("faq.csv", "QUESTION,ANSWER,Id\nゴミの出し方は,月曜です,bin\n"),
        ("faq.csv", "番号,質問,回答\nbin,ゴミの出し方は,月曜です\n"),
        ("faq.csv", "番号,問い,答え\nbin,ゴミの出し方は,月曜です\n"),
        ("faq.tsv", "ＩＤ\t 質問 \t回答\nbin\tゴミの出し方は\t月曜です\n"),  # full width, spaces around
        ("faq.jsonl", '{"番号": "bin", "質問": "ゴミの出し方は", "回答": "月曜です"}\n'),
    ],
)
def test_faq_table_headers_in_any_case_and_in_japanese(name, text):
    kb = parse_table(text, name)
    assert [(i.id, i.examples, i.answer) for i in kb.intents] == [("bin", ("ゴミの出し方は",), "月曜です")]


FAQ_CP932 = "番号,質問,回答\nbin,燃えるゴミは何曜日ですか,月曜と木曜です\n"


@pytest.mark.parametrize("encoding", ["cp932", "shift_jis"])
def test_faq_table_saved_as_shift_jis_by_excel_is_read(tmp_path, encoding):
    path = tmp_path / "faq.csv"
    path.write_bytes(FAQ_CP932.encode(encoding))
    kb = load(path)
    assert kb.intent("bin").examples == ("燃えるゴミは何曜日ですか",) and kb.intent("bin").answer == "月曜と木曜です"


@pytest.mark.parametrize("data", [b"question,answer\nx,caf\xe9 au lait\n", b"question,answer\nx,\xff\xfe\n"])
def test_a_table_neither_utf8_nor_shift_jis_is_refused(tmp_path, data):
    path = tmp_path / "faq.csv"
    path.write_bytes(data)
    assert "not valid UTF-8" in error_of(lambda: load(path)).message


@pytest.mark.parametrize(
    "lines, source",
    [
        ('  section: "3. s"\n  reference: https://example.com/r\n', Source("3. s", "https://example.com/r")),
        ('  section: "3. s"\n', Source("3. s")),  # the article cites nothing for it: the section alone
        ("", None),
    ],
)
def test_parse_answers_reads_the_source(lines, source):
    [(_, _, _, parsed, _, _)] = parse_answers("- id: a\n  title: t\n  answer: x\n" + lines, "k.yaml")
    assert parsed == source


def test_parse_answers_reads_replies_in_kind():
    text = "- id: g\n  title: t\n  answer: こんにちは\n  in_kind:\n    - words: [おはよう, ohayo]\n      answer: おはようございます\n"
    [(_, _, body, _, in_kind, _)] = parse_answers(text, "k.yaml")
    assert (body, in_kind) == ("こんにちは", (InKind(("おはよう", "ohayo"), "おはようございます"),))

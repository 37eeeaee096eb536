"""chatbot check: errors with file and line, warnings, output; the contract's two copies agree."""

import io
import json
from pathlib import Path

import pytest

from chatbot import check, cli, knowledge
from chatbot.check import CONTRACT, parse_contract

from .conftest import ROOT, SHARED, needs_shared

INTENTS = """\
version: 1
intents:
  - id: garbage
    examples: [燃えるゴミの日はいつ, 粗大ごみの出し方]
  - id: pension
    examples: [年金の手続き, 年金はいつからもらえる]
"""
ANSWERS = """\
- id: garbage
  title: ゴミの出し方
  answer: 月曜と木曜です。
- id: pension
  title: 年金
  answer: 市役所の窓口でどうぞ。
"""


def make(tmp_path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def found(report_or_findings):
    findings = getattr(report_or_findings, "findings", report_or_findings)
    return {(f.level, f.kind, Path(f.path).name, f.line) for f in findings}


def yaml_kb(intents=INTENTS, answers=ANSWERS, **more):
    return {"intents.yaml": intents, "knowledge/a.yaml": answers, **more}


# One small broken knowledge base per error: the kind, the file and the line.
@pytest.mark.parametrize(
    "files, expected",
    [
        (yaml_kb(INTENTS.replace("    examples: [年金の手続き", "    exmaples: [年金の手続き")),
         {("schema", "intents.yaml", 6)}),
        (yaml_kb(answers=ANSWERS + "- id: [broken\n"), {("schema", "a.yaml", 8)}),
        (yaml_kb(INTENTS.replace("version: 1", "version: 3")), {("version", "intents.yaml", 1)}),
        (yaml_kb(INTENTS + "  - id: tax\n    examples: [住民税]\n  - id: dog\n    examples: [犬の登録]\n"),
         {("no_answer", "intents.yaml", 7), ("no_answer", "intents.yaml", 9)}),
        (yaml_kb(answers=ANSWERS, **{"knowledge/b.yaml": "- id: tax\n  title: 税\n  answer: 税務課です。\n"}),
         {("no_intent", "b.yaml", 1)}),
        (yaml_kb(INTENTS + "  - id: garbage\n    examples: [ゴミ]\n"), {("duplicate_id", "intents.yaml", 7)}),
        (yaml_kb(answers=ANSWERS, **{"knowledge/b.yaml": "# again\n- id: pension\n  title: 年金2\n  answer: 窓口です。\n"}),
         {("duplicate_id", "b.yaml", 2)}),
        (yaml_kb(answers=ANSWERS.replace("answer: 月曜と木曜です。", "answer: ''")), {("empty_answer", "a.yaml", 3)}),
        (yaml_kb(answers=ANSWERS.replace("answer: 市役所の窓口でどうぞ。", "answer:")), {("empty_answer", "a.yaml", 6)}),
        ({"faq.csv": "id,question,answer\nbin,ゴミの日,月曜\nsize,粗大ごみ,予約制です,手数料は300円\nx,y,z\nw,v\n"},
         {("field_count", "faq.csv", 3), ("field_count", "faq.csv", 5)}),
    ],
)
def test_each_error_names_its_file_and_line(tmp_path, files, expected):
    kb = make(tmp_path, files)
    path = kb / "faq.csv" if "faq.csv" in files else kb
    findings = check.errors(knowledge.read_sources(path))
    assert {(kind, name, line) for _, kind, name, line in found(findings)} == expected
    assert all(f.level == "error" for f in findings)


def test_a_missing_contract_id_is_named_at_its_line_in_the_contract(tmp_path):
    kb = make(tmp_path, yaml_kb(**{"topics.md": "# topics\n| id | what |\n|---|---|\n| garbage | ゴミ |\n| tax | 税 |\n"}))
    contract = parse_contract((kb / "topics.md").read_text(encoding="utf-8"), str(kb / "topics.md"))
    assert contract.ids == (("garbage", 4), ("tax", 5))
    findings = check.errors(knowledge.read_sources(kb), contract)
    assert found(findings) == {("error", "contract", "topics.md", 5)}
    assert "intent 'tax' of the contract is missing" in findings[0].message


# Leave-one-out on a crafted knowledge base: a pension question filed under garbage.
GARBAGE = ["燃えるゴミの日はいつ", "燃えるゴミは何曜日", "ゴミの収集日を知りたい", "粗大ごみの出し方",
           "粗大ごみの申し込み", "資源ゴミの分け方", "ペットボトルは何ゴミ", "ゴミ袋はどこで買える",
           "年金の受け取り口座を変えたい"]
PENSION = ["年金の手続きはどこ", "年金はいつからもらえる", "年金の受け取り口座の変更", "年金の請求に必要なもの",
           "国民年金の保険料", "年金の免除を申請したい", "年金手帳をなくした", "年金の振込日"]


def crafted(garbage=GARBAGE, pension=PENSION, synonyms=""):
    lines = ["version: 1", synonyms, "intents:", "  - id: garbage", "    examples:"]
    lines += [f"      - {e}" for e in garbage] + ["  - id: pension", "    examples:"] + [f"      - {e}" for e in pension]
    return yaml_kb("\n".join(line for line in lines if line) + "\n")


def warnings_of(tmp_path, files):
    report = check.check(make(tmp_path, files))
    assert not report.errors
    return report


def test_leave_one_out_finds_the_example_filed_under_the_wrong_intent(tmp_path):
    report = warnings_of(tmp_path, crafted())
    loo = [f for f in report.warnings if f.kind == "leave_one_out"]
    # 年金の受け取り口座を変えたい goes to pension; and pension's 年金の受け取り口座の変更 to garbage, by it
    assert [(Path(f.path).name, f.line) for f in loo] == [("intents.yaml", 13), ("intents.yaml", 18)]
    assert "「年金の受け取り口座を変えたい」 of 'garbage', asked without itself: answered as 'pension'" in loo[0].message
    assert "by 「年金の受け取り口座を変えたい」" in loo[1].message


def test_leave_one_out_reuses_the_index_and_leaves_out_only_that_example(bot):
    from chatbot.check import leave_one_out

    examples = bot.index.examples
    for asked, (d, ranked) in enumerate(leave_one_out(bot), start=1):
        if examples.count(examples[d]) == 1:  # a text listed twice still finds its twin
            assert examples[d] not in {s.example for s in ranked}
        if asked == 40:
            break
    assert bot.index.words.similarities({"w:攣る": 1.0})  # the index itself is untouched


@pytest.mark.parametrize(
    "files, kind, line, words",
    [
        (crafted(GARBAGE[:-1] + ["年金の手続きはどこ!"]), "same_example", 16, "「年金の手続きはどこ」 of 'pension' is 「年金の手続きはどこ!」 of 'garbage' (line 13)"),
        (crafted(GARBAGE[:-1] + ["年金の手続きはどこで"]), "near_duplicate", 16, "「年金の手続きはどこ」 of 'pension' is nearly 「年金の手続きはどこで」 of 'garbage' (line 13, 95% alike)"),
        (crafted(), "few_examples", 3, "intent 'garbage' has 9 examples"),
        (crafted(synonyms="synonyms:\n  攣る: [つる]"), None, None, None),  # no example holds つる
        (crafted(GARBAGE[:-1] + ["ゴミ袋がつるつるで縛れない"], synonyms="synonyms:\n  攣る: [つる]"),
         "synonym_inside", 15, "「つる」 (of 攣る) is not a word of its own in 「ゴミ袋がつるつるで縛れない」"),
    ],
)
def test_warnings_on_crafted_knowledge(tmp_path, files, kind, line, words):
    report = warnings_of(tmp_path, files)
    if kind is None:
        assert not [f for f in report.warnings if f.kind == "synonym_inside"]
        return
    hits = [f for f in report.warnings if f.kind == kind and f.line == line]
    assert hits and words in hits[0].message, [str(f) for f in report.warnings]


def test_a_content_answer_without_a_source_is_a_warning_and_small_talk_is_not(tmp_path):
    answers = ANSWERS.replace("  answer: 月曜と木曜です。", "  section: 1. ごみ\n  answer: 月曜と木曜です。")
    report = warnings_of(tmp_path, yaml_kb(answers=answers))
    assert [(f.kind, Path(f.path).name, f.line) for f in report.warnings if f.kind == "no_source"] == [("no_source", "a.yaml", 5)]
    (tmp_path / "knowledge" / "a.yaml").write_text(answers.split("- id: pension")[0], encoding="utf-8")
    (tmp_path / "knowledge" / "conversation.yaml").write_text("- id: pension\n  title: 年金\n  answer: 窓口です。\n", encoding="utf-8")
    assert not [f for f in check.check(tmp_path).warnings if f.kind == "no_source"]


def test_a_faq_table_is_checked_without_the_warnings_that_do_not_fit_it(tmp_path):
    # an entry's only question, left out, would leave nothing of it but its answer: not asked
    faq = make(tmp_path, {"faq.csv": "id,question,answer\nbin,ゴミの日,月曜\npension,ゴミの日の年金,窓口\n"
                                     "tax,住民税の払い方,税務課\ntax,ゴミの日,\n"}) / "faq.csv"
    report = check.check(faq)
    assert not report.errors and report.files == (str(faq),)
    assert [(f.kind, f.line) for f in report.warnings] == [("same_example", 5), ("leave_one_out", 5)]


def run(argv):
    out = io.StringIO()
    return cli.main(argv, out=out), out.getvalue()


def test_cli_exits_1_on_errors_and_0_on_warnings_alone(tmp_path, capsys):
    code, out = run(["check", "--kb", str(make(tmp_path / "ok", crafted()))])
    assert code == 0 and "0 errors" in out and "few_examples 2" in out
    assert f"knowledge files in use:\n  {tmp_path / 'ok' / 'intents.yaml'}\n" in out
    code, out = run(["check", "--kb", str(make(tmp_path / "bad", yaml_kb(INTENTS.replace("version: 1", "version: 9"))))])
    assert code == 1 and f"{tmp_path / 'bad' / 'intents.yaml'}:1: error: unknown version 9" in out
    assert "1 errors (version 1)" in out
    code, _ = run(["check", "--kb", str(tmp_path / "nowhere")])
    assert code == 2 and "no such file" in capsys.readouterr().err


def test_cli_json(tmp_path):
    code, out = run(["check", "--json", "--kb", str(make(tmp_path, crafted()))])
    report = json.loads(out)
    assert code == 0 and report["errors"] == [] and report["counts"]["warnings"]["leave_one_out"] == 2
    assert report["counts"]["warnings"]["few_examples"] == 2 and report["examples"] == 17
    assert {"level", "kind", "path", "line", "message"} == set(report["warnings"][0])


def test_the_bundled_knowledge_has_no_errors():
    code, out = run(["check"])
    assert code == 0 and "\n0 errors\n" in out


def test_which_copy_is_in_use_is_said_for_an_installed_package(tmp_path):
    packaged = Path(knowledge.__file__).resolve().parent / "data"
    (tmp_path / "intents.yaml").write_text(INTENTS, encoding="utf-8")
    notes = check.in_use_notes(packaged, bundled=True, here=tmp_path)
    assert "installed package's own copy" in notes[0] and f"--kb {tmp_path}" in notes[1]
    assert check.in_use_notes(ROOT, bundled=True, here=tmp_path) == ()


CONTRACT_MD = next((p / "shared" / "faq-topics.md" for p in ROOT.parents if (p / "shared" / "faq-topics.md").exists()),
                   SHARED / "faq-topics.md")


@needs_shared(CONTRACT_MD, "shared/faq-topics.md")
def test_the_package_keeps_the_same_contract_as_the_shared_one():
    shared = parse_contract(CONTRACT_MD.read_text(encoding="utf-8"), str(CONTRACT_MD))
    own = parse_contract(CONTRACT.read_text(encoding="utf-8"), str(CONTRACT))
    assert [i for i, _ in own.ids] == [i for i, _ in shared.ids]
    code, out = run(["check", "--contract", str(CONTRACT_MD)])
    assert code == 0

"""The miss log (--log-misses / Bot(log_misses=...)) and its clusters."""

import json
from datetime import datetime, timezone

import pytest
import yaml

from chatbot import Bot, InputError, Thresholds
from chatbot.misses import Miss, MissLog, clusters, format_clusters, read, to_yaml


@pytest.fixture(scope="module")
def logging_bot(bot, tmp_path_factory):
    log = tmp_path_factory.mktemp("misses") / "misses.jsonl"
    return Bot(bot.kb, log_misses=log), log


def logged(log):
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []


@pytest.mark.parametrize(
    "question, status, is_logged",
    [
        ("明日の天気は?", "declined", True),
        ("株価の見通しを教えて", "declined", True),
        ("裏ももがつる", "answered", False),
        ("", "declined", False),  # not a question: nothing to learn from
        ("あ" * 1001, "declined", False),
        ("裏もも\udcff", "declined", False),
    ],
)
def test_declined_questions_are_logged_and_nothing_else(logging_bot, question, status, is_logged):
    bot, log = logging_bot
    before = len(logged(log))
    answer = bot.answer(question)
    assert answer.status == status
    records = logged(log)
    assert len(records) == before + is_logged
    if is_logged:
        record = records[-1]
        assert set(record) == {"time", "question", "status", "confidence", "candidates"}
        assert (record["question"], record["status"]) == (question, "declined")
        assert record["candidates"] == [{"intent": c.intent, "score": round(c.score, 4)} for c in answer.candidates[:3]]
        assert datetime.fromisoformat(record["time"]).tzinfo is not None


def test_clarify_turns_are_logged(bot, tmp_path):
    log = tmp_path / "misses.jsonl"
    unsure = Bot(bot.kb, thresholds=Thresholds(answer=1.01, clarify=0.0), log_misses=log)
    assert unsure.answer("裏もものトレーニング").status == "clarify"
    [record] = logged(log)
    assert record["status"] == "clarify" and len(record["candidates"]) == 3


def test_off_by_default(bot, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert Bot(bot.kb).miss_log is None
    Bot(bot.kb).answer("明日の天気は?")
    assert list(tmp_path.iterdir()) == []


def test_the_log_is_one_json_line_per_miss_whatever_the_question_holds(tmp_path):
    log = MissLog(tmp_path / "m.jsonl")
    from chatbot.models import Answer

    for question in ["改行\u2028のある質問", "端末\x1b]0;x\x07制御", "\u202e逆向き"]:
        assert log.record(Answer(question, "…", "declined", None, 0.0))
    text = (tmp_path / "m.jsonl").read_text(encoding="utf-8")
    assert len(text.split("\n")) == 4 and "\x1b" not in text and "\u202e" not in text and "\u2028" not in text
    assert [m.question for m in read(text)[0]] == ["改行\u2028のある質問", "端末\x1b]0;x\x07制御", "\u202e逆向き"]
    assert (tmp_path / "m.jsonl").stat().st_mode & 0o077 == 0


def miss(question, intent=None, score=0.0):
    return Miss(question, ((intent, score),) if intent else ())


MISSES = [
    miss("腹筋を割りたい", "gym_training", 0.3), miss("腹筋を割りたい!", "gym_training", 0.3),
    miss("腹筋をわりたい", "home_training", 0.2), miss("ﾌｯｷﾝを割りたい", "gym_training", 0.3),
    miss("腹筋を割りたいです", "gym_training", 0.4),
    miss("明日の天気は?"), miss("明日の天気は"),
    miss("肩こりがつらい", "posture_pelvis", 0.2),
]


@pytest.fixture(scope="module")
def reading(bot):
    return lambda question: bot.analyzer.analyze(question).reading


def test_the_same_question_with_small_variations_forms_one_cluster(reading):
    found = clusters(MISSES, reading=reading)
    assert [c.count for c in found] == [5, 2, 1]
    abs_, weather, shoulder = found
    assert {q for q, _ in abs_.questions} == {"腹筋を割りたい", "腹筋を割りたい!", "腹筋をわりたい", "ﾌｯｷﾝを割りたい", "腹筋を割りたいです"}
    assert (abs_.nearest, round(abs_.nearest_score, 2)) == ("gym_training", 0.26)  # (0.3*3 + 0.4) / 5
    assert (weather.nearest, weather.nearest_score) == (None, 0.0)
    assert shoulder.questions == (("肩こりがつらい", 1),) and shoulder.nearest == "posture_pelvis"


def test_the_most_asked_question_comes_first_in_its_cluster():
    found = clusters([miss("明日の天気は"), miss("明日の天気は?"), miss("明日の天気は?")])
    assert found[0].questions == (("明日の天気は?", 2), ("明日の天気は", 1))


def test_read_skips_lines_that_are_not_records_and_refuses_a_file_of_none():
    text = '{"question": "腹筋", "candidates": [{"intent": "x", "score": 0.5}, "junk"]}\nnot json\n[1]\n{"question": 3}\n\n'
    misses, bad = read(text)
    assert misses == [Miss("腹筋", (("x", 0.5),), 1)] and bad == [2, 3, 4]
    with pytest.raises(InputError, match=r"log.jsonl:1: not a miss log"):
        read("question,answer\n", "log.jsonl")


def test_without_readings_only_the_spelling_is_compared():
    assert [c.count for c in clusters(MISSES)] == [4, 2, 1, 1]  # ﾌｯｷﾝ is not 腹筋 by its letters


def test_to_yaml_drafts_examples_that_read_back_as_text(reading):
    hostile = [miss("キー: 値 # コメント", "cramp", 0.5), miss("- !!python/object:os.system", "cramp", 0.5),
               miss("明日の天気は?")]
    draft = to_yaml(clusters(hostile + MISSES, reading=reading))
    intents = yaml.safe_load(draft)
    assert intents[0]["id"] == "new_topic_1" and "腹筋を割りたい" in intents[0]["examples"]
    assert {"キー: 値 # コメント", "- !!python/object:os.system"} <= {q for i in intents for q in i["examples"]}
    assert any(i["id"].startswith("new_topic_") and i["examples"][0].startswith("明日の天気は") for i in intents)
    assert "asked 5 times; nearest existing intent: gym_training (0.26); if they mean it" in draft


def test_format_clusters_for_a_person(reading):
    text = format_clusters(clusters(MISSES, reading=reading), skipped=2)
    assert text.startswith("8 missed questions in 3 clusters, most frequent first:")
    assert "1. 5x  nearest intent: gym_training (0.26)" in text and "(2 unreadable lines skipped)" in text
    assert format_clusters([]) == "no missed questions in the log"


# ---- the command line: --log-misses on chat, ask and batch; chatbot misses ---------------------

import io  # noqa: E402

from chatbot import cli  # noqa: E402


def run(argv, stdin: str | None = None, monkeypatch=None):
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8"))
    return cli.main(argv, out=out), out.getvalue()


@pytest.mark.parametrize(
    "argv, stdin",
    [
        (["ask", "明日の天気は?"], None),
        (["chat", "--no-history"], "明日の天気は?\n裏ももがつる\n"),
        (["batch", "QUESTIONS"], None),
        (["batch", "QUESTIONS", "--jobs", "2"], None),  # two worker processes append to one log
    ],
)
def test_log_misses_on_every_command_that_answers(tmp_path, monkeypatch, argv, stdin):
    questions = tmp_path / "q.txt"
    copies = 200 if "--jobs" in argv else 1  # 600 lines: three chunks, shared by the workers
    questions.write_text("明日の天気は?\n裏ももがつる\n株価の見通しを教えて\n" * copies, encoding="utf-8")
    log = tmp_path / "misses.jsonl"
    argv = [str(questions) if a == "QUESTIONS" else a for a in argv]
    code, _ = run([*argv, "--log-misses", str(log)], stdin, monkeypatch)
    assert code == (cli.DECLINED_STATUS if argv[0] == "ask" else 0)  # ask says 'declined' in its status
    asked = [r["question"] for r in logged(log)]
    assert sorted(asked) == sorted(["明日の天気は?"] if argv[0] != "batch" else ["明日の天気は?", "株価の見通しを教えて"] * copies)


def test_log_misses_to_a_folder_that_does_not_exist_is_unusable_input(tmp_path, capsys):
    code, _ = run(["ask", "明日の天気は?", "--log-misses", str(tmp_path / "no" / "misses.jsonl")])
    assert code == 2
    assert "cannot write the miss log (No such file or directory)" in capsys.readouterr().err


def test_misses_command_prints_clusters_json_and_yaml(tmp_path, capsys):
    log = tmp_path / "misses.jsonl"
    records = [{"question": q, "candidates": [{"intent": "gym_training", "score": 0.3}]}
               for q in ["腹筋を割りたい", "ふっきんを割りたい", "腹筋を割りたい!"]] + [{"question": "明日の天気は?"}]
    log.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\nnot json\n", encoding="utf-8")
    code, out = run(["misses", str(log)])
    assert code == 0 and out.startswith("4 missed questions in 2 clusters") and "1. 3x  nearest intent: gym_training" in out
    assert "1 lines are not miss records (first at line 5); skipped" in capsys.readouterr().err
    code, out = run(["misses", "--json", str(log)])
    assert json.loads(out)["clusters"][0]["count"] == 3
    code, out = run(["misses", "--to-yaml", str(log)])
    assert [i["id"] for i in yaml.safe_load(out)] == ["new_topic_1", "new_topic_2"]


@pytest.mark.parametrize("text, words", [("id,question\n", "1: not a miss log"), (None, "no such file")])
def test_misses_command_on_a_file_that_is_not_a_log_exits_2(tmp_path, capsys, text, words):
    log = tmp_path / "misses.jsonl"
    if text is not None:
        log.write_text(text, encoding="utf-8")
    code, _ = run(["misses", str(log)])
    assert code == 2 and words in capsys.readouterr().err

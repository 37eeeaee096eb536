"""The HTTP API and the page, through Starlette's test client: every endpoint, every error,
sessions and their expiry, the limits, the access log and CORS."""

import json
import logging

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")
from starlette.testclient import TestClient

from chatbot import Bot, Conversation, api, web
from chatbot.sessions import Sessions


@pytest.fixture(scope="module")
def client(bot):
    return TestClient(web.create_app(bot), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def asking_back(bot):
    """A client whose bot asks back which of two topics was meant unless it is 95% sure."""
    from tests.clarifying_app import ASKED_BACK

    return TestClient(web.create_app(Bot(bot.kb, thresholds=ASKED_BACK)), raise_server_exceptions=False)


def post(client, path, value):
    body = value if isinstance(value, (bytes, str)) else json.dumps(value)
    return client.post(path, content=body, headers={"Content-Type": "application/json"})


# ---- the endpoints -------------------------------------------------------------------------


def test_healthz(client, bot):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["topics"] == len(bot.kb.intents)


def test_topics_lists_every_intent_with_its_title_and_source(client, bot):
    topics = client.get("/v1/topics").json()["topics"]
    assert [t["id"] for t in topics] == [i.id for i in bot.kb.intents]
    cramp = next(t for t in topics if t["id"] == "cramp")
    assert cramp["title"] == bot.kb.intent("cramp").title
    assert cramp["section"] == bot.kb.intent("cramp").source.section


@pytest.mark.parametrize("question, top_k", [("裏ももがつる", 3), ("やり方", 2), ("腹筋を割りたい", 5), ("前にストレッチは必要?", 1)])
def test_answer_is_the_record_of_ask_json(client, bot, question, top_k):
    response = post(client, "/v1/answer", {"question": question, "top_k": top_k})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == json.loads(json.dumps(bot.answer(question, top_k=top_k).to_dict(top_k)))
    assert len(response.json()["candidates"]) <= top_k


def test_answer_offers_choices_when_it_asks_back(asking_back, bot):
    record = post(asking_back, "/v1/answer", {"question": "やり方"}).json()
    assert record["status"] == "clarify"
    assert record["offered"] == [c.intent for c in bot.answer("やり方").candidates[:2]]


def test_batch_returns_records_in_order_and_declines_unaskable_ones(client, bot):
    questions = ["裏ももがつる", "", "腹筋を割りたい", "あ" * 1001, "やり方"]
    response = post(client, "/v1/batch", {"questions": questions, "top_k": 2})
    assert response.status_code == 200
    records = response.json()["records"]
    assert [r["question"] for r in records] == questions
    assert [r["status"] for r in records] == [bot.answer(q).status for q in questions]
    assert records[1]["reason"] == "empty question"
    assert "1000" in records[3]["reason"]


def test_the_page_is_served_with_its_assets_and_a_strict_policy(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for asset in ("static/chat.js", "static/chat.css"):
        assert asset in page.text
        assert client.get("/" + asset).status_code == 200
    assert "http" not in page.text.replace('http-equiv', '')  # nothing loaded from elsewhere: works offline


def test_the_page_script_never_writes_html():
    script = (web.PAGE / "chat.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script


# ---- errors: 422 wrong shape or type, 413 too long, JSON always ---------------------------------

ERRORS = [
    ("/v1/answer", b"not json", 422, "not JSON"),
    ("/v1/answer", b"\xff\xfe", 422, "not JSON"),
    ("/v1/answer", [], 422, "JSON object"),
    ("/v1/answer", {}, 422, '"question" is missing'),
    ("/v1/answer", {"question": 3}, 422, "must be a string"),
    ("/v1/answer", {"question": None}, 422, "must be a string"),
    ("/v1/answer", {"question": "  "}, 422, "empty"),
    ("/v1/answer", {"question": "\udcff"}, 422, "undecodable"),
    ("/v1/answer", {"question": "あ", "questoin": "x"}, 422, "unknown field 'questoin'"),
    ("/v1/answer", {"question": "あ", "top_k": 0}, 422, "top_k"),
    ("/v1/answer", {"question": "あ", "top_k": 11}, 422, "top_k"),
    ("/v1/answer", {"question": "あ", "top_k": "3"}, 422, "top_k"),
    ("/v1/answer", {"question": "あ", "top_k": True}, 422, "top_k"),
    ("/v1/answer", {"question": "あ", "session": ""}, 422, "session"),
    ("/v1/answer", {"question": "あ", "session": "a b"}, 422, "session"),
    ("/v1/answer", {"question": "あ", "session": "x" * 129}, 422, "session"),
    ("/v1/answer", {"question": "あ", "session": 7}, 422, "session"),
    ("/v1/answer", {"question": "あ" * 1001}, 413, "at most 1000"),
    ("/v1/batch", {}, 422, "not missing"),
    ("/v1/batch", {"questions": "裏もも"}, 422, "array of strings"),
    ("/v1/batch", {"questions": ["裏もも", 5]}, 422, '"questions"[1] must be a string'),
    ("/v1/batch", {"questions": ["あ"] * 101}, 413, "at most 100"),
    ("/v1/batch", {"questions": ["あ"], "top_k": -1}, 422, "top_k"),
]


@pytest.mark.parametrize("path, body, status, message", ERRORS)
def test_bad_requests_get_a_clear_json_error(client, path, body, status, message):
    response = post(client, path, body)
    assert response.status_code == status
    assert response.json()["status"] == status
    assert message in response.json()["error"]
    assert "Traceback" not in response.text


def test_a_body_over_the_limit_is_413_before_it_is_read(bot):
    client = TestClient(web.create_app(bot, web.Options(max_body=100)))
    response = post(client, "/v1/answer", {"question": "あ" * 50})
    assert response.status_code == 413
    assert "at most 100" in response.json()["error"]

    def chunks():  # no Content-Length: counted as it arrives
        yield b'{"question": "'
        yield "あ".encode() * 100
        yield b'"}'

    response = client.post("/v1/answer", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_the_batch_limit_is_an_option(bot):
    client = TestClient(web.create_app(bot, web.Options(max_batch=2)))
    assert post(client, "/v1/batch", {"questions": ["あ", "い"]}).status_code == 200
    assert post(client, "/v1/batch", {"questions": ["あ", "い", "う"]}).status_code == 413


@pytest.mark.parametrize("method, path, status", [("GET", "/nowhere", 404), ("GET", "/v1/answer", 405),
                                                  ("DELETE", "/v1/topics", 405), ("GET", "/static/../web.py", 404)])
def test_unknown_paths_and_methods_are_json_errors(client, method, path, status):
    response = client.request(method, path)
    assert response.status_code == status
    assert response.json()["status"] == status


class Broken:
    kb = None

    def answer(self, question, **options):
        raise RuntimeError("secret internals")


def test_a_failure_inside_is_a_500_without_a_traceback(bot, caplog):
    client = TestClient(web.create_app(Broken()), raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="chatbot.web"):
        response = post(client, "/v1/answer", {"question": "裏もも"})
    assert response.status_code == 500
    assert response.json()["error"] == "the server failed to answer; its log has the details"
    assert "secret" not in response.text and "Traceback" not in response.text
    assert "secret internals" in caplog.text  # the server's own log has it


# ---- sessions ------------------------------------------------------------------------------------


def test_a_session_picks_a_choice_by_number(asking_back):
    first = post(asking_back, "/v1/answer", {"question": "やり方", "session": "s-pick"}).json()
    assert first["status"] == "clarify"
    picked = post(asking_back, "/v1/answer", {"question": "2", "session": "s-pick"}).json()
    assert picked["status"] == "answered"
    assert picked["intent"] == first["offered"][1]
    assert picked["offered"] == []


def test_without_a_session_a_number_is_just_a_question(client):
    post(client, "/v1/answer", {"question": "明日の天気は?"})  # declined, with topics on offer
    assert post(client, "/v1/answer", {"question": "2"}).json()["status"] != "answered"


def test_a_session_reads_a_follow_up_in_the_topic(client, bot):
    post(client, "/v1/answer", {"question": "ヒップリフトのやり方", "session": "s-follow"})
    record = post(client, "/v1/answer", {"question": "コツは?", "session": "s-follow"}).json()
    assert bot.answer("コツは?").intent != "hip_lift"  # alone, it is not the hip lift's
    assert record["status"] == "answered" and record["intent"] == "hip_lift"
    assert record["context"] == bot.kb.intent("hip_lift").title


def test_sessions_are_apart(client):
    post(client, "/v1/answer", {"question": "明日の天気は?", "session": "s-one"})
    record = post(client, "/v1/answer", {"question": "1", "session": "s-two"}).json()
    assert record["status"] == "declined"
    assert "候補はありません" in record["answer"]


def test_a_number_out_of_range_keeps_the_choices_on_offer(client):
    first = post(client, "/v1/answer", {"question": "明日の天気は?", "session": "s-range"}).json()
    record = post(client, "/v1/answer", {"question": "9", "session": "s-range"}).json()
    assert f"1〜{len(first['offered'])}" in record["answer"]
    assert record["offered"] == first["offered"]


def test_a_session_cannot_run_commands(client):
    record = post(client, "/v1/answer", {"question": "/reload", "session": "s-cmd"}).json()
    assert record["question"] == "/reload"
    assert record["status"] == "declined"


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_session_expires_after_its_time_to_live(bot):
    clock = Clock()
    sessions = Sessions(lambda: Conversation(bot), ttl=60, clock=clock)
    client = TestClient(web.create_app(bot, sessions=sessions))
    post(client, "/v1/answer", {"question": "明日の天気は?", "session": "s"})  # declined: topics on offer
    clock.now = 59
    assert post(client, "/v1/answer", {"question": "1", "session": "s"}).json()["status"] == "answered"
    post(client, "/v1/answer", {"question": "明日の天気は?", "session": "s"})
    clock.now = 59 + 60
    assert post(client, "/v1/answer", {"question": "1", "session": "s"}).json()["status"] == "declined"
    assert client.get("/healthz").json()["sessions"] == 1


# ---- the log and CORS ------------------------------------------------------------------------------


@pytest.mark.parametrize("log_questions", [False, True])
def test_questions_are_in_the_access_log_only_when_asked(bot, caplog, log_questions):
    client = TestClient(web.create_app(bot, web.Options(log_questions=log_questions)))
    with caplog.at_level(logging.INFO, logger="chatbot.access"):
        post(client, "/v1/answer", {"question": "裏ももがつる"})
        post(client, "/v1/batch", {"questions": ["ハムストリングスとは"]})
    lines = [r.getMessage() for r in caplog.records if r.name == "chatbot.access"]
    assert len(lines) == 2
    assert "POST /v1/answer 200" in lines[0]
    assert ("裏ももがつる" in lines[0]) is log_questions
    assert ("ハムストリングスとは" in lines[1]) is log_questions


def test_a_logged_question_cannot_forge_log_lines(bot, caplog):
    client = TestClient(web.create_app(bot, web.Options(log_questions=True)))
    with caplog.at_level(logging.INFO, logger="chatbot.access"):
        post(client, "/v1/answer", {"question": "あ\n127.0.0.1 GET /admin 200\x1b[2J"})
    line = next(r.getMessage() for r in caplog.records if r.name == "chatbot.access")
    assert "\n" not in line and "\x1b" not in line


PREFLIGHT = {"Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "content-type"}


def test_cors_is_off_by_default(client):
    response = client.options("/v1/answer", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in response.headers
    response = post(client, "/v1/answer", {"question": "裏もも"})
    assert "access-control-allow-origin" not in response.headers


def test_cors_allows_only_the_origin_given(bot):
    client = TestClient(web.create_app(bot, web.Options(cors=("https://shop.example",))))
    response = client.options("/v1/answer", headers=PREFLIGHT)
    assert response.headers["access-control-allow-origin"] == "https://shop.example"
    response = client.options("/v1/answer", headers={**PREFLIGHT, "Origin": "https://evil.example"})
    assert response.headers.get("access-control-allow-origin") != "https://evil.example"


# ---- embedding -------------------------------------------------------------------------------------


def test_the_app_mounts_inside_another_starlette_app(bot):
    from starlette.applications import Starlette
    from starlette.routing import Mount

    outer = Starlette(routes=[Mount("/faq", app=web.create_app(bot))])
    client = TestClient(outer)
    assert post(client, "/faq/v1/answer", {"question": "裏ももがつる"}).json()["intent"] == "cramp"
    assert client.get("/faq/").status_code == 200
    assert client.get("/faq/static/chat.js").status_code == 200


def test_api_record_adds_extra_fields_after_the_ask_json_record(bot):
    answer = bot.answer("裏ももがつる")
    assert api.record(answer, 3, context="x") == {**answer.to_dict(3), "context": "x"}


def test_a_worker_built_from_serve_options_logs_misses_and_keeps_the_threshold(tmp_path, monkeypatch):
    log = tmp_path / "misses.jsonl"
    options = web.Options(threshold=0.9, log_misses=str(log))
    monkeypatch.setenv(web.ENVIRONMENT, json.dumps({**web.asdict(options), "cors": []}))
    worker = TestClient(web.app_from_environment(), raise_server_exceptions=False)
    declined = post(worker, "/v1/answer", {"question": "明日の天気は?"}).json()
    assert declined["status"] == "declined"
    assert [json.loads(line)["question"] for line in log.read_text(encoding="utf-8").splitlines()] == ["明日の天気は?"]
    sure_enough = post(worker, "/v1/answer", {"question": "裏ももがつる"}).json()
    assert sure_enough["confidence"] >= 0.9 or sure_enough["status"] != "answered"

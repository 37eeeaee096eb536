"""The web chat in a real browser: Debian's chromium, headless, driven by Playwright (its own
browser download cannot work here, so ``executable_path`` points at the system's). Skipped
when Playwright or Chromium is missing; .ci/run installs both, so CI runs it."""

import os
import shutil
import signal
import sys

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")

from .test_serve import free_port, start, stop, wait_until_up

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="no Chromium installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def server():
    port = free_port()
    serve = f"from chatbot import web; web.serve(web.Options(), port={port}, factory='tests.clarifying_app:app')"
    process = start([sys.executable, "-c", serve])  # the bundled knowledge, asking back under 95% sure
    try:
        wait_until_up(process, port)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        finally:
            stop(process)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, server):
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server)
    yield page
    context.close()
    assert errors == []


def ask(page, question):
    before = page.locator(".msg.bot").count()
    page.fill("#question", question)
    page.keyboard.press("Enter")
    page.locator(".msg.bot").nth(before).wait_for()
    return page.locator(".msg.bot").nth(before)


def test_a_question_shows_the_answer_and_its_source(page):
    reply = ask(page, "裏ももがつる")
    assert reply.locator(".title").inner_text() == "裏ももがつるとき"
    assert "裏ももがつる原因" in reply.locator(".text").inner_text()
    assert "出典: 5. よくある質問" in reply.locator(".source").inner_text()
    link = reply.locator(".source a")
    assert link.get_attribute("href").startswith("https://www.mediaid-online.jp/")
    reply.locator("summary").click()  # the why disclosure
    assert "候補 1" in reply.locator("details").inner_text()


def test_a_clarify_choice_is_clicked_and_answered(page):
    reply = ask(page, "やり方")
    buttons = reply.locator(".choices button")
    assert buttons.count() == 2
    title = buttons.nth(1).inner_text().split(". ", 1)[1]
    buttons.nth(1).click()
    answered = page.locator(".msg.bot").nth(1)
    answered.wait_for()
    assert answered.locator(".title").inner_text() == title


def test_choices_work_by_keyboard_alone(page):
    ask(page, "やり方")
    page.keyboard.press("Tab")  # from the question box to the first choice
    for _ in range(10):
        if page.evaluate("document.activeElement.closest('.choices') !== null"):
            break
        page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.closest('.choices') !== null")
    page.keyboard.press("Enter")
    page.locator(".msg.bot").nth(1).wait_for()
    assert page.locator(".msg.bot").nth(1).locator(".title").count() == 1


@pytest.mark.parametrize("question", ['<script>window.pwned=1</script>', '<img src=x onerror="window.pwned=1">'])
def test_markup_typed_as_a_question_is_shown_as_text(page, question):
    reply = ask(page, question)
    assert page.locator(".msg.mine").last.inner_text() == question
    assert reply.locator(".text").inner_text()
    assert page.evaluate("window.pwned") is None
    assert page.locator(".log script, .log img").count() == 0


def test_a_phone_width_screen_does_not_scroll_sideways(browser, server):
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    page.goto(server)
    ask(page, "ハムストリングスのストレッチのやり方")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()


HOSTILE_INTENTS = """version: 1
intents:
  - id: trap
    examples:
      - 罠について教えて
      - 罠とは何ですか
  - id: other
    examples:
      - 天気について教えて
"""

HOSTILE_ANSWERS = """- id: trap
  title: '<img src=x onerror="window.pwned=1">罠'
  section: '<b onmouseover="window.pwned=1">章</b>'
  reference: 'javascript:window.pwned=1'
  answer: '<script>window.pwned=1</script>罠の答え'
- id: other
  title: 天気
  answer: 晴れ
"""


def test_knowledge_text_is_shown_as_text_and_a_javascript_reference_is_no_link(browser, tmp_path):
    (tmp_path / "intents.yaml").write_text(HOSTILE_INTENTS, encoding="utf-8")
    (tmp_path / "knowledge").mkdir()
    (tmp_path / "knowledge" / "trap.yaml").write_text(HOSTILE_ANSWERS, encoding="utf-8")
    port = free_port()
    process = start([sys.executable, "-m", "chatbot", "serve", "--port", str(port), "--kb", str(tmp_path)])
    try:
        wait_until_up(process, port)
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}/")
        reply = ask(page, "罠について教えて")
        assert reply.locator(".title").inner_text() == '<img src=x onerror="window.pwned=1">罠'
        assert reply.locator(".text").inner_text() == "<script>window.pwned=1</script>罠の答え"
        assert "javascript:window.pwned=1" in reply.locator(".source").inner_text()
        assert reply.locator(".source a").count() == 0
        assert page.locator(".log img, .log script, .log b").count() == 0
        assert page.evaluate("window.pwned") is None
        page.close()
    finally:
        stop(process)

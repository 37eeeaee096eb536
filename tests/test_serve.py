"""``chatbot serve`` as a real process on 127.0.0.1: it answers, stops gracefully (finishing the
requests in flight), refuses a broken knowledge base before starting, and says how to install
the server extra when it is missing."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from chatbot import cli

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, path, value=None, timeout=30):
    data = None if value is None else json.dumps(value).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, json.loads(response.read())


def wait_until_up(process, port, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}: {process.stderr.read().decode()}")
        try:
            return call(port, "/healthz", timeout=2)
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    raise AssertionError("the server did not come up")


def start(argv, **options):
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **options)


def stop(process):
    if process.poll() is None:
        process.kill()
        process.wait(10)


def test_serve_without_the_server_extra_says_how_to_install_it(monkeypatch, capsys):
    import chatbot

    monkeypatch.delitem(sys.modules, "chatbot.web", raising=False)
    monkeypatch.delattr(chatbot, "web", raising=False)  # else `from . import web` finds it there
    for name in [n for n in sys.modules if n == "starlette" or n.startswith("starlette.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "starlette", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # never a real server here, whatever happens
    assert cli.main(["serve"]) == 2
    error = capsys.readouterr().err
    assert "pip install 'chatbot[server]'" in error
    assert "Traceback" not in error


@pytest.mark.parametrize("argv, message", [
    (["serve", "--kb", "no/such/dir"], "no/such/dir"),
    (["serve", "--port", "70000"], "port from 0 to 65535"),
    (["serve", "--workers", "0"], "1 or more"),
])
def test_serve_refuses_bad_options_before_starting(argv, message):
    pytest.importorskip("uvicorn")
    done = subprocess.run([sys.executable, "-m", "chatbot", *argv], capture_output=True, timeout=60)
    assert done.returncode == 2
    assert message in done.stderr.decode()
    assert "Traceback" not in done.stderr.decode()


@pytest.mark.parametrize("host", ["127.0.0.1", "no-such-host.invalid"])
def test_serve_says_when_it_cannot_listen(host):
    pytest.importorskip("uvicorn")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "chatbot", "serve", "--host", host, "--port", str(port)],
                              capture_output=True, timeout=60)
    assert done.returncode == 2
    error = done.stderr.decode()
    assert f"{host}:{port}: cannot listen" in error and "--host or --port" in error
    assert "Traceback" not in error


def test_serve_with_two_workers_answers_and_stops_on_sigterm():
    pytest.importorskip("uvicorn")
    pytest.importorskip("starlette")
    port = free_port()
    process = start([sys.executable, "-m", "chatbot", "serve", "--port", str(port), "--workers", "2"])
    try:
        status, health = wait_until_up(process, port)
        assert (status, health["status"]) == (200, "ok")
        status, record = call(port, "/v1/answer", {"question": "裏ももがつる"})
        assert (status, record["intent"]) == (200, "cramp")
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) in (0, -signal.SIGTERM)
    finally:
        stop(process)
    log = process.stderr.read().decode()
    assert "POST /v1/answer 200" in log  # the access log...
    assert "裏ももがつる" not in log  # ...without the question


class SlowBot:
    """Answers after a pause, so that a request is in flight when the server is told to stop."""

    def __init__(self, bot, pause):
        self.kb, self.pause, self._bot = bot.kb, pause, bot

    def answer(self, question, **options):
        time.sleep(self.pause)
        return self._bot.answer(question, **options)


def slow_app():
    """The app of the graceful-shutdown test (uvicorn imports it by name in the server process)."""
    from chatbot import web
    from chatbot.bot import default_bot

    return web.create_app(SlowBot(default_bot(), float(os.environ["SLOW_SECONDS"])))


def test_sigterm_finishes_the_request_in_flight_then_stops():
    pytest.importorskip("uvicorn")
    pytest.importorskip("starlette")
    port = free_port()
    code = f"from chatbot import web; web.serve(web.Options(), port={port}, factory='tests.test_serve:slow_app')"
    process = start([sys.executable, "-c", code], env={**os.environ, "SLOW_SECONDS": "2"})
    try:
        wait_until_up(process, port)
        result = {}
        asking = threading.Thread(target=lambda: result.update(r=call(port, "/v1/answer", {"question": "裏ももがつる"})))
        asking.start()
        time.sleep(0.7)  # the request is in the bot now
        process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
            call(port, "/healthz", timeout=2)  # no new requests once stopping
        asking.join(30)
        assert result["r"][0] == 200 and result["r"][1]["intent"] == "cramp"
        assert process.wait(30) in (0, -signal.SIGTERM)  # uvicorn ends by re-raising the signal it caught
    finally:
        stop(process)

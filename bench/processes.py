"""What the bench scripts share about processes: the tree under a process, a figure of one
process's memory as /proc tells it, and ``chatbot serve`` started on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def tree(root: int) -> list[int]:
    """The process and its descendants."""
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    stack.extend(int(child) for child in f.read().split())
        except OSError:
            pass
    return found


def status_kb(pid: int, field: str) -> int:
    """A kB figure of /proc/PID/status (VmRSS, VmHWM); 0 once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


@contextlib.contextmanager
def serving(args: list[str], *, tries: int, stop_wait: float, **popen) -> Iterator[tuple[subprocess.Popen, int]]:
    """``chatbot serve ARGS`` on a free port of 127.0.0.1, polled for /healthz ``tries`` times
    (0.2 s apart): (the process, its port). Stopped with SIGTERM, killed after ``stop_wait`` s."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "chatbot", "serve", "--host", HOST, "--port", str(port), *args]
    server = subprocess.Popen(command, cwd=ROOT, **popen)
    try:
        for _ in range(tries):
            try:
                urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=1)
                break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit(f"the server exited with {server.returncode}")
                time.sleep(0.2)
        yield server, port
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(stop_wait)
        except subprocess.TimeoutExpired:
            server.kill()

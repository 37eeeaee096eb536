"""bench/loadtest.py, briefly: it starts the server on 127.0.0.1, drives it, reports and stops it.
(CI runs the full 50 clients x 30 s against two workers from .ci/run.)"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_load_test_reports_its_figures_and_no_errors():
    pytest.importorskip("uvicorn")
    pytest.importorskip("starlette")
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "loadtest.py"), "--clients", "4", "--seconds", "1",
                           "--workers", "1", "--json"], capture_output=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    result = json.loads(done.stdout)
    assert result["errors"] == 0 and result["requests"] > 0
    assert result["p50_ms"] <= result["p99_ms"]
    assert result["peak_rss_mb"] > 50  # a bot was loaded and measured

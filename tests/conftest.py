import os
import tempfile
from pathlib import Path

import pytest

# Compiled knowledge bases go to a scratch folder, never the user's ~/.cache.
os.environ["CHATBOT_CACHE_DIR"] = tempfile.mkdtemp(prefix="chatbot-test-cache-")

from chatbot import Bot

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def bot() -> Bot:
    return Bot()


def read_labels(path: Path) -> list[tuple[str, str]]:
    from chatbot.evaluate import parse_labels

    return parse_labels(path.read_text(encoding="utf-8"), str(path))


IN_CI = bool(os.environ.get("CI"))


def needs_shared(path: Path | None, what: str):
    """Skip a test whose file from ``../shared`` is missing; in CI (``CI`` set) fail instead."""
    missing = path is None or not path.exists()
    return pytest.mark.skipif(missing and not IN_CI, reason=f"{what} is not beside the repo")


def pytest_addoption(parser):
    parser.addoption("--reverse", action="store_true",
                     help="run the tests in reverse order (CI runs the suite once so, to catch order dependence)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--reverse"):
        items.reverse()

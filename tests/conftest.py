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

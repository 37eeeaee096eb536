"""The README's commands: how .ci/readme-check reads them, and that what they name is in the repo.
(.ci/readme-check itself runs them all in a fresh clone; CI runs it.)"""

import importlib.util
import re

import pytest

from .conftest import ROOT

spec = importlib.util.spec_from_file_location("readme_commands", ROOT / ".ci" / "readme_commands.py")
readme_commands = importlib.util.module_from_spec(spec)
spec.loader.exec_module(readme_commands)

README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("text, steps", [
    ("```sh\nchatbot ask x   # a comment\n# only a comment\n\nchatbot eval y\n```\n",
     [("sh", "chatbot ask x   # a comment"), ("sh", "chatbot eval y")]),
    ("```sh\n$ chatbot ask x\nanswer line\n…\n$ chatbot ask y\n```\n",
     [("sh", "chatbot ask x"), ("expect", "answer line"), ("sh", "chatbot ask y")]),
    ("```python\nfrom chatbot import Bot\nBot()\n```\n", [("python", "from chatbot import Bot\nBot()")]),
    ("```yaml\nid: x\n```\n```\nchatbot/\n```\n", []),
])
def test_steps_of_a_readme(text, steps):
    assert [(kind, body) for kind, body, _ in readme_commands.steps(text)] == steps


def test_the_first_two_lines_are_the_set_up_commands():
    commands = [body for kind, body, _ in readme_commands.steps(README) if kind == "sh"][:2]
    assert commands[0].startswith("python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/chatbot ")
    assert commands[1].startswith("python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/pytest ")


def test_every_file_a_readme_command_names_is_in_the_repo():
    named = set()
    for kind, body, _ in readme_commands.steps(README):
        if kind in ("sh", "python"):
            named |= set(re.findall(r"(?:examples|tests/data|bench)/[\w./-]+\.\w+", body))
    assert named and all((ROOT / path).is_file() for path in named), sorted(named)


def test_no_readme_command_needs_shared_files():
    assert not any("shared/" in body for kind, body, _ in readme_commands.steps(README) if kind != "expect")

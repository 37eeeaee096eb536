"""Text made inert for a terminal: controls, bidi controls and lone surrogates shown as escapes."""

import json

import pytest

from chatbot.safe import inert, json_text


@pytest.mark.parametrize("text, shown", [
    ("裏ももがつる", "裏ももがつる"),
    ("一行目\n二行目\tタブ", "一行目\n二行目\tタブ"),  # newline and tab are kept
    ("\x1b]0;PWNED\x07", "\\x1b]0;PWNED\\x07"),  # would set the window title
    ("\x1b[2J", "\\x1b[2J"),  # would clear the screen
    ("a\rb\x00c\x7f", "a\\x0db\\x00c\\x7f"),
    ("\x9b2J\x85", "\\x9b2J\\x85"),  # C1: an 8-bit CSI, NEL
    ("\u202eevil\u202c\u2066\u2069\u200f\u061c", "\\u202eevil\\u202c\\u2066\\u2069\\u200f\\u061c"),  # bidi controls
    ("\udc82\udca0", "\\udc82\\udca0"),  # undecodable bytes read with surrogateescape
    ("\xa0é\u3000😀", "\xa0é\u3000😀"),  # printable characters stay as they are
])
def test_inert(text, shown):
    assert inert(text) == shown
    assert inert(shown) == shown  # the escapes themselves are harmless text


def test_inert_on_one_line():
    assert inert("a\nb\tc", newlines=False) == "a\\x0ab\tc"


@pytest.mark.parametrize("value", [
    {"question": "\x1b]0;PWNED\x07\x9b\u202e\u2028裏もも"},
    ["\udcff", "\x7f", "\u2066x\u2069"],
])
def test_json_text_escapes_what_a_terminal_acts_on_and_keeps_the_value(value):
    text = json_text(value)
    assert json.loads(text) == value
    assert inert(text) == text and "\u2028" not in text
    assert "裏もも" in json_text("裏もも")  # readable Japanese, not \\uXXXX

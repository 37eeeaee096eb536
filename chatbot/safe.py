"""Text made inert before it reaches a terminal. Pure functions.

Anything the bot echoes (the user's own words, file names, and the knowledge text too)
goes through :func:`inert` at the terminal edge. A character that a terminal would act
on instead of showing is written as its Python escape, visibly and harmlessly:

- C0 controls except tab and (by default) newline, and DEL: ``\\x1b``, ``\\x07``, ``\\x0d``…
  (so ``ESC ] 0 ; PWNED BEL`` cannot set the window title, ``ESC [ 2 J`` cannot clear the screen);
- C1 controls U+0080–U+009F (U+009B is an 8-bit CSI): ``\\x9b``;
- bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069),
  which reorder what is shown: ``\\u202e``;
- lone surrogates (undecodable bytes read with ``surrogateescape``): ``\\udcff``.

:func:`json_text` is ``json.dumps(…, ensure_ascii=False)`` with the same characters (and
U+2028/U+2029) written as ``\\uXXXX`` JSON escapes: still the same JSON value when parsed.
"""

from __future__ import annotations

import json
import re

BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # a regex class
BIDI_CONTROLS = "\u061c\u200e\u200f" + "".join(map(chr, range(0x202A, 0x202F))) + "".join(map(chr, range(0x2066, 0x206A)))
# Patterns as text, compiled by re's own cache when first used: a command uses one or two of
# them, and compiling a class of characters past U+00FF takes re about half a millisecond.
_UNSAFE = f"[\x00-\x08\x0b-\x1f\x7f-\x9f{BIDI}\ud800-\udfff]"
_UNSAFE_KEEPING_NO_NEWLINE = f"[\x00-\x08\x0a-\x1f\x7f-\x9f{BIDI}\ud800-\udfff]"
_UNSAFE_IN_JSON = f"[\x7f-\x9f{BIDI}\u2028\u2029\ud800-\udfff]"


def _escape(match: re.Match) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: str, *, newlines: bool = True) -> str:
    """``text`` with every control, bidi control and lone surrogate written as a visible escape.
    Tab is kept; newline too unless ``newlines=False`` (then it is ``\\x0a``, for one-line messages)."""
    return re.sub(_UNSAFE if newlines else _UNSAFE_KEEPING_NO_NEWLINE, _escape, str(text))


def json_text(value, **options) -> str:
    """``json.dumps(value, ensure_ascii=False, **options)`` with C1 and bidi controls, line
    separators and lone surrogates escaped as ``\\uXXXX``: readable Japanese, nothing a terminal acts on."""
    text = json.dumps(value, ensure_ascii=False, **options)
    return re.sub(_UNSAFE_IN_JSON, lambda m: f"\\u{ord(m[0]):04x}", text)

"""Turn README.md's code blocks into one bash script that runs every command as written.

- A ```sh block whose lines start with "$ " is a session: those lines are the commands, and
  the lines after each (up to the next "$ ") are output the command must print, each line
  whole ("…" stands for lines left out).
- Any other ```sh block: every line is a command (comments are bash's own).
- A ```python block is run with the `python` of the moment (the venv, once activated).
- Other blocks (yaml, the plain ones) are not commands, nor is a block whose info string says
  `norun` (```sh norun): shown, not run, for a server that runs until stopped and the calls
  made to it, or a benchmark that takes minutes (CI checks those apart).

The commands run in one shell, in order, so that `source .venv/bin/activate` carries over.
Each must exit 0; the script ends by saying how many ran and which failed.
"""

from __future__ import annotations

import re
import shlex
import sys


def blocks(text: str):
    """(language, lines) of every fenced code block."""
    for match in re.finditer(r"^```(\w*)([^\n]*)\n(.*?)^```", text, re.M | re.S):
        language = "" if "norun" in match[2].split() else match[1]
        yield language, match[3].rstrip("\n").split("\n")


def steps(text: str):
    """(kind, command, expected output lines) in README order; kind: sh or python."""
    for language, lines in blocks(text):
        if language == "python":
            yield "python", "\n".join(lines), []
        elif language == "sh" and any(line.startswith("$ ") for line in lines):
            for line in lines:
                if line.startswith("$ "):
                    yield "sh", line[2:], []
                elif line.strip() and line.strip() != "…":
                    yield "expect", line, []
        elif language == "sh":
            for line in lines:
                if line.strip() and not line.lstrip().startswith("#"):
                    yield "sh", line, []


def script(text: str) -> str:
    out = ["set +e", "ran=0; failed=()", 'log=$(mktemp)']
    number = 0
    for kind, body, _ in steps(text):
        if kind == "expect":
            out.append(f"grep -qxF -- {shlex.quote(body)} \"$log\" || "
                       f"{{ echo \"  README shows a line the command did not print: \"{shlex.quote(body)}; "
                       f"failed+=(\"$number (output)\"); }}")
            continue
        number += 1
        shown = body if kind == "sh" else "python <<'PY' (the README's Python block)"
        out.append(f"number={number}; echo \"[$number] \"{shlex.quote(shown)}")
        if kind == "sh":
            out.append(f"{{ {body}\n}} > \"$log\" 2>&1 < /dev/null")
        else:
            out.append(f"python - > \"$log\" 2>&1 <<'PY'\n{body}\nPY")
        out.append('status=$?; ran=$((ran + 1))')
        out.append('if [ "$status" -ne 0 ]; then echo "  exit status $status:"; sed "s/^/    /" "$log" | tail -20; '
                   'failed+=("$number"); fi')
    out.append('rm -f "$log"')
    out.append('if [ "${#failed[@]}" -ne 0 ]; then echo "README commands: $ran ran; failed: ${failed[*]}"; exit 1; fi')
    out.append('echo "README commands: $ran ran, every one as the README says"')
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(script(open(sys.argv[1], encoding="utf-8").read()))

"""Code blocks of a Markdown page, and running them in order as a reader would.

A ``python`` block runs as a script (a ``>>>`` session runs its input lines); in a
``bash``/``sh``/``console`` block, each line that calls ``mlcycle`` runs (``$ `` prompts
and ``# comments`` are dropped; other commands such as ``make`` or ``curl`` are not run),
and ``export NAME=VALUE`` sets ``NAME`` for the rest of the page.
A block right after ``<!-- no-run: reason -->`` is skipped; keep those rare. The
``mlcycle`` lines of a block right after ``<!-- background: URL -->`` (a server the reader
starts in a second terminal) run in the background until the page ends, and the next
block waits until ``URL`` answers 200. A block of any language right after
``<!-- save-as: PATH -->`` is a file the page tells the reader to save: it is written to
``PATH`` (relative to the page's folder) when its turn comes.

``python -m tests.docs.blocks PAGE.md`` runs one page in the current directory: the
blocks share one namespace, ``mlcycle`` commands run in-process (through the console
script's ``main``) unless they need a shell (pipes, redirections).
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PYTHON = {"python", "py", "pycon"}
SHELL = {"bash", "sh", "shell", "console"}
NO_RUN = re.compile(r"<!--\s*no-run:\s*(?P<reason>[^>]+?)\s*-->")
BACKGROUND = re.compile(r"<!--\s*background:\s*(?P<url>\S+)\s*-->")
SAVE_AS = re.compile(r"<!--\s*save-as:\s*(?P<path>\S+)\s*-->")
#: How long a background server may take to answer (a loaded CI machine is slow).
READY_WITHIN_S = 180.0
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\s*$")
SHELL_ONLY = re.compile(r"[|<>`]|\$\(")
EXPORT = re.compile(r"^export (?P<name>[A-Z_][A-Z0-9_]*)=(?P<value>\S*)$")


@dataclass(frozen=True)
class Block:
    """One fenced block: its language, the line of its opening fence (1-based) and text."""

    lang: str
    line: int
    text: str
    skip_reason: str | None = None
    background: str | None = None
    save_as: str | None = None

    def commands(self) -> list[str]:
        """The ``mlcycle`` and ``export`` lines of a shell block, joined across ``\\``."""
        found: list[str] = []
        pending = ""
        for raw in self.text.splitlines():
            line = raw.strip()
            if pending:
                line = pending + " " + line
                pending = ""
            if line.endswith("\\"):
                pending = line[:-1].rstrip()
                continue
            line = _strip_comment(line.removeprefix("$ ").strip())
            if line.startswith("mlcycle ") or line == "mlcycle" or EXPORT.match(line):
                found.append(line)
        return found

    def python_source(self) -> str:
        """The code of a python block; the input lines of a ``>>>`` session."""
        lines = self.text.splitlines()
        if not any(line.startswith(">>>") for line in lines):
            return self.text
        code = [
            line[4:]
            for line in lines
            if line.startswith((">>> ", "... ")) or line in (">>>", "...")
        ]
        return "\n".join(code)


def _strip_comment(line: str) -> str:
    """``mlcycle runs list  # note`` -> ``mlcycle runs list`` (quotes respected)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and line[index - 1].isspace():
            return line[:index].rstrip()
    return line


def blocks(path: Path) -> list[Block]:
    """Every python and shell block of a Markdown file, in order."""
    found: list[Block] = []
    lines = path.read_text().splitlines()
    index = 0
    skip: str | None = None
    background: str | None = None
    save_as: str | None = None
    while index < len(lines):
        line = lines[index]
        marker = NO_RUN.search(line)
        if marker:
            skip = marker.group("reason")
            index += 1
            continue
        serving = BACKGROUND.search(line)
        if serving:
            background = serving.group("url")
            index += 1
            continue
        saving = SAVE_AS.search(line)
        if saving:
            save_as = saving.group("path")
            index += 1
            continue
        fence = FENCE.match(line)
        if fence is None:
            if line.strip():
                skip = background = save_as = None
            index += 1
            continue
        start = index + 1
        end = start
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        lang = fence.group("lang").lower()
        if lang in PYTHON or lang in SHELL or save_as is not None:
            text = "\n".join(lines[start:end]) + "\n"
            found.append(Block(lang, start, text, skip, background, save_as))
        skip = background = save_as = None
        index = end + 1
    return found


def runnable(path: Path) -> Iterator[Block]:
    for block in blocks(path):
        if block.skip_reason is None:
            yield block


def _run_command(command: str) -> None:
    """One ``mlcycle ...`` line (``a && b`` runs both); exit status 0 or raise."""
    from mlcycle.cli.app import main

    exported = EXPORT.match(command)
    if exported:
        print(f"$ {command}", flush=True)
        os.environ[exported.group("name")] = exported.group("value")
        return
    for part in command.split("&&"):
        part = part.strip()
        if SHELL_ONLY.search(part):
            bin_dir = Path(sys.executable).parent
            env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
            subprocess.run(["bash", "-c", part], check=True, env=env)
            continue
        print(f"$ {part}", flush=True)
        try:
            main(shlex.split(part)[1:])
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise RuntimeError(f"`{part}` exited with {exc.code}") from None


def _start(command: str) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "mlcycle.cli.app", *shlex.split(command)[1:]]
    print(f"$ {command} &", flush=True)
    return subprocess.Popen(args)


def _refuse_taken(url: str) -> None:
    """Stop when something already answers at ``url``: a server left from elsewhere would
    pass for the page's own."""
    import httpx

    try:
        httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return
    raise RuntimeError(f"something already answers at {url}: free the port first")


def _wait_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + READY_WITHIN_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the background server exited with {server.returncode}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {READY_WITHIN_S:.0f} s")


def run_page(path: Path) -> None:
    """Run every runnable block of ``path`` in order, in the current directory."""
    servers: list[subprocess.Popen[bytes]] = []
    try:
        _run_blocks(path, servers)
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
            server.wait()


def _run_blocks(path: Path, servers: list[subprocess.Popen[bytes]]) -> None:
    namespace: dict[str, object] = {"__name__": "__main__"}
    for block in runnable(path):
        where = f"{path.name}:{block.line}"
        try:
            if block.save_as is not None:
                Path(block.save_as).write_text(block.text)
            elif block.background is not None:
                for command in block.commands():
                    _refuse_taken(block.background)
                    servers.append(_start(command))
                    _wait_ready(block.background, servers[-1])
            elif block.lang in PYTHON:
                code = compile(block.python_source(), where, "exec")
                exec(code, namespace)
            else:
                for command in block.commands():
                    _run_command(command)
        except BaseException:
            print(f"FAILED block at {where}", file=sys.stderr, flush=True)
            traceback.print_exc()
            raise SystemExit(1) from None
    print(f"OK {path.name}", flush=True)


if __name__ == "__main__":
    run_page(Path(sys.argv[1]).resolve())

"""The image's ``HEALTHCHECK``: exit 0 when the server answers ``/v2/health/ready``.

::

    python -m mlcycle.containers.healthcheck [PORT]

The port is the one the container's main process (PID 1, the entry point) was given with
``--port``, so ``docker run IMAGE --port 9000`` stays healthy; ``PORT`` (the context's
port) when that command line has none.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

READY_PATH = "/v2/health/ready"
DEFAULT_PORT = 8080


def check(port: int, *, host: str = "127.0.0.1", timeout_s: float = 3.0) -> bool:
    """True when the serving app on ``host:port`` says it is ready."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{READY_PATH}", timeout=timeout_s) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def port_in(args: Sequence[str]) -> int | None:
    """The value of ``--port N`` or ``--port=N`` in a command line (the last one)."""
    found = None
    for i, arg in enumerate(args):
        value = None
        if arg == "--port" and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--port="):
            value = arg.split("=", 1)[1]
        if value is not None and value.isdigit():
            found = int(value)
    return found


def main_process_port(cmdline: Path = Path("/proc/1/cmdline")) -> int | None:
    """The ``--port`` of the container's main process, when it has one."""
    try:
        args = cmdline.read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return None
    if not any("mlcycle.containers.entrypoint" in a for a in args):
        return None
    return port_in(args)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    fallback = int(args[0]) if args and args[0].isdigit() else DEFAULT_PORT
    return 0 if check(main_process_port() or fallback) else 1


if __name__ == "__main__":
    sys.exit(main())

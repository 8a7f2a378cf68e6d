"""The image's ``HEALTHCHECK``: exit 0 when the server answers ``/v2/health/ready``.

::

    python -m mlcycle.containers.healthcheck [PORT]
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Sequence

READY_PATH = "/v2/health/ready"


def check(port: int, *, host: str = "127.0.0.1", timeout_s: float = 3.0) -> bool:
    """True when the serving app on ``host:port`` says it is ready."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{READY_PATH}", timeout=timeout_s) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    port = int(args[0]) if args else 8080
    return 0 if check(port) else 1


if __name__ == "__main__":
    sys.exit(main())

"""The image's entry point: serve the build context's model, with no store.

::

    python -m mlcycle.containers.entrypoint [--context DIR] [--host H] [--port P]

It reads ``mlcycle-context.json``, checks the sha256 of every model file, puts the
model's own code (if any) on ``sys.path``, then runs mlcycle's serving app: Open Inference
Protocol v2, ``/invocations``, ``/metrics``, micro-batching and the signature checks, as
``mlcycle serve`` does. The prediction log (and feedback) go under ``MLCYCLE_ARTIFACT_URI``.
Exit code 1 with one ``error:`` line when the context is broken or the model cannot load.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from mlcycle.containers.server import serve_context
from mlcycle.errors import MlcycleError

DEFAULT_CONTEXT = "/opt/mlcycle"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlcycle.containers.entrypoint",
        description="Serve the model of an mlcycle build context (no store needed).",
    )
    parser.add_argument("--context", default=DEFAULT_CONTEXT, help="the build context folder")
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on")
    parser.add_argument("--port", type=int, default=None, help="port [the context's]")
    parser.add_argument("--log-level", default="info", help="debug, info, warning or error")
    args = parser.parse_args(argv)
    try:
        serve_context(Path(args.context), host=args.host, port=args.port, log_level=args.log_level)
    except (MlcycleError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

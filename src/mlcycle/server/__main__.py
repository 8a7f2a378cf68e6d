"""``python -m mlcycle.server``: the server without the rest of the CLI."""

from __future__ import annotations

import argparse
import sys

from mlcycle.errors import MlcycleError
from mlcycle.server.config import MiB, ServerConfig
from mlcycle.server.serve import serve
from mlcycle.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlcycle.server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--tracking-uri", default=None)
    parser.add_argument("--artifact-uri", default=None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-body-mib", type=float, default=64.0)
    parser.add_argument("--graceful-timeout", type=float, default=30.0)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--auth", action="store_true", help="require a token on every route")
    parser.add_argument(
        "--artifacts-destination",
        default=None,
        help="folder or s3:// URI for MLflow proxy uploads outside any run",
    )
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env().with_overrides(
            tracking_uri=args.tracking_uri, artifact_uri=args.artifact_uri
        )
        config = ServerConfig(
            max_body_bytes=int(args.max_body_mib * MiB),
            graceful_shutdown_s=args.graceful_timeout,
            log_level=args.log_level,
            auth=args.auth,
            mlflow_artifacts_destination=args.artifacts_destination,
        )
        serve(settings, host=args.host, port=args.port, workers=args.workers, config=config)
    except MlcycleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

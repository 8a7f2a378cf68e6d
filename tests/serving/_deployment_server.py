"""``python -m tests.serving._deployment_server --tracking-uri URI --artifact-uri DIR NAME
--port P [--trust TYPE ...]``: ``serve_deployment`` with the short poll and canary
intervals the tests need (the CLI's defaults are for production)."""

from __future__ import annotations

import argparse

from mlcycle.serving import ServingConfig, serve_deployment
from mlcycle.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--artifact-uri", required=True)
    parser.add_argument("name")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--trust", action="append", default=[])
    args = parser.parse_args()
    settings = Settings.from_env(
        {"MLCYCLE_TRACKING_URI": args.tracking_uri, "MLCYCLE_ARTIFACT_URI": args.artifact_uri}
    )
    config = ServingConfig(
        poll_interval_s=0.1,
        canary_interval_s=0.25,
        log_flush_interval_s=0.2,
        trusted=tuple(args.trust),
    )
    serve_deployment(args.name, port=args.port, settings=settings, config=config)


if __name__ == "__main__":
    main()

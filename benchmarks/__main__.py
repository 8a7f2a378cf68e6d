"""``python -m benchmarks [SUITE ...] [--quick] [--only NAME,...] [--out DIR]
[--compare EARLIER]``."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from benchmarks._common import fmt, log
from benchmarks.compare import print_comparison

#: Suite name -> module; each module has ``BENCHMARKS`` (names) and ``run(...)``.
SUITES: dict[str, str] = {
    "tracking": "benchmarks.tracking",
    "server": "benchmarks.server",
    "datasets": "benchmarks.datasets",
    "models": "benchmarks.models",
    "serving": "benchmarks.serving",
    "mlflow": "benchmarks.mlflow_compat",
    "batch": "benchmarks.batch",
    "monitoring": "benchmarks.monitoring",
    "explain": "benchmarks.explain",
    "cli": "benchmarks.cli_start",
    "platform": "benchmarks.platform_api",
    "scale": "benchmarks.scale_out",
    "containers": "benchmarks.containers",
    "ui": "benchmarks.ui",
    "curves": "benchmarks.curves",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark mlcycle against MLflow; prints a report and writes JSON.",
    )
    parser.add_argument(
        "suites",
        nargs="*",
        metavar="SUITE",
        help=f"suites to run (default: all): {', '.join(SUITES)}",
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated benchmark names within the suites (default: all)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("bench-out"), help="folder for the JSON summaries"
    )
    parser.add_argument(
        "--compare",
        type=Path,
        default=None,
        metavar="EARLIER",
        help="an earlier run's JSON (or its --out folder): print each figure's change",
    )
    args = parser.parse_args(argv)
    if args.compare is not None and args.compare.resolve() == args.out.resolve():
        parser.error("--compare needs an earlier run's folder, not this run's --out")

    unknown = [s for s in args.suites if s not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s) {', '.join(unknown)}; known: {', '.join(SUITES)}")
    only = {name.strip() for name in args.only.split(",") if name.strip()} or None

    modules = [importlib.import_module(SUITES[s]) for s in args.suites or list(SUITES)]
    if only is not None:
        known = {name for module in modules for name in module.BENCHMARKS}
        if only - known:
            parser.error(
                f"unknown benchmark(s) {', '.join(sorted(only - known))}; "
                f"known: {', '.join(sorted(known))}"
            )
        modules = [m for m in modules if only & set(m.BENCHMARKS)]

    started = time.perf_counter()
    failed = False
    for module in modules:
        ok: bool = module.run(quick=args.quick, out_dir=args.out, only=only)
        failed = failed or not ok
    log(f"\nbenchmarks finished in {fmt(time.perf_counter() - started)} s")
    if args.compare is not None:
        print_comparison(args.compare, args.out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

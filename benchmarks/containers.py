"""Model-image benchmarks for the model-images issue.

1. ``context``: ``mlcycle.containers.build_context`` of a registered scikit-learn
   Pipeline (the churn model of the serving benchmarks' shape): the model files copied
   with their digests, the lock walked from the installed distributions' metadata,
   mlcycle's wheel built from the imported package, the Dockerfile written. Offline (no
   hashes): the median of repeated builds into fresh folders; goal under 2 s. One build
   with hashes from the package index is timed too when the index answers (details).

The image itself (size, build time) needs a Docker daemon: see
``scripts/docker-image-check.sh`` and docs/containers.md.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mlcycle
from benchmarks._common import Result, log, perf_counter, repeat, run_benches, temp_dir
from mlcycle.containers import build_context
from mlcycle.entities.registry import ModelVersion

SUITE = "containers"
BENCHMARKS = ("context",)


@dataclass(frozen=True)
class Sizes:
    reps: int = 10


DEFAULT = Sizes()
QUICK = Sizes(reps=3)


def _churn(n: int = 500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "tenure": rng.uniform(0, 72, n),
            "charges": rng.uniform(20, 120, n),
            "plan": rng.choice(["basic", "pro", "max"], n),
        }
    )
    frame["churned"] = (frame["tenure"] < 12).astype(int)
    return frame


def _pipeline(frame: pd.DataFrame) -> Pipeline:
    model = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [
                        ("num", StandardScaler(), ["tenure", "charges"]),
                        ("cat", OneHotEncoder(handle_unknown="ignore"), ["plan"]),
                    ]
                ),
            ),
            ("clf", LogisticRegression(max_iter=500)),
        ]
    )
    return model.fit(frame.drop(columns="churned"), frame["churned"])


def bench_context(sizes: Sizes) -> Result:
    with temp_dir("containers") as root:
        client = mlcycle.Client(f"sqlite:///{root / 'm.db'}", str(root / "artifacts"))
        try:
            frame = _churn()
            with client.start_run("bench-images", capture_environment=False) as run:
                info = run.log_model(
                    _pipeline(frame),
                    "model",
                    input_example=frame.drop(columns="churned").head(3),
                    register="bench-churn",
                )
            assert isinstance(info.registered_version, ModelVersion)
            uri = info.registered_version.uri
            counter = itertools.count()

            def build() -> None:
                build_context(uri, root / f"ctx-{next(counter)}", client=client, hashes=False)

            timing = repeat(build, warmup=1, min_reps=sizes.reps, max_reps=sizes.reps, budget_s=0)
            t0 = perf_counter()
            hashed = build_context(uri, root / "ctx-hashed", client=client)
            hashed_ms = (perf_counter() - t0) * 1000.0
            files = sum(1 for p in (root / "ctx-hashed").rglob("*") if p.is_file())
            size = sum(p.stat().st_size for p in (root / "ctx-hashed").rglob("*") if p.is_file())
        finally:
            client.close()
    log(f"    build_context, offline: {timing.text()}")
    log(
        f"    with hashes from the index: {hashed_ms:.0f} ms "
        f"({'hashed' if hashed.lock.hashed else 'index unreachable: no hashes'}); "
        f"{len(hashed.lock.pins)} pins, {files} files, {size / 1e6:.2f} MB"
    )
    return Result(
        name="context",
        what="mlcycle models build-context of a registered scikit-learn Pipeline (offline)",
        unit="ms",
        value=timing.median,
        goal=2000.0,
        higher_is_better=False,
        mlflow_note="mlflow models build-docker needs a Docker daemon; see docs/containers.md",
        details={
            "offline": timing.summary(),
            "with_hashes_ms": hashed_ms,
            "hashed": hashed.lock.hashed,
            "pins": len(hashed.lock.pins),
            "files": files,
            "context_bytes": size,
        },
    )


_BENCHES: dict[str, Callable[[Sizes], Result]] = {"context": bench_context}


def run(*, quick: bool, out_dir: Path, only: set[str] | None = None) -> bool:
    """Run the suite; print each result and a summary table; write ``containers.json``."""
    sizes = QUICK if quick else DEFAULT
    return run_benches(SUITE, _BENCHES, sizes, quick=quick, out_dir=out_dir, only=only)

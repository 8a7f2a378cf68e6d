"""Scale-out: object storage against raw boto3, batch prediction in processes and on Ray
against the model's own ``predict``, and a sweep on Ray against the local backend.

``s3_transfer``: a 1 GB artifact (64 MB with ``--quick``) uploaded and downloaded through
mlcycle's S3 store, against boto3's managed transfer of the same bytes to the same server
(Ceph's RADOS gateway on loopback, started by ``scripts/s3-local.sh`` when
``AWS_ENDPOINT_URL`` is not set). Goal: within 1.3x of boto3. Each side runs twice, in the
order mlcycle, boto3, boto3, mlcycle, after a small warm-up of each (the gateway's first
large write of a run is slow whoever makes it); the figures are the means.

``batch_executors``: 10 M rows x 20 features (1 M with ``--quick``) from Parquet to Parquet
with a logistic regression, by the process executor and by Ray with 1 and 2 workers (the
workers read their own chunks from the file), against the model's own ``predict`` on the
same array in memory (the floor); prints the ratios and the scaling from 1 to 2 workers.
The process executor's figures include starting its pool (a fresh one per job); Ray's
workers are started once, before the timings, as a running cluster's are.

``sweep_ray``: 32 trials (8 with ``--quick``) of a small scikit-learn fit, Ray backend
against the default (Optuna in threads, 2 at a time), same trials; the ratio shows Ray's
per-trial overhead on one machine, the price of spreading trials over a cluster.
"""

from __future__ import annotations

import io
import os
import shutil
import statistics
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import Result, fmt, log, run_benches, temp_dir

SUITE = "scale"
BENCHMARKS = ("s3_transfer", "batch_executors", "sweep_ray")
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Sizes:
    transfer_bytes: int
    batch_rows: int
    trials: int


DEFAULT = Sizes(transfer_bytes=1 << 30, batch_rows=10_000_000, trials=32)
QUICK = Sizes(transfer_bytes=64 << 20, batch_rows=1_000_000, trials=8)


# -- S3 -----------------------------------------------------------------------------------


#: Where ``scripts/s3-local.sh`` keeps the shared local Ceph's configuration by default.
SHARED_CEPH = Path("/tmp/mlcycle-s3")
_ceph_dirs: list[Path] = []


def _free_deleted() -> None:
    """Have the local Ceph gateway reclaim deleted objects now. RGW frees a deleted
    object's data only in its garbage collection, two hours later by default; the gateway
    keeps objects in memory capped at 2 GiB, so without this a 1 GiB upload by mlcycle,
    deleted, then 1 GiB by boto3 would fill it. Not a local Ceph: nothing to do."""
    for folder in (*_ceph_dirs, SHARED_CEPH):
        conf = folder / "ceph.conf"
        if conf.is_file() and shutil.which("radosgw-admin"):
            subprocess.run(
                ["radosgw-admin", "-c", str(conf), "gc", "process", "--include-all"],
                check=False,
                capture_output=True,
                timeout=300,
            )
            return


@contextmanager
def _s3_server() -> Iterator[None]:
    """Use the S3 server in AWS_ENDPOINT_URL, or start a local Ceph gateway for the run."""
    if os.environ.get("AWS_ENDPOINT_URL"):
        yield
        return
    with temp_dir("mlcycle-bench-s3") as folder:
        _ceph_dirs.append(folder / "ceph")
        script = ROOT / "scripts" / "s3-local.sh"
        out = subprocess.run(
            ["bash", str(script), "start", str(folder / "ceph")],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        saved = dict(os.environ)
        for line in out.splitlines():
            if line.startswith("export "):
                key, _, value = line[len("export ") :].partition("=")
                os.environ[key] = value
        try:
            yield
        finally:
            subprocess.run(["bash", str(script), "stop", str(folder / "ceph")], check=False)
            _ceph_dirs.remove(folder / "ceph")
            os.environ.clear()
            os.environ.update(saved)


class _Zeros(io.RawIOBase):
    """``size`` bytes of a repeating random block, generated as read (no 1 GB in memory)."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.block = np.random.default_rng(0).bytes(1 << 20)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.left, len(self.block))
        buffer[:n] = self.block[:n]
        self.left -= n
        return n


def bench_s3_transfer(sizes: Sizes) -> Result:
    import boto3  # the bench extra has it (the dev extra too)

    from mlcycle.artifacts import S3ArtifactStore

    with _s3_server(), temp_dir("mlcycle-bench-s3-files") as folder:
        client = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
        bucket = f"bench-{uuid.uuid4().hex[:10]}"
        client.create_bucket(Bucket=bucket)
        store = S3ArtifactStore(f"s3://{bucket}/mlcycle")

        def through_mlcycle(size: int) -> tuple[float, float]:
            t0 = time.perf_counter()
            store.put_stream("blob", io.BufferedReader(_Zeros(size), 1 << 20))
            up = time.perf_counter() - t0
            t0 = time.perf_counter()
            store.download("blob", folder / "ours.bin")
            down = time.perf_counter() - t0
            store.delete("blob")
            (folder / "ours.bin").unlink()
            _free_deleted()
            return up, down

        def through_boto3(size: int) -> tuple[float, float]:
            t0 = time.perf_counter()
            client.upload_fileobj(io.BufferedReader(_Zeros(size), 1 << 20), bucket, "raw/blob")
            up = time.perf_counter() - t0
            t0 = time.perf_counter()
            with open(folder / "raw.bin", "wb") as out:
                client.download_fileobj(bucket, "raw/blob", out)
            down = time.perf_counter() - t0
            client.delete_object(Bucket=bucket, Key="raw/blob")
            (folder / "raw.bin").unlink()
            _free_deleted()
            return up, down

        size = sizes.transfer_bytes
        timings: dict[str, list[tuple[float, float]]] = {"ours": [], "raw": []}
        try:
            # A small warm-up each, then the full size in the order A B B A: the gateway's
            # first large write of a run was twice as slow as the next ones, whoever made it.
            through_mlcycle(8 << 20)
            through_boto3(8 << 20)
            for who in ("ours", "raw", "raw", "ours"):
                timings[who].append((through_mlcycle if who == "ours" else through_boto3)(size))
        finally:
            client.delete_bucket(Bucket=bucket)
            _free_deleted()
    ours_up, ours_down = (statistics.mean(t) for t in zip(*timings["ours"], strict=True))
    raw_up, raw_down = (statistics.mean(t) for t in zip(*timings["raw"], strict=True))
    ours, raw = ours_up + ours_down, raw_up + raw_down
    mb = size / (1 << 20)
    log(
        f"    {fmt(mb)} MiB: mlcycle up {fmt(ours_up)} s, down {fmt(ours_down)} s; "
        f"boto3 up {fmt(raw_up)} s, down {fmt(raw_down)} s; ratio {fmt(ours / raw)}x "
        "(below 1: mlcycle is faster); means of two runs each, in the order "
        "mlcycle, boto3, boto3, mlcycle, after an 8 MiB warm-up of each"
    )
    return Result(
        "s3_transfer",
        f"upload + download of {fmt(mb)} MiB to the S3 server",
        "s",
        ours,
        goal=1.3 * raw,
        higher_is_better=False,
        mlflow=raw,
        competitor="boto3",
        mlflow_note="managed transfer, default TransferConfig",
        details={
            "bytes": size,
            "mlcycle_upload_s": ours_up,
            "mlcycle_download_s": ours_down,
            "boto3_upload_s": raw_up,
            "boto3_download_s": raw_down,
            "ratio_vs_boto3": ours / raw,
            "runs": timings,
        },
    )


# -- batch --------------------------------------------------------------------------------


def _write_input(path: Path, rows: int, names: list[str]) -> None:
    """``rows`` x ``len(names)`` normal floats in row groups of 250,000, generated piece by
    piece (10 M rows would be 1.6 GB at once)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    schema = pa.schema([(name, pa.float64()) for name in names])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, 250_000):
            block = rng.normal(size=(min(250_000, rows - start), len(names)))
            writer.write_table(pa.Table.from_arrays(list(block.T), schema=schema))


def bench_batch_executors(sizes: Sizes) -> Result:
    import pandas as pd
    import pyarrow.parquet as pq
    from sklearn.linear_model import LogisticRegression

    import mlcycle
    import mlcycle.batch
    from mlcycle.batch.ray_executor import RayExecutor

    rows = sizes.batch_rows
    names = [f"f{i}" for i in range(20)]
    figures: dict[str, float] = {}
    with temp_dir("mlcycle-bench-batch") as folder:
        source = folder / "input.parquet"
        _write_input(source, rows, names)
        head = pq.ParquetFile(source).read_row_group(0).to_pandas().iloc[:20_000]
        model = LogisticRegression(max_iter=200).fit(head.to_numpy(), (head["f0"] > 0).astype(int))
        client = mlcycle.Client(f"sqlite:///{folder / 'm.db'}", str(folder / "artifacts"))
        with client.start_run(experiment="bench", capture_environment=False) as run:
            run.log_model(model, "model", input_example=head.head(5))
        # The floor: the model's own predict on the same rows, already in memory.
        X = pd.read_parquet(source).to_numpy()
        t0 = time.perf_counter()
        model.predict(X)
        figures["floor"] = time.perf_counter() - t0
        del X
        uri = f"runs:/{run.id}/model"
        from mlcycle.compute.ray_cluster import connect

        connect()  # the local cluster's start (15-20 s) is not a job's cost
        # Nor is the first start of its worker processes (they stay up between jobs, while
        # the process executor starts a fresh pool per job: that cost is in its figures).
        warm = folder / "warm.parquet"
        _write_input(warm, 2_000, names)
        mlcycle.batch.predict(
            uri,
            warm,
            folder / "warm.out.parquet",
            executor=RayExecutor(workers=2),
            chunk_rows=1_000,
            client=client,
        )
        plans: list[tuple[str, Any, int]] = [
            ("process x1", "process", 1),
            ("process x2", "process", 2),
            ("ray x1", RayExecutor(workers=1), 1),
            ("ray x2", RayExecutor(workers=2), 2),
        ]
        for label, executor, workers in plans:
            out = folder / f"out-{label.replace(' ', '-')}.parquet"
            t0 = time.perf_counter()
            mlcycle.batch.predict(
                uri,
                source,
                out,
                executor=executor,
                workers=workers,
                chunk_rows=250_000,
                probabilities=False,
                client=client,
            )
            figures[label] = time.perf_counter() - t0
            out.unlink()
        client.close()
    floor = figures["floor"]
    for label, _, _ in plans:
        log(f"    {label}: {fmt(figures[label])} s = {fmt(figures[label] / floor)}x predict")
    scaling = figures["process x1"] / figures["process x2"]
    ray_scaling = figures["ray x1"] / figures["ray x2"]
    log(
        f"    scaling from 1 to 2 workers: process {fmt(scaling)}x, Ray {fmt(ray_scaling)}x "
        f"({os.cpu_count()} cores here)"
    )
    best = min(figures["process x2"], figures["ray x2"])
    return Result(
        "batch_executors",
        f"batch prediction of {fmt(rows)} rows, Parquet to Parquet, best parallel executor",
        "s",
        best,
        goal=best,  # a report: the ratios to the floor are the figures that matter
        higher_is_better=False,
        mlflow=floor,
        competitor="model.predict in memory",
        details={
            **figures,
            "process_x2_vs_predict": figures["process x2"] / floor,
            "ray_x2_vs_predict": figures["ray x2"] / floor,
            "scaling_1_to_2": scaling,
            "ray_scaling_1_to_2": ray_scaling,
            "rows": rows,
        },
    )


# -- sweeps -------------------------------------------------------------------------------


def _train(trial: Any) -> float:
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(n_samples=3000, n_features=20, random_state=0)
    model = LogisticRegression(C=trial.params["C"], max_iter=300).fit(X, y)
    return float(model.score(X, y))


def bench_sweep_ray(sizes: Sizes) -> Result:
    import mlcycle

    space = {"C": (1e-3, 10.0, "log")}
    times: dict[str, float] = {}
    with temp_dir("mlcycle-bench-sweep") as folder:
        client = mlcycle.Client(f"sqlite:///{folder / 'm.db'}", str(folder / "artifacts"))
        from mlcycle.compute.ray_cluster import connect

        connect()  # the local cluster's start (15-20 s) is not a sweep's cost
        for backend in ("optuna", "ray"):
            t0 = time.perf_counter()
            result = mlcycle.sweep(
                _train,
                space,
                n_trials=sizes.trials,
                direction="maximize",
                experiment=f"sweep-{backend}",
                backend=backend,
                n_jobs=2,
                seed=0,
                client=client,
            )
            times[backend] = time.perf_counter() - t0
            assert sum(t.state == "complete" for t in result.trials) == sizes.trials
        client.close()
    log(f"    {sizes.trials} trials: local {fmt(times['optuna'])} s, Ray {fmt(times['ray'])} s")
    return Result(
        "sweep_ray",
        f"a sweep of {sizes.trials} trials on Ray (2 at a time)",
        "s",
        times["ray"],
        goal=times["ray"],  # a report of Ray's overhead on one machine
        higher_is_better=False,
        mlflow=times["optuna"],
        competitor="local backend",
        details=times,
    )


_BENCHES = {
    "s3_transfer": bench_s3_transfer,
    "batch_executors": bench_batch_executors,
    "sweep_ray": bench_sweep_ray,
}


def run(*, quick: bool, out_dir: Path, only: set[str] | None = None) -> bool:
    """Run the suite; print each result and a summary table; write ``scale.json``."""
    sizes = QUICK if quick else DEFAULT
    return run_benches(SUITE, _BENCHES, sizes, quick=quick, out_dir=out_dir, only=only)

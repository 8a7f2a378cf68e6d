"""Where MLflow clients find artifacts: ``mlflow-artifacts:`` URIs and the proxy paths
behind them.

A run's artifact root is ``mlflow-artifacts:/<experiment_id>/<run_id>/artifacts``; the
client turns it into ``/api/2.0/mlflow-artifacts/artifacts/<experiment_id>/<run_id>/
artifacts/<path>`` on this server, which reads and writes the run's artifacts in mlcycle's
artifact store and index (so ``mlcycle.Client().list_artifacts(run_id)`` sees them). Any
other proxy path is the MLflow artifact area (e.g. a logged model without a run), stored
under ``mlflow/`` in the artifact store, or at the same path in the folder ``mlcycle server
--artifacts-destination`` names (see :class:`~mlcycle.server.mlflow.context.MlflowContext`).
"""

from __future__ import annotations

from dataclasses import dataclass

from mlcycle.entities import ArtifactInfo

SCHEME = "mlflow-artifacts:"
AREA = "mlflow"  # the artifact store's folder for files outside any run


def experiment_root(experiment_id: str) -> str:
    return f"{SCHEME}/{experiment_id}"


def run_root(experiment_id: str, run_id: str) -> str:
    return f"{SCHEME}/{experiment_id}/{run_id}/artifacts"


def run_uri(experiment_id: str, run_id: str, path: str) -> str:
    root = run_root(experiment_id, run_id)
    return f"{root}/{path}" if path else root


def area_uri(path: str) -> str:
    return f"{SCHEME}/{path}"


def area_key(path: str) -> str:
    return f"{AREA}/{path}"


@dataclass(frozen=True)
class Target:
    """What a proxy path names: a run's artifact (``run_id`` set) or the MLflow area."""

    path: str  # within the run's artifacts, or within the area
    run_id: str | None = None


def split_proxy_path(path: str) -> Target:
    """``<experiment>/<run>/artifacts/<rest>`` names a run's artifact (the caller checks the
    run exists); any other path a file of the MLflow area."""
    clean = path.strip("/")
    parts = clean.split("/")
    if len(parts) >= 3 and parts[2] == "artifacts" and parts[1]:
        return Target("/".join(parts[3:]), parts[1])
    return Target(clean)


def parse_run_source(source: str) -> tuple[str, str] | None:
    """(run ID, artifact path) of ``runs:/<run>/<path>`` or of a run artifact URI."""
    if source.startswith("runs:/"):
        run_id, _, path = source[len("runs:/") :].strip("/").partition("/")
        return (run_id, path.strip("/")) if run_id else None
    if source.startswith(SCHEME):
        target = split_proxy_path(source[len(SCHEME) :])
        if target.run_id is not None:
            return target.run_id, target.path
    return None


def children(files: list[ArtifactInfo], folder: str) -> list[tuple[str, bool, int | None]]:
    """The entries directly in ``folder`` as (path relative to the root, is_dir, size).

    ``files`` are every file at or under ``folder``; a folder whose path is a file gives
    nothing (MLflow lists a file as empty).
    """
    base = folder.strip("/")
    prefix = f"{base}/" if base else ""
    seen: dict[str, tuple[str, bool, int | None]] = {}
    for f in files:
        if not f.path.startswith(prefix) or f.path == base:
            continue
        head, sep, _ = f.path[len(prefix) :].partition("/")
        full = prefix + head
        if sep:
            seen.setdefault(full, (full, True, None))
        else:
            seen[full] = (full, False, f.size)
    return [seen[k] for k in sorted(seen)]

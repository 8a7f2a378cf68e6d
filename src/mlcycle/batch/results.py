"""What a batch job reports: the model it used and what it did (no pandas, no pyarrow).

>>> identity = ModelIdentity(uri="models:/churn/3", digest="ab12", name="churn", version=3)
>>> identity.metadata()["mlcycle.model_uri"]
'models:/churn/3'
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlcycle.models.loaded import LoadedModel

DEFAULT_CHUNK_ROWS = 100_000
METADATA_PREFIX = "mlcycle."

#: ``progress(rows_done, rows_total)``; ``rows_total`` is None when unknown (CSV).
Progress = Callable[[int, int | None], None]


@dataclass(frozen=True, kw_only=True)
class ModelIdentity:
    """Which model a job predicts with: recorded in the output's metadata, the optional
    model columns, and the resume manifest (``digest`` covers the model's files)."""

    uri: str
    digest: str
    name: str | None = None
    version: int | None = None
    run_id: str | None = None

    @classmethod
    def of(
        cls,
        model: LoadedModel,
        *,
        uri: str | None = None,
        name: str | None = None,
        version: int | None = None,
    ) -> ModelIdentity:
        """The identity of a loaded model (its files are hashed once)."""
        return cls(
            uri=uri or model.uri or str(model.path),
            digest=directory_digest(model.path),
            name=name,
            version=version,
            run_id=model.manifest.run_id,
        )

    def metadata(self) -> dict[str, str]:
        """The output file's key-value metadata naming the model."""
        values = {
            "model_uri": self.uri,
            "model_name": self.name,
            "model_version": None if self.version is None else str(self.version),
            "model_run_id": self.run_id,
            "model_digest": self.digest,
        }
        return {f"{METADATA_PREFIX}{k}": v for k, v in values.items() if v is not None}


@dataclass(frozen=True, kw_only=True)
class BatchResult:
    """What a batch job did. ``resumed_chunks`` were finished by an earlier run;
    ``uses_numpy`` says whether chunks reached the model as NumPy arrays (no pandas).

    >>> result = mlcycle.batch.predict("models:/churn/3", "in.pq", "out.pq")  # doctest: +SKIP
    >>> result.rows, result.computed_chunks, result.resumed_chunks  # doctest: +SKIP
    (1000000, 10, 0)
    """

    output: Path | str
    rows: int
    chunks: int
    computed_chunks: int
    resumed_chunks: int
    model: ModelIdentity
    columns: tuple[str, ...]
    seconds: float
    uses_numpy: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": str(self.output),
            "rows": self.rows,
            "chunks": self.chunks,
            "computed_chunks": self.computed_chunks,
            "resumed_chunks": self.resumed_chunks,
            "model_uri": self.model.uri,
            "model_name": self.model.name,
            "model_version": self.model.version,
            "columns": list(self.columns),
            "seconds": round(self.seconds, 3),
        }


def directory_digest(path: Path) -> str:
    """SHA-256 over the relative paths and bytes of every file under ``path``."""
    digest = hashlib.sha256()
    root = Path(path)
    files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
    for file in files:
        digest.update(str(file.relative_to(root) if root.is_dir() else file.name).encode())
        digest.update(b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()

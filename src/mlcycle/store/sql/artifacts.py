"""The index of a run's artifacts (path, size, sha256); the bytes live in an artifact store."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select

from mlcycle.entities import ArtifactInfo
from mlcycle.store.sql.engine import Database
from mlcycle.store.sql.runs import not_found
from mlcycle.store.sql.schema import ARTIFACTS, ArtifactRow, RunRow


class SqlArtifactIndex:
    """Records which files a run stored, so listing never walks a (remote) file system."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, run_id: str, files: Sequence[ArtifactInfo], at: int) -> None:
        """Add or replace the records of ``files`` (paths relative to the run's root)."""
        if not files:
            return
        with self._db.write() as conn:
            if conn.scalar(select(RunRow.id).where(RunRow.id == run_id)) is None:
                raise not_found(run_id)
            paths = [f.path for f in files]
            conn.execute(
                delete(ArtifactRow).where(ArtifactRow.run_id == run_id, ArtifactRow.path.in_(paths))
            )
            conn.execute(
                insert(ARTIFACTS),
                [
                    {
                        "run_id": run_id,
                        "path": f.path,
                        "size": f.size or 0,
                        "sha256": f.sha256 or "",
                        "created_at": at,
                    }
                    for f in files
                ],
            )

    def list(self, run_id: str) -> list[ArtifactInfo]:
        """Every file of the run, sorted by path."""
        with self._db.read() as conn:
            rows = list(
                conn.execute(
                    select(ArtifactRow.path, ArtifactRow.size, ArtifactRow.sha256)
                    .where(ArtifactRow.run_id == run_id)
                    .order_by(ArtifactRow.path)
                )
            )
            if not rows and conn.scalar(select(RunRow.id).where(RunRow.id == run_id)) is None:
                raise not_found(run_id)
        return [ArtifactInfo(path=p, is_dir=False, size=s, sha256=h) for p, s, h in rows]

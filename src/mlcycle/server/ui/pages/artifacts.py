"""A run's artifacts: a tree with sizes, capped previews (CSV and Parquet heads, images,
text, JSON, HTML in a sandboxed frame) and a direct download of every file."""

from __future__ import annotations

import contextlib
import csv
import json
import mimetypes
import posixpath
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from mlcycle.entities import ArtifactInfo
from mlcycle.errors import ArtifactNotFoundError, InvalidInputError
from mlcycle.server.ui.deps import Services, UiServices
from mlcycle.server.ui.render import page
from mlcycle.server.ui.routing import HtmlRoute

router = APIRouter(route_class=HtmlRoute, include_in_schema=False)

TEXT_CAP = 64 * 1024  # bytes of text, JSON or CSV read for a preview
HEAD_ROWS = 50
IMAGE_CAP = 20 * 1024 * 1024
_TEXT = {
    ".txt",
    ".log",
    ".md",
    ".yaml",
    ".yml",
    ".py",
    ".toml",
    ".cfg",
    ".ini",
    ".sh",
    ".json",
    ".csv",
    ".tsv",
    ".jsonl",
}
_IMAGES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}


def children(files: list[ArtifactInfo], folder: str) -> list[ArtifactInfo]:
    """The entries directly in ``folder`` ("" for the root): its files, and its sub-folders
    with the total size of what they hold; folders first."""
    prefix = folder.strip("/") + "/" if folder.strip("/") else ""
    folders: dict[str, int] = {}
    found: list[ArtifactInfo] = []
    for f in files:
        if not f.path.startswith(prefix):
            continue
        head, slash, _ = f.path[len(prefix) :].partition("/")
        if slash:
            folders[prefix + head] = folders.get(prefix + head, 0) + (f.size or 0)
        else:
            found.append(f)
    dirs = [ArtifactInfo(path=p, is_dir=True, size=n) for p, n in sorted(folders.items())]
    return dirs + sorted(found, key=lambda f: f.path)


def _entry(ui: UiServices, run_id: str, path: str) -> ArtifactInfo | None:
    """The file or folder at ``path`` (None for the root)."""
    clean = path.strip("/")
    if not clean:
        return None
    if ".." in clean.split("/"):
        raise InvalidInputError("an artifact path may not contain '..'", field="path")
    files = ui.tracking.list_artifacts(run_id, clean)
    for item in files:
        if item.path == clean:
            return item
    if files:
        return ArtifactInfo(path=clean, is_dir=True, size=sum(f.size or 0 for f in files))
    raise ArtifactNotFoundError(f"run {run_id} has no artifact {clean!r}")


def _read(ui: UiServices, run_id: str, path: str, cap: int) -> tuple[bytes, bool]:
    with ui.tracking.open_artifact(run_id, path) as f:
        data = f.read(cap + 1)
    return data[:cap], len(data) > cap


def preview(ui: UiServices, run_id: str, item: ArtifactInfo) -> dict[str, Any]:
    """What the page shows for a file: its kind and a capped body."""
    ext = posixpath.splitext(item.path)[1].lower()
    if ext in (".html", ".htm"):
        return {"kind": "html"}
    if ext in _IMAGES:
        return {"kind": "image"} if (item.size or 0) <= IMAGE_CAP else {"kind": "none"}
    if ext == ".parquet":
        import pyarrow.parquet as pq  # on first use: the server starts without pyarrow

        with ui.tracking.open_artifact(run_id, item.path) as f:
            parquet = pq.ParquetFile(f)
            batch = next(parquet.iter_batches(batch_size=HEAD_ROWS), None)
            total = parquet.metadata.num_rows
        rows = batch.to_pylist() if batch is not None else []
        header = batch.schema.names if batch is not None else []
        return {
            "kind": "table",
            "header": header,
            "rows": [[r[h] for h in header] for r in rows],
            "total": total,
        }
    if ext in _TEXT or (item.size or 0) <= TEXT_CAP:
        data, cut = _read(ui, run_id, item.path, TEXT_CAP)
        text = data.decode("utf-8", errors="replace")
        if "\x00" in text[:1024]:
            return {"kind": "none"}
        if ext in (".csv", ".tsv"):
            lines = text.splitlines()[: HEAD_ROWS + 1]
            parsed = list(csv.reader(lines, delimiter="\t" if ext == ".tsv" else ","))
            if parsed:
                return {
                    "kind": "table",
                    "header": parsed[0],
                    "rows": parsed[1:],
                    "total": None,
                    "cut": cut,
                }
        if ext == ".json" and not cut:
            with contextlib.suppress(ValueError):
                text = json.dumps(json.loads(text), indent=2)[:TEXT_CAP]
        return {"kind": "text", "text": text, "cut": cut}
    return {"kind": "none"}


@router.get("/runs/{run_id}/artifacts")
def artifacts_page(request: Request, ui: Services, run_id: str, path: str = "") -> HTMLResponse:
    """A folder's listing, or one file's preview."""
    run = ui.tracking.get_run(run_id)
    item = _entry(ui, run_id, path)
    listing = None
    shown = None
    if item is None or item.is_dir:
        folder = item.path if item else ""
        listing = children(ui.tracking.list_artifacts(run_id, folder or None), folder)
    else:
        shown = preview(ui, run_id, item)
    crumbs = []
    parts = path.strip("/").split("/") if path.strip("/") else []
    for i, part in enumerate(parts):
        crumbs.append((part, "/".join(parts[: i + 1])))
    return page(
        request,
        "artifacts.html",
        title=f"Artifacts of {run.name}",
        run=run,
        item=item,
        listing=listing,
        shown=shown,
        crumbs=crumbs,
        cap=TEXT_CAP,
    )


@router.get("/runs/{run_id}/artifact-file")
def artifact_file(
    ui: Services, run_id: str, path: str, download: bool = False
) -> StreamingResponse:
    """The file itself, streamed. HTML is served with a sandbox policy, so it runs with no
    access to the UI's origin even when opened directly."""
    item = _entry(ui, run_id, path)
    if item is None or item.is_dir:
        raise InvalidInputError(f"{path!r} is a folder, not a file", field="path")
    kind = mimetypes.guess_type(item.path)[0] or "application/octet-stream"
    name = posixpath.basename(item.path)
    headers = {
        "Content-Security-Policy": "sandbox",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'{"attachment" if download else "inline"}; filename="{name}"',
    }
    if item.size is not None:
        headers["Content-Length"] = str(item.size)

    def chunks() -> Iterator[bytes]:
        with ui.tracking.open_artifact(run_id, item.path) as f:
            while block := f.read(1 << 20):
                yield block

    return StreamingResponse(chunks(), media_type=kind, headers=headers)

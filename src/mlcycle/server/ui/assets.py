"""The UI's static files: our own scripts and styles, and the vendored third-party ones
(uPlot, Swagger UI) listed with their versions, licenses and SHA-256 in
``static/vendor/MANIFEST.json``. Nothing is fetched from a CDN; ``verify_vendored`` checks
the pinned hashes (a test runs it)."""

from __future__ import annotations

import hashlib
import json
import mimetypes
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from mlcycle import __version__
from mlcycle.errors import NotFoundError

STATIC = Path(__file__).parent / "static"
VENDOR = STATIC / "vendor"
PREFIX = "/ui/static/"
_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".txt": "text/plain",
    ".json": "application/json",
}

router = APIRouter(include_in_schema=False)


def url(path: str) -> str:
    """The URL of a static file, versioned so a new release is never served from cache."""
    return f"{PREFIX}{path}?v={__version__}"


def manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VENDOR / "MANIFEST.json").read_text())
    return data


def verify_vendored() -> list[str]:
    """The vendored files whose SHA-256 differs from the manifest's (empty: all good),
    and the files present but not pinned."""
    pinned: dict[str, str] = manifest()["sha256"]
    problems = []
    for name, digest in sorted(pinned.items()):
        path = VENDOR / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(f"{name}: sha256 differs from MANIFEST.json")
    for path in sorted(VENDOR.iterdir()):
        if path.name != "MANIFEST.json" and path.name not in pinned:
            problems.append(f"{path.name}: not pinned in MANIFEST.json")
    return problems


def _file(path: str) -> Path:
    target = (STATIC / path).resolve()
    if not target.is_relative_to(STATIC.resolve()) or not target.is_file():
        raise NotFoundError(f"no static file {path!r}")
    return target


@router.get(PREFIX + "{path:path}")
def static_file(path: str) -> Response:
    """A static file of the UI (cached for a day; URLs carry the version)."""
    target = _file(path)
    kind = (
        _TYPES.get(target.suffix)
        or mimetypes.guess_type(target.name)[0]
        or "application/octet-stream"
    )
    return Response(
        target.read_bytes(),
        media_type=kind,
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
